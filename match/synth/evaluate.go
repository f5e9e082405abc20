package synth

import (
	"context"

	"usermerge/match"
)

// Evaluation is how well a finder's result recovers a set's truth, pair by
// pair: a suggestion of N accounts stands for its N(N-1)/2 pairs.
type Evaluation struct {
	Accounts  int   `json:"accounts"`
	Persons   int   `json:"persons"`
	TruePairs int64 `json:"true_pairs"`
	// BlockedTruePairs are the true pairs that share at least one blocking
	// key (match.BlockingKeys); BlockingRecall is their share of
	// TruePairs. Both are -1 when the set's records were not at hand.
	BlockedTruePairs int64   `json:"blocked_true_pairs"`
	BlockingRecall   float64 `json:"blocking_recall"`
	PairsCompared    int64   `json:"pairs_compared"`
	// Suggestions per grade.
	Suggestions map[match.Grade]int `json:"suggestions"`
	// Quality for the suggestions of the grade certain, of certain and
	// probable, and of every grade, in that order.
	Grades []GradeQuality `json:"grades"`
}

// GradeQuality is the pairwise precision and recall of the suggestions of
// some grades.
type GradeQuality struct {
	Grades string `json:"grades"` // "certain", "certain+probable", "all"
	// Pairs the suggestions stand for, and how many of them are one
	// person.
	Pairs         int64   `json:"pairs"`
	TruePositives int64   `json:"true_positives"`
	Precision     float64 `json:"precision"` // TruePositives / Pairs, 0 when Pairs is 0
	Recall        float64 `json:"recall"`    // TruePositives / the set's TruePairs
}

// Evaluate scores result against s's truth. rules give the blocking keys
// of the blocking recall, which needs s.Records (else it is -1).
func Evaluate(s *Set, result match.Result, rules match.Rules) Evaluation {
	e := Evaluation{
		Accounts:         s.Accounts(),
		Persons:          s.Persons,
		TruePairs:        s.TruePairs(),
		BlockedTruePairs: -1,
		BlockingRecall:   -1,
		PairsCompared:    result.Stats.PairsCompared,
		Suggestions:      map[match.Grade]int{},
	}
	if s.Records != nil {
		e.BlockedTruePairs = BlockedTruePairs(s, rules)
		e.BlockingRecall = ratio(e.BlockedTruePairs, e.TruePairs)
	}
	levels := []struct {
		name   string
		grades []match.Grade
	}{
		{"certain", []match.Grade{match.GradeCertain}},
		{"certain+probable", []match.Grade{match.GradeCertain, match.GradeProbable}},
		{"all", []match.Grade{match.GradeCertain, match.GradeProbable, match.GradePossible}},
	}
	var pairs, tp [3]int64
	for _, sg := range result.Suggestions {
		e.Suggestions[sg.Grade]++
		n := int64(len(sg.Accounts))
		var t int64
		for i := range sg.Accounts {
			for j := i + 1; j < len(sg.Accounts); j++ {
				if s.SamePerson(sg.Accounts[i], sg.Accounts[j]) {
					t++
				}
			}
		}
		for l, lv := range levels {
			for _, g := range lv.grades {
				if sg.Grade == g {
					pairs[l] += n * (n - 1) / 2
					tp[l] += t
				}
			}
		}
	}
	for l, lv := range levels {
		e.Grades = append(e.Grades, GradeQuality{
			Grades: lv.name, Pairs: pairs[l], TruePositives: tp[l],
			Precision: ratio(tp[l], pairs[l]), Recall: ratio(tp[l], e.TruePairs),
		})
	}
	return e
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// BlockedTruePairs counts the true pairs of s whose records share at least
// one of match.BlockingKeys under rules: the pairs a finder that blocks so
// can find at all.
func BlockedTruePairs(s *Set, rules match.Rules) int64 {
	return blockedTruePairs(s, func(r match.Record) []string { return match.BlockingKeys(r, rules) })
}

func blockedTruePairs(s *Set, keys func(match.Record) []string) int64 {
	var n int64
	for _, pair := range s.keyedGroups(keys) {
		for i := range pair {
			for j := i + 1; j < len(pair); j++ {
				if shareKey(pair[i], pair[j]) {
					n++
				}
			}
		}
	}
	return n
}

// keyedGroups answers, per person with several accounts, each account's
// blocking keys.
func (s *Set) keyedGroups(keys func(match.Record) []string) map[int32][][]string {
	count := map[int32]int{}
	for _, p := range s.person {
		count[p]++
	}
	out := map[int32][][]string{}
	for _, r := range s.Records {
		k, ok := accountNumber(r.ID)
		if !ok || k >= len(s.person) {
			continue
		}
		p := s.person[k]
		if count[p] < 2 {
			continue
		}
		out[p] = append(out[p], keys(r))
	}
	return out
}

func shareKey(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// Mistakes are examples of what a result got wrong: pairs it suggests that
// are two persons, and true pairs it does not suggest at all.
type Mistakes struct {
	False  [][2]match.Record
	Missed [][2]match.Record
}

// FindMistakes answers up to n examples of each kind of mistake of the
// suggestions of grades (every grade when none), for tuning a finder.
func FindMistakes(s *Set, result match.Result, n int, grades ...match.Grade) Mistakes {
	byID := make(map[string]*match.Record, len(s.Records))
	for i := range s.Records {
		byID[s.Records[i].ID] = &s.Records[i]
	}
	counted := func(g match.Grade) bool {
		if len(grades) == 0 {
			return true
		}
		for _, x := range grades {
			if x == g {
				return true
			}
		}
		return false
	}
	var m Mistakes
	suggested := map[[2]string]bool{}
	for _, sg := range result.Suggestions {
		if !counted(sg.Grade) {
			continue
		}
		for i := range sg.Accounts {
			for j := i + 1; j < len(sg.Accounts); j++ {
				a, b := sg.Accounts[i], sg.Accounts[j]
				suggested[[2]string{a, b}], suggested[[2]string{b, a}] = true, true
				ra, rb := byID[a], byID[b]
				if !s.SamePerson(a, b) && len(m.False) < n && ra != nil && rb != nil {
					m.False = append(m.False, [2]match.Record{*ra, *rb})
				}
			}
		}
	}
	byPerson := map[int32][]*match.Record{}
	for i := range s.Records {
		k, _ := accountNumber(s.Records[i].ID)
		if k < len(s.person) {
			byPerson[s.person[k]] = append(byPerson[s.person[k]], &s.Records[i])
		}
	}
	for k := 0; k < len(s.person) && len(m.Missed) < n; k++ {
		if k > 0 && s.person[k] == s.person[k-1] {
			continue // each person once, at their first account
		}
		rs := byPerson[s.person[k]]
		for i := range rs {
			for j := i + 1; j < len(rs) && len(m.Missed) < n; j++ {
				if !suggested[[2]string{rs[i].ID, rs[j].ID}] {
					m.Missed = append(m.Missed, [2]match.Record{*rs[i], *rs[j]})
				}
			}
		}
	}
	return m
}

// Find runs match.Finder over every record of s: the in-memory path, with
// no database, for tuning the finder against the truth.
func Find(ctx context.Context, s *Set, rules match.Rules) (match.Result, error) {
	f := match.NewFinder(rules)
	for _, r := range s.Records {
		f.Add(r)
	}
	return f.Run(ctx, nil)
}
