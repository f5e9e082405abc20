package match

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxClusterAccounts bounds a suggestion: a merge takes at most ten sources
// into the account kept.
const MaxClusterAccounts = 11

// keepFacts are what the choice of the account to keep reads.
type keepFacts struct {
	id         string
	notSource  bool
	records    int64
	lastSignIn int64
	filled     int
	active     bool
	created    int64
}

func recordFacts(r *Record) keepFacts {
	return keepFacts{id: r.ID, notSource: r.NotSource, records: r.Records, lastSignIn: r.LastSignIn, filled: filledFields(r), active: r.Active, created: r.Created}
}

// filledFields counts the profile fields of r that hold something: the
// completeness the choice of the account to keep compares.
func filledFields(r *Record) int {
	g, f := recordName(r)
	filled := 0
	for _, s := range [...]string{g, f, r.Email, r.BirthDate, r.Phone, r.EmployeeNumber, r.Postcode} {
		if strings.TrimSpace(s) != "" {
			filled++
		}
	}
	if len(r.ExternalIDs) > 0 {
		filled++
	}
	return filled
}

func recFacts(r *rec) keepFacts {
	return keepFacts{id: r.id, notSource: r.notSource, records: r.records, lastSignIn: r.lastSignIn, filled: int(r.filled), active: r.active, created: r.created}
}

// keepRules are the choice's criteria in order, each with the sentence
// that explains a win by it (winner against runner-up).
var keepRules = []struct {
	cmp    func(a, b *keepFacts) int // < 0: a is the better account to keep
	reason func(a, b *keepFacts) string
}{
	{func(a, b *keepFacts) int { return -cmpBool(a.notSource, b.notSource) },
		func(a, b *keepFacts) string { return "is an administrator's account, which is never merged away" }},
	{func(a, b *keepFacts) int { return cmp.Compare(b.records, a.records) },
		func(a, b *keepFacts) string {
			return fmt.Sprintf("holds the most learning records (%d against %d)", a.records, b.records)
		}},
	{func(a, b *keepFacts) int { return cmp.Compare(b.lastSignIn, a.lastSignIn) },
		func(a, b *keepFacts) string {
			return fmt.Sprintf("signed in most recently (%s against %s)", day(a.lastSignIn, "never"), day(b.lastSignIn, "never"))
		}},
	{func(a, b *keepFacts) int { return cmp.Compare(b.filled, a.filled) },
		func(a, b *keepFacts) string {
			return fmt.Sprintf("has the most profile fields filled (%d against %d)", a.filled, b.filled)
		}},
	{func(a, b *keepFacts) int { return -cmpBool(a.active, b.active) },
		func(a, b *keepFacts) string { return "is active, and the other is not" }},
	{func(a, b *keepFacts) int { return cmp.Compare(createdKey(a.created), createdKey(b.created)) },
		func(a, b *keepFacts) string {
			return fmt.Sprintf("is the oldest account (created %s against %s)", day(a.created, "unknown"), day(b.created, "unknown"))
		}},
	{func(a, b *keepFacts) int { return strings.Compare(a.id, b.id) },
		func(a, b *keepFacts) string {
			return "is as used and as complete as the others, and its id comes first"
		}},
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// createdKey orders creation times oldest first, unknown (0) last.
func createdKey(t int64) int64 {
	if t <= 0 {
		return 1<<63 - 1
	}
	return t
}

func day(t int64, none string) string {
	if t <= 0 {
		return none
	}
	return time.Unix(t, 0).UTC().Format(time.DateOnly)
}

// chooseKeep orders facts best first and answers the reason the first won.
func chooseKeep(fs []keepFacts) (keep string, reason string) {
	if len(fs) == 0 {
		return "", ""
	}
	order := func(a, b *keepFacts) int {
		for _, r := range keepRules {
			if c := r.cmp(a, b); c != 0 {
				return c
			}
		}
		return 0
	}
	slices.SortStableFunc(fs, func(a, b keepFacts) int { return order(&a, &b) })
	if len(fs) == 1 {
		return fs[0].id, "is the only account"
	}
	for _, r := range keepRules {
		if r.cmp(&fs[0], &fs[1]) != 0 {
			return fs[0].id, r.reason(&fs[0], &fs[1])
		}
	}
	return fs[0].id, keepRules[len(keepRules)-1].reason(&fs[0], &fs[1])
}

// ChooseKeep picks the account to keep among one person's records: an
// account that may not be a source (NotSource) first, then the most used
// (learning records), then the most recent sign-in, then the most complete
// (profile fields filled), then an active one, then the oldest, with the
// reason in a sentence an administrator reads ("holds the most learning
// records (412 against 3)").
func ChooseKeep(records []Record) (keep string, reason string) {
	fs := make([]keepFacts, len(records))
	for i := range records {
		fs[i] = recordFacts(&records[i])
	}
	return chooseKeep(fs)
}

// Cluster groups scored pairs into suggestions, one per person, never
// joining a dismissed pair (dismissed reports whether two account ids were
// dismissed) and never making an account that is NotSource a source.
// records answers a pair's accounts' records by id (for the account to
// keep).
//
// Pairs at or above the possible threshold are taken strongest first (ties
// by account ids) and join two clusters unless that would join a dismissed
// pair, put two NotSource accounts together, exceed MaxClusterAccounts, or
// make a cluster of more than two accounts through a link graded below
// probable (Rules.PairGrade), so that a chain of weak links does not glue
// two people together. The suggestion's probability is its weakest
// joining link, its grade that probability's, at most possible when a
// joining pair's names disagree.
func Cluster(pairs []Pair, rules Rules, records func(id string) (Record, bool), dismissed func(a, b string) bool) []Suggestion {
	facts := func(id string) keepFacts {
		if records != nil {
			if r, ok := records(id); ok {
				r.ID = id
				return recordFacts(&r)
			}
		}
		return keepFacts{id: id}
	}
	return cluster(pairs, rules, facts, dismissed)
}

func cluster(pairs []Pair, rules Rules, facts func(id string) keepFacts, dismissed func(a, b string) bool) []Suggestion {
	if dismissed == nil {
		dismissed = func(a, b string) bool { return false }
	}
	edges := make([]int, 0, len(pairs))
	for i := range pairs {
		p := &pairs[i]
		if p.Probability >= rules.Possible && p.A != p.B && !dismissed(p.A, p.B) && !dismissed(p.B, p.A) {
			edges = append(edges, i)
		}
	}
	slices.SortFunc(edges, func(x, y int) int {
		a, b := &pairs[x], &pairs[y]
		if c := cmp.Compare(b.Probability, a.Probability); c != 0 {
			return c
		}
		if c := strings.Compare(a.A, b.A); c != 0 {
			return c
		}
		return strings.Compare(a.B, b.B)
	})

	type node struct {
		parent  int
		members []int // for roots
		weakest float64
		capped  bool // joined through a pair whose names disagree
		admin   int  // NotSource members, for roots
	}
	index := map[string]int{}
	var nodes []node
	var ids []string
	var fs []keepFacts
	get := func(id string) int {
		if i, ok := index[id]; ok {
			return i
		}
		i := len(nodes)
		index[id] = i
		f := facts(id)
		f.id = id
		fs = append(fs, f)
		ids = append(ids, id)
		admin := 0
		if f.notSource {
			admin = 1
		}
		nodes = append(nodes, node{parent: i, members: []int{i}, weakest: 1, admin: admin})
		return i
	}
	var find func(i int) int
	find = func(i int) int {
		for nodes[i].parent != i {
			nodes[i].parent = nodes[nodes[i].parent].parent
			i = nodes[i].parent
		}
		return i
	}
	for _, e := range edges {
		p := &pairs[e]
		x, y := find(get(p.A)), find(get(p.B))
		if x == y {
			continue
		}
		nx, ny := &nodes[x], &nodes[y]
		size := len(nx.members) + len(ny.members)
		if size > MaxClusterAccounts || nx.admin+ny.admin > 1 || (size > 2 && !strong(rules.PairGrade(*p))) {
			continue
		}
		if crossDismissed(nx.members, ny.members, ids, dismissed) {
			continue
		}
		if len(nx.members) < len(ny.members) {
			x, y = y, x
			nx, ny = ny, nx
		}
		ny.parent = x
		nx.members = append(nx.members, ny.members...)
		nx.admin += ny.admin
		nx.weakest = min(nx.weakest, ny.weakest, p.Probability)
		nx.capped = nx.capped || ny.capped || NamesDisagree(*p)
		ny.members = nil
	}

	// Every pair inside a cluster explains it.
	inside := map[int][]int{}
	for _, e := range edges {
		p := &pairs[e]
		x, y := find(index[p.A]), find(index[p.B])
		if x == y {
			inside[x] = append(inside[x], e)
		}
	}
	var out []Suggestion
	for i := range nodes {
		n := &nodes[i]
		if n.parent != i || len(n.members) < 2 {
			continue
		}
		mf := make([]keepFacts, len(n.members))
		for k, m := range n.members {
			mf[k] = fs[m]
		}
		keep, reason := chooseKeep(mf)
		accounts := []string{keep}
		var rest []string
		for _, m := range n.members {
			if ids[m] != keep {
				rest = append(rest, ids[m])
			}
		}
		slices.Sort(rest)
		accounts = append(accounts, rest...)
		grade := rules.Grade(n.weakest)
		if n.capped && grade != "" {
			grade = GradePossible
		}
		s := Suggestion{Accounts: accounts, Keep: keep, KeepReason: reason, Probability: n.weakest, Grade: grade}
		for _, e := range inside[i] {
			s.Pairs = append(s.Pairs, pairs[e])
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		if c := cmp.Compare(b.Probability, a.Probability); c != 0 {
			return c
		}
		return strings.Compare(a.Accounts[0], b.Accounts[0])
	})
	return out
}

func strong(g Grade) bool { return g == GradeCertain || g == GradeProbable }

// NamesDisagree reports whether a pair's names were compared and
// disagreed (neither alike nor one of the tolerated variants) while no
// personal identifier (external ID, employee number) agreed.
func NamesDisagree(p Pair) bool {
	names, ids := false, false
	for _, e := range p.Evidence {
		switch e.Field {
		case FieldName:
			names = e.Outcome == disagreed
		case FieldExternalID, FieldEmployeeNumber:
			ids = ids || e.Outcome == agreed
		}
	}
	return names && !ids
}

// PairGrade is the grade of one scored pair: Grade of its probability,
// except that a pair whose names disagree is at most possible, however
// much else agrees, unless an external ID or the employee number agrees. The people who share a family name, a birth date, an
// address, a phone, a postcode and groups but not a given name are twins
// and siblings far more often than one person: those fields are not
// independent within a household, which the weights assume, so their sum
// overstates the evidence. An administrator still sees the pair, as a
// possible one.
func (r Rules) PairGrade(p Pair) Grade {
	g := r.Grade(p.Probability)
	if g != "" && NamesDisagree(p) {
		return GradePossible
	}
	return g
}

func crossDismissed(xs, ys []int, ids []string, dismissed func(a, b string) bool) bool {
	for _, x := range xs {
		for _, y := range ys {
			if dismissed(ids[x], ids[y]) || dismissed(ids[y], ids[x]) {
				return true
			}
		}
	}
	return false
}
