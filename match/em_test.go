package match_test

import (
	"context"
	"math"
	"testing"

	"usermerge/match"
	"usermerge/match/synth"
)

// TestEMRecoversGeneratorTruth fits a generated tenant and compares EM's m
// with the shares of the levels among the tenant's true pairs, and its
// prior with the true pairs' share of the compared pairs: EM sees no
// truth, so agreement means it found the matches' class.
func TestEMRecoversGeneratorTruth(t *testing.T) {
	s := synth.Generate(synth.Config{Accounts: 10000, Seed: 7})
	rules := match.DefaultRules()
	res, err := synth.Find(context.Background(), s, rules)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Params
	if !p.Converged || p.Iterations < 2 || p.Iterations >= match.EMMaxIterations {
		t.Fatalf("EM: %d iterations, converged %v", p.Iterations, p.Converged)
	}
	// The levels of the true pairs, counted with the fitted scorer's
	// comparisons.
	counts := map[string]map[string]float64{}
	byPerson := map[int][]int{}
	for i, r := range s.Records {
		k, _ := s.Person(r.ID)
		byPerson[k] = append(byPerson[k], i)
	}
	for _, is := range byPerson {
		for x := range is {
			for y := x + 1; y < len(is); y++ {
				pr := match.Score(p, rules, s.Records[is[x]], s.Records[is[y]])
				for _, e := range pr.Evidence {
					if e.Outcome == "missing" {
						continue
					}
					if counts[e.Field] == nil {
						counts[e.Field] = map[string]float64{}
					}
					counts[e.Field][e.Level]++
				}
			}
		}
	}
	for _, c := range []struct{ field, level string }{
		{match.FieldBirthDate, "exact"}, {match.FieldEmail, "exact"}, {match.FieldPostcode, "exact"},
		{match.FieldName, "exact"}, {match.FieldName, "jw92"}, {match.FieldSignIn, "same_address"},
		{match.FieldEmployeeNumber, "exact"}, {match.FieldGroups, "shared"},
	} {
		total := 0.0
		for _, n := range counts[c.field] {
			total += n
		}
		truth := counts[c.field][c.level] / total
		got := p.Fields[c.field][c.level].M
		t.Logf("%s %s: m %.3f, truth %.3f", c.field, c.level, got, truth)
		if math.Abs(got-truth) > 0.05 {
			t.Errorf("%s %s: EM's m %.3f, the true pairs' share %.3f", c.field, c.level, got, truth)
		}
	}
	truePrior := float64(s.TruePairs()) / float64(res.Stats.PairsCompared)
	t.Logf("prior %.4f, truth about %.4f", p.Prior, truePrior)
	if p.Prior < truePrior/1.5 || p.Prior > truePrior*1.5 {
		t.Errorf("EM's prior %.4f, the true pairs' share of compared pairs %.4f", p.Prior, truePrior)
	}
}

// BenchmarkFinderRun100k is Add and Run over 100,000 generated accounts.
func BenchmarkFinderRun100k(b *testing.B) {
	s := synth.Generate(synth.Config{Accounts: 100000, Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		f := match.NewFinder(match.DefaultRules())
		for _, r := range s.Records {
			f.Add(r)
		}
		if _, err := f.Run(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
