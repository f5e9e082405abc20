package synth

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge/match"
)

// handSet is four persons: 0 with accounts 0, 1, 2; 1 with 3, 4; 2 with 5;
// 3 with 6. Its true pairs are 0-1, 0-2, 1-2 and 3-4.
func handSet() *Set {
	s := &Set{person: []int32{0, 0, 0, 1, 1, 2, 3}, Persons: 4}
	for k := range s.person {
		s.Records = append(s.Records, match.Record{ID: ID(k)})
	}
	return s
}

func suggestion(g match.Grade, ks ...int) match.Suggestion {
	sg := match.Suggestion{Grade: g}
	for _, k := range ks {
		sg.Accounts = append(sg.Accounts, ID(k))
	}
	return sg
}

func TestEvaluate(t *testing.T) {
	s := handSet()
	s.Records = nil // no records: no blocking recall
	res := match.Result{
		Stats: match.Stats{PairsCompared: 12},
		Suggestions: []match.Suggestion{
			suggestion(match.GradeCertain, 0, 1, 2),  // 3 pairs, all true
			suggestion(match.GradeProbable, 3, 5),    // 1 pair, false
			suggestion(match.GradePossible, 4, 6, 3), // 3 pairs, 3-4 true
		},
	}
	got := Evaluate(s, res, match.DefaultRules())
	want := Evaluation{
		Accounts: 7, Persons: 4, TruePairs: 4, BlockedTruePairs: -1, BlockingRecall: -1, PairsCompared: 12,
		Suggestions: map[match.Grade]int{match.GradeCertain: 1, match.GradeProbable: 1, match.GradePossible: 1},
		Grades: []GradeQuality{
			{Grades: "certain", Pairs: 3, TruePositives: 3, Precision: 1, Recall: 0.75},
			{Grades: "certain+probable", Pairs: 4, TruePositives: 3, Precision: 0.75, Recall: 0.75},
			{Grades: "all", Pairs: 7, TruePositives: 4, Precision: 4.0 / 7, Recall: 1},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Evaluate (-want +got):\n%s", d)
	}
}

func TestEvaluateNothingFound(t *testing.T) {
	got := Evaluate(handSet(), match.Result{}, match.DefaultRules())
	for _, q := range got.Grades {
		if q.Pairs != 0 || q.Precision != 0 || q.Recall != 0 {
			t.Errorf("%s without suggestions: %+v", q.Grades, q)
		}
	}
	if got.BlockingRecall < 0 {
		t.Error("the blocking recall was not measured although the records are at hand")
	}
	// an account the set does not know is never a true pair
	res := match.Result{Suggestions: []match.Suggestion{{Grade: match.GradeCertain, Accounts: []string{ID(0), "stranger"}}}}
	if q := Evaluate(handSet(), res, match.DefaultRules()).Grades[0]; q.Pairs != 1 || q.TruePositives != 0 {
		t.Errorf("a suggestion with an unknown account: %+v", q)
	}
}

func TestBlockedTruePairs(t *testing.T) {
	s := handSet()
	// accounts 0 and 2 share a key, 1 shares none; 3 and 4 share one
	keys := map[string][]string{
		ID(0): {"a", "x"}, ID(1): {"b"}, ID(2): {"x"}, ID(3): {"y", "z"}, ID(4): {"z"}, ID(5): {"a"}, ID(6): {"a"},
	}
	got := blockedTruePairs(s, func(r match.Record) []string { return keys[r.ID] })
	if got != 2 { // 0-2 and 3-4; 5 and 6 share a key but are two persons
		t.Errorf("blocked true pairs %d, want 2", got)
	}
}

func TestFindMistakes(t *testing.T) {
	s := handSet()
	res := match.Result{Suggestions: []match.Suggestion{
		suggestion(match.GradeCertain, 0, 1),
		suggestion(match.GradeProbable, 3, 5),
	}}
	m := FindMistakes(s, res, 10)
	if len(m.False) != 1 || m.False[0][0].ID != ID(3) || m.False[0][1].ID != ID(5) {
		t.Errorf("false pairs %+v", m.False)
	}
	if len(m.Missed) != 3 { // 0-2, 1-2, 3-4
		t.Errorf("missed pairs %+v", m.Missed)
	}
	if m := FindMistakes(s, res, 10, match.GradeCertain); len(m.False) != 0 || len(m.Missed) != 3 {
		t.Errorf("certain only: %d false, %d missed", len(m.False), len(m.Missed))
	}
}

// TestFindEvaluates runs the in-memory path end to end; the quality
// targets are the bench's to measure, not a test's to assert.
func TestFindEvaluates(t *testing.T) {
	s := Generate(Config{Accounts: 2000, Seed: 2})
	res, err := Find(t.Context(), s, match.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	e := Evaluate(s, res, match.DefaultRules())
	if e.Accounts != 2000 || e.TruePairs == 0 || len(e.Grades) != 3 || e.BlockingRecall < 0 || e.BlockingRecall > 1 {
		t.Errorf("evaluation %+v", e)
	}
	for _, q := range e.Grades {
		if q.Precision < 0 || q.Precision > 1 || q.Recall < 0 || q.Recall > 1 || q.TruePositives > q.Pairs {
			t.Errorf("%s: %+v", q.Grades, q)
		}
	}
}
