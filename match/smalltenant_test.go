package match_test

import (
	"context"
	"math"
	"testing"

	"usermerge/match"
	"usermerge/match/synth"
)

// TestSmallTenantFit: on a tenant of 300 accounts (too few candidate
// pairs for EM alone) the fit keeps the fuzzy name levels' u at least at
// their default, so that a Jaro-Winkler agreement alone is no certain
// match, and still grades a pair agreeing on name, birth date and
// employee number certain.
func TestSmallTenantFit(t *testing.T) {
	s := synth.Generate(synth.Config{Accounts: 300, Seed: 1})
	rules := match.DefaultRules()
	f := match.NewFinder(rules)
	for _, r := range s.Records {
		f.Add(r)
	}
	res, err := f.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	def := match.DefaultParams(rules).Fields[match.FieldName]
	for _, l := range []string{"jw92", "jw88", "close"} {
		got := res.Params.Fields[match.FieldName][l]
		if got.U < def[l].U {
			t.Errorf("name %s: u %.3g below the default %.3g", l, got.U, def[l].U)
		}
		if w := math.Log2(got.M / got.U); w > 8 {
			t.Errorf("name %s weighs %.1f bits on a small tenant", l, w)
		}
	}
	// Two people, first names alike (Jaro-Winkler ≥ 0.92), nothing else
	// shared.
	a := match.Record{ID: "a", Name: "Cian Ryan", Email: "cian.ryan@globex.test"}
	b := match.Record{ID: "b", Name: "Ciarán Ryan", Email: "ciaran.ryan@globex.test"}
	if g := rules.PairGrade(match.Score(res.Params, rules, a, b)); g == match.GradeCertain {
		t.Errorf("Cian Ryan and Ciarán Ryan graded certain")
	}
	a.BirthDate, b.BirthDate = "1980-02-03", "1980-02-03"
	a.EmployeeNumber, b.EmployeeNumber = "E-77", "E-77"
	b.Name = "Cian Ryan"
	if pr := match.Score(res.Params, rules, a, b); rules.PairGrade(pr) != match.GradeCertain {
		t.Errorf("same name, birth date and employee number: %.4f, want certain", pr.Probability)
	}
}
