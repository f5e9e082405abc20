package match_test

import (
	"context"
	"flag"
	"runtime"
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
	t.Logf("add %v, run total %v, phases %v", added, time.Since(start), phases)
	t.Logf("stats %+v suggestions %d, iterations %d converged %v", res.Stats, len(res.Suggestions), res.Params.Iterations, res.Params.Converged)
	t.Logf("heap in use after run %d MiB, total alloc %d MiB, sys %d MiB", (m1.HeapInuse-m0.HeapInuse)>>20, (m1.TotalAlloc-m0.TotalAlloc)>>20, m1.Sys>>20)
}
