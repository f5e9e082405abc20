package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
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
	// heapProfile, when not empty, is the file of a heap profile written
	// each time the heap grew by a quarter since the last one, so that it
	// shows the largest heap (profileErr: the first write that failed).
	heapProfile string
	profileErr  error
}

// startCPUProfile writes a CPU profile to path until the answered stop.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// writeHeapProfile writes the heap profile (as of the latest collection)
// to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("bench: heap profile: %w", err)
	}
	return f.Close()
}

// startMemory gives freed memory back to the operating system (the Go
// heap, and the C heap where SQLite allocates: loading leaves it large but
// mostly free), resets the peak resident set (Linux: /proc/self/clear_refs)
// and samples the Go heap until stop.
func startMemory(heapProfile string) *memory {
	runtime.GC()
	debug.FreeOSMemory()
	trimCHeap()
	mm := &memory{done: make(chan struct{}), heapProfile: heapProfile}
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
		var profiled int64
		for tick := 0; ; tick++ {
			if mm.m.Supported && tick%10 == 0 {
				mm.m.PeakAnon = max(mm.m.PeakAnon, procStatus("RssAnon"))
			}
			metrics.Read(sample)
			heap := int64(sample[0].Value.Uint64())
			mm.m.PeakHeap = max(mm.m.PeakHeap, heap)
			if mm.heapProfile != "" && mm.profileErr == nil && heap > profiled+profiled/4+16<<20 {
				profiled = heap
				mm.profileErr = writeHeapProfile(mm.heapProfile)
			}
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
		mm.m.PeakAnon = max(mm.m.PeakAnon, procStatus("RssAnon"))
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
