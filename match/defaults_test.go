package match

import (
	"math"
	"testing"
)

// TestDefaultParams: the defaults cover every level of every field the
// rules compare (so no level weighs 0 by accident), m sums to 1 per field,
// and they grade as a reader of the table in docs/matching.md expects.
func TestDefaultParams(t *testing.T) {
	rules := DefaultRules()
	p := DefaultParams(rules)
	for f := range fields {
		levels := p.Fields[fields[f].name]
		if len(levels) != len(fields[f].levels)-1 {
			t.Errorf("%s: %d default levels, want %d", fields[f].name, len(levels), len(fields[f].levels)-1)
		}
		sum := 0.0
		for _, l := range fields[f].levels[1:] {
			mu, ok := levels[l]
			if !ok || mu.M <= 0 || mu.U <= 0 {
				t.Errorf("%s.%s: no default m and u (%+v)", fields[f].name, l, mu)
			}
			sum += mu.M
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: default m sums to %v, want 1", fields[f].name, sum)
		}
	}
	// A field the rules leave out has no parameters.
	if q := DefaultParams(Rules{Fields: []string{FieldName}}); len(q.Fields) != 1 {
		t.Errorf("name only: %d fields", len(q.Fields))
	}
	sso := func(v string) Record {
		return Record{ID: v + "x", ExternalIDs: []ExternalID{{System: "sso", Value: v}}}
	}
	cases := []struct {
		name string
		a, b Record
		want Grade
	}{
		{"the same SSO ID alone", sso("u-1"), Record{ID: "b", Name: "Ann Lee", ExternalIDs: []ExternalID{{System: "sso", Value: "u-1"}}}, GradeProbable},
		{"another SSO ID alone", sso("u-1"), Record{ID: "b", Name: "Ann Lee", ExternalIDs: []ExternalID{{System: "sso", Value: "u-2"}}}, ""},
		{"name, birth date and employee number", Record{ID: "a", Name: "Siobhan O'Brien", BirthDate: "1990-07-01", EmployeeNumber: "E-4471"},
			Record{ID: "b", Name: "Siobhan OBrien", BirthDate: "1990-07-01", EmployeeNumber: "E-4471"}, GradeCertain},
		{"namesakes born on other days", Record{ID: "a", Name: "John Smith", BirthDate: "1990-07-01"},
			Record{ID: "b", Name: "John Smith", BirthDate: "1971-02-11"}, ""},
	}
	for _, c := range cases {
		pr := Score(p, rules, c.a, c.b)
		if got := rules.PairGrade(pr); got != c.want {
			t.Errorf("%s: grade %q (probability %.4f), want %q", c.name, got, pr.Probability, c.want)
		}
	}
}
