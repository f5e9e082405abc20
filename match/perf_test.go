package match_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"usermerge/match"
	"usermerge/match/synth"
)

var perfAccounts = flag.Int("perf.accounts", 0, "accounts for TestPerf (0 skips it)")

// TestPerf times one run over a generated set and reports the heap; it
// asserts nothing (run with -perf.accounts=1000000).
func TestPerf(t *testing.T) {
	if *perfAccounts == 0 {
		t.Skip("set -perf.accounts")
	}
	s := synth.Generate(synth.Config{Accounts: *perfAccounts, Seed: 1})
	runtime.GC()
	var r0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	f := match.NewFinder(match.DefaultRules())
	for _, r := range s.Records {
		f.Add(r)
	}
	added := time.Since(start)
	var phases []string
	last := time.Now()
	phase := ""
	res, err := f.Run(context.Background(), func(p match.Progress) {
		if p.Phase != phase {
			phases = append(phases, phase+" "+time.Since(last).String())
			phase, last = p.Phase, time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	phases = append(phases, phase+" "+time.Since(last).String())
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(f)
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	t.Logf("live heap of the finder and its result after a GC %d MiB", (int64(live.HeapAlloc)-int64(m0.HeapAlloc))>>20)
	runtime.KeepAlive(f)
	var r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := func(r *syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	t.Logf("cpu %v (user+system, the finder's run only), peak RSS of the process %d MiB (with the generated set)", cpu(&r1)-cpu(&r0), r1.Maxrss>>10)
	t.Logf("add %v, run total %v, phases %v", added, time.Since(start), phases)
	t.Logf("stats %+v suggestions %d, iterations %d converged %v", res.Stats, len(res.Suggestions), res.Params.Iterations, res.Params.Converged)
	for f, lv := range res.Params.Fields {
		line := f
		for l, mu := range lv {
			line += fmt.Sprintf(" %s:m=%.3g,u=%.3g", l, mu.M, mu.U)
		}
		t.Log(line)
	}
	t.Logf("prior %v", res.Params.Prior)
	t.Logf("heap in use after run %d MiB, total alloc %d MiB, sys %d MiB", (m1.HeapInuse-m0.HeapInuse)>>20, (m1.TotalAlloc-m0.TotalAlloc)>>20, m1.Sys>>20)
}
