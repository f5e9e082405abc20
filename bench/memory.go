package bench

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memory samples the process's memory while a step runs.
type memory struct {
	done chan struct{}
	wg   sync.WaitGroup
	m    Memory
}

// startMemory gives freed memory back to the operating system (the Go
// heap, and the C heap where SQLite allocates: loading leaves it large but
// mostly free), resets the peak resident set (Linux: /proc/self/clear_refs)
// and samples the Go heap until stop.
func startMemory() *memory {
	runtime.GC()
	debug.FreeOSMemory()
	trimCHeap()
	mm := &memory{done: make(chan struct{})}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err == nil {
		mm.m.Supported = true
		mm.m.BaseRSS = procStatus("VmRSS")
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	mm.wg.Add(1)
	go func() {
		defer mm.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mm.m.PeakHeap = max(mm.m.PeakHeap, int64(sample[0].Value.Uint64()))
			select {
			case <-mm.done:
				return
			case <-t.C:
			}
		}
	}()
	return mm
}

func (mm *memory) stop() Memory {
	close(mm.done)
	mm.wg.Wait()
	if mm.m.Supported {
		mm.m.PeakRSS = procStatus("VmHWM")
	}
	return mm.m
}

// procStatus reads a "kB" line of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n * 1024
		}
	}
	return 0
}
