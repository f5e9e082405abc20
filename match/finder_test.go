package match

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func run(t *testing.T, f *Finder) Result {
	t.Helper()
	res, err := f.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// candidatePairs lists every pair the finder's blocks compare, failing on
// a pair compared twice.
func candidatePairs(t *testing.T, f *Finder) map[[2]uint32]bool {
	t.Helper()
	b := f.buildBlocks()
	seen := map[[2]uint32]bool{}
	for i := range len(b.starts) - 1 {
		f.eachPair(&b, i, nil, func(x, y uint32) {
			k := [2]uint32{x, y}
			if seen[k] {
				t.Fatalf("pair %s/%s compared twice", f.recs[x].id, f.recs[y].id)
			}
			seen[k] = true
		})
	}
	return seen
}

func TestBlockingComparesPairSharingSeveralKeysOnce(t *testing.T) {
	f := NewFinder(DefaultRules())
	// Every pair shares the e-mail local part, the name key, the birth
	// date key and the phone key.
	for i := range 6 {
		f.Add(Record{ID: fmt.Sprint(i), Name: "Martha Jones", Email: fmt.Sprintf("martha.jones@example%d.org", i),
			BirthDate: "1990-03-04", Phone: "020 7946 0000", Login: "mjones"})
	}
	f.Add(Record{ID: "x", Name: "Peter Pan", Email: "pp@neverland.org"})
	got := candidatePairs(t, f)
	if len(got) != 15 {
		t.Errorf("compared %d pairs, want the 15 of the six Marthas", len(got))
	}
	for k := range got {
		if f.recs[k[0]].id == "x" || f.recs[k[1]].id == "x" {
			t.Errorf("Peter Pan shares no key but was compared with %v", k)
		}
	}
}

func TestBlockingKeys(t *testing.T) {
	r := Record{ID: "1", Name: "Smith, John", Email: "J.Smith+lms@Gmail.com", BirthDate: "1990-03-04",
		Phone: "+44 20 7946 0000", EmployeeNumber: "E00123", Login: "jsmith",
		ExternalIDs: []ExternalID{{System: "HR", Value: " 42 "}}}
	got := BlockingKeys(r, DefaultRules())
	want := []string{"x:hr:42", "m:e00123", "e:jsmith", "p:79460000", "n:S530j", "n:J500s", "k:S530:6", "d:1990-03-04:js"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BlockingKeys = %q, want %q", got, want)
	}
	// Bob and Robert share a nickname key; José Luis Hernández and José
	// Hernández the key of the family name's last word; Peter and Pan
	// neither.
	shared := func(a, b Record) []string {
		var out []string
		kb := BlockingKeys(b, DefaultRules())
		for _, k := range BlockingKeys(a, DefaultRules()) {
			if slices.Contains(kb, k) {
				out = append(out, k)
			}
		}
		return out
	}
	for _, c := range []struct {
		a, b Record
		want bool
	}{
		{Record{Given: "Robert", Family: "Johnson"}, Record{Given: "Bob", Family: "Johnson"}, true},
		{Record{Given: "José", Family: "Luis Hernández"}, Record{Given: "José", Family: "Hernández"}, true},
		{Record{Given: "Peter", Family: "Johnson"}, Record{Given: "Bob", Family: "Johnson"}, false},
		{Record{Given: "José", Family: "Luis Hernández"}, Record{Given: "Maria", Family: "Hernández"}, false},
	} {
		if got := shared(c.a, c.b); (len(got) > 0) != c.want {
			t.Errorf("%s %s and %s %s share keys %q, want shared %v", c.a.Given, c.a.Family, c.b.Given, c.b.Family, got, c.want)
		}
	}
	// A generic or short local part is no key; a field left out of the
	// rules gives none.
	rules := DefaultRules()
	rules.Fields = []string{FieldEmail}
	if got := BlockingKeys(Record{Email: "info@example.org", Login: "ab"}, rules); len(got) != 0 {
		t.Errorf("generic address and short login gave keys %q", got)
	}
}

func TestOversizedBlockIsSplit(t *testing.T) {
	rules := DefaultRules()
	rules.MaxBlock = 10
	f := NewFinder(rules)
	given := []string{"Anna", "Boris", "Clara", "Dmitri", "Emil", "Fiona"}
	// 60 Smiths with a J given name in one name block, and their other
	// given names in six groups.
	for i := range 60 {
		f.Add(Record{ID: fmt.Sprintf("%02d", i), Given: "J" + strings.ToLower(given[i%6]), Family: "Smith"})
	}
	res := run(t, f)
	if res.Stats.OversizedBlocks == 0 {
		t.Fatal("no oversized block reported")
	}
	if all := int64(60 * 59 / 2); res.Stats.PairsCompared >= all/2 {
		t.Errorf("compared %d pairs of %d: the block was not split", res.Stats.PairsCompared, all)
	}
	if res.Stats.PairsCompared == 0 {
		t.Error("compared nothing")
	}
	// The same record twice (one sub-block) is still compared.
	g := NewFinder(rules)
	for i := range 60 {
		g.Add(Record{ID: fmt.Sprintf("%02d", i), Given: "J" + strings.ToLower(given[i%6]), Family: "Smith"})
	}
	pairs := candidatePairs(t, g)
	found := false
	for k := range pairs {
		if g.recs[k[0]].id == "00" && g.recs[k[1]].id == "06" {
			found = true
		}
	}
	if !found {
		t.Error("two records of the same sub-block (same given name) were not compared")
	}
}

func TestJaroASCIIEqualsRunes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdeé"
	for range 20000 {
		mk := func() string {
			n := r.IntN(12)
			var b strings.Builder
			for range n {
				b.WriteByte(letters[r.IntN(5)])
			}
			return b.String()
		}
		a, b := mk(), mk()
		var ra, rb [MaxRunes]rune
		want := jaroWinklerRunes(ra[:toRunes(a, &ra)], rb[:toRunes(b, &rb)])
		if got := JaroWinkler(a, b); got != want {
			t.Fatalf("JaroWinkler(%q, %q) = %v, runes give %v", a, b, got, want)
		}
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, given, family string }{
		{"John Smith", "John", "Smith"},
		{"Mary Ann  Smith ", "Mary Ann", "Smith"},
		{"Smith, John", "John", "Smith"},
		{"Madonna", "", "Madonna"},
		{"", "", ""},
	} {
		if g, f := SplitName(c.in); g != c.given || f != c.family {
			t.Errorf("SplitName(%q) = %q, %q, want %q, %q", c.in, g, f, c.given, c.family)
		}
	}
}

// handParams are parameters a reader can check: every agreeing level
// m 0.9 u 0.01, every close one m 0.05 u 0.05, every disagreeing one
// m 0.05 u 0.94; prior 0.5.
func handParams() Params {
	p := Params{Prior: 0.5, Fields: map[string]map[string]LevelMU{}}
	for _, f := range fields {
		lv := map[string]LevelMU{}
		for l := 1; l < len(f.levels); l++ {
			switch f.outcomes[l] {
			case agreed:
				lv[f.levels[l]] = LevelMU{M: 0.9, U: 0.01}
			case close_:
				lv[f.levels[l]] = LevelMU{M: 0.05, U: 0.05}
			default:
				lv[f.levels[l]] = LevelMU{M: 0.05, U: 0.94}
			}
		}
		p.Fields[f.name] = lv
	}
	return p
}

func evidenceOf(p Pair, field string) Evidence {
	for _, e := range p.Evidence {
		if e.Field == field {
			return e
		}
	}
	return Evidence{}
}

func TestEvidenceOutcomes(t *testing.T) {
	agree, disagree := math.Log2(0.9/0.01), math.Log2(0.05/0.94)
	base := func() Record { return Record{ID: "a"} }
	cases := []struct {
		field   string
		a, b    func(r *Record)
		level   string
		outcome string
		weight  float64
	}{
		{FieldName, func(r *Record) { r.Name = "Robert Smith" }, func(r *Record) { r.Name = "Robert Smith" }, "exact", agreed, agree},
		{FieldName, func(r *Record) { r.Name = "Robert Smith" }, func(r *Record) { r.Name = "Bob Smith" }, "nickname", close_, 0},
		{FieldName, func(r *Record) { r.Name = "Robert Smith" }, func(r *Record) { r.Name = "Alice Smith" }, "given_different", disagreed, disagree},
		{FieldName, func(r *Record) { r.Name = "Robert Smith" }, func(r *Record) {}, "missing", missing, 0},
		{FieldEmail, func(r *Record) { r.Email = "a.b@gmail.com" }, func(r *Record) { r.Email = "ab@gmail.com" }, "normalised", agreed, agree},
		{FieldEmail, func(r *Record) { r.Email = "ab@x.org" }, func(r *Record) { r.Email = "ab@y.org" }, "same_local_part", close_, 0},
		{FieldEmail, func(r *Record) { r.Email = "ab@x.org" }, func(r *Record) { r.Email = "zq@y.org" }, "different", disagreed, disagree},
		{FieldBirthDate, func(r *Record) { r.BirthDate = "1990-03-04" }, func(r *Record) { r.BirthDate = "1990-04-03" }, "day_month_swapped", close_, 0},
		{FieldBirthDate, func(r *Record) { r.BirthDate = "1990-03-04" }, func(r *Record) { r.BirthDate = "1971-11-20" }, "different", disagreed, disagree},
		{FieldPhone, func(r *Record) { r.Phone = "020 7946 0000" }, func(r *Record) { r.Phone = "(020) 7946-0000" }, "exact", agreed, agree},
		{FieldEmployeeNumber, func(r *Record) { r.EmployeeNumber = "E1" }, func(r *Record) { r.EmployeeNumber = "e1" }, "normalised", agreed, agree},
		{FieldPostcode, func(r *Record) { r.Postcode = "SW1A 1AA" }, func(r *Record) { r.Postcode = "SW1A 2AB" }, "same_prefix", close_, 0},
		{FieldSignIn, func(r *Record) { r.SignIns = []SignInKey{{"1.2.3.4", "Firefox", 7}} }, func(r *Record) { r.SignIns = []SignInKey{{"1.2.3.4", "Chrome", 7}} }, "same_address", agreed, agree},
		{FieldSignIn, func(r *Record) { r.SignIns = []SignInKey{{"1.2.3.4", "Firefox", 7}} }, func(r *Record) { r.SignIns = []SignInKey{{"1.2.3.4", "Firefox", 8}} }, "none", disagreed, disagree},
		{FieldSignIn, func(r *Record) { r.SignIns = []SignInKey{{"1.2.3.4", "Firefox", 7}} }, func(r *Record) { r.SignIns = []SignInKey{{"5.6.7.8", "Firefox", 7}} }, "same_client", close_, 0},
		{FieldGroups, func(r *Record) { r.Groups = []string{"g1", "g2"} }, func(r *Record) { r.Groups = []string{"g2"} }, "shared", agreed, agree},
		{FieldGroups, func(r *Record) { r.Groups = []string{"g1"} }, func(r *Record) { r.Groups = []string{"g2"} }, "none", disagreed, disagree},
		{FieldGroups, func(r *Record) { r.Groups = []string{"g1"} }, func(r *Record) {}, "missing", missing, 0},
	}
	for _, c := range cases {
		a, b := base(), base()
		b.ID = "b"
		c.a(&a)
		c.b(&b)
		e := evidenceOf(Score(handParams(), DefaultRules(), a, b), c.field)
		if e.Level != c.level || e.Outcome != c.outcome || math.Abs(e.Weight-c.weight) > 1e-9 {
			t.Errorf("%s %s: got level %q outcome %q weight %.3f, want %q %q %.3f", c.field, c.level, e.Level, e.Outcome, e.Weight, c.level, c.outcome, c.weight)
		}
	}
}

func TestScoreIsPriorPlusWeights(t *testing.T) {
	a := Record{ID: "b", Name: "Martha Jones", Email: "mj@x.org", BirthDate: "1990-03-04"}
	b := Record{ID: "a", Name: "Martha Jones", Email: "other@y.org"}
	p := Score(handParams(), DefaultRules(), a, b)
	if p.A != "a" || p.B != "b" {
		t.Errorf("pair ids %q, %q, want a < b", p.A, p.B)
	}
	// prior 0.5 weighs 0; name agrees, e-mail disagrees, the rest missing.
	want := math.Log2(0.9/0.01) + math.Log2(0.05/0.94)
	if math.Abs(p.Weight-want) > 1e-9 {
		t.Errorf("weight %v, want %v", p.Weight, want)
	}
	if math.Abs(p.Probability-math.Exp2(want)/(1+math.Exp2(want))) > 1e-12 {
		t.Errorf("probability %v does not follow the weight", p.Probability)
	}
	sum := 0.0
	for _, e := range p.Evidence {
		sum += e.Weight
	}
	if math.Abs(sum-p.Weight) > 1e-9 {
		t.Errorf("evidence weights sum to %v, pair weight %v", sum, p.Weight)
	}
}

func TestExternalIDCounterEvidence(t *testing.T) {
	p := handParams()
	mk := func(id string, ids ...ExternalID) Record { return Record{ID: id, ExternalIDs: ids} }
	same := evidenceOf(Score(p, DefaultRules(), mk("a", ExternalID{"hr", "42"}), mk("b", ExternalID{"HR", "0042"})), FieldExternalID)
	if same.Level != "exact" || same.Weight <= 0 {
		t.Errorf("same id: %+v, want exact with a positive weight", same)
	}
	other := evidenceOf(Score(p, DefaultRules(), mk("a", ExternalID{"hr", "42"}), mk("b", ExternalID{"hr", "43"})), FieldExternalID)
	if other.Level != "different" || other.Outcome != disagreed || other.Weight >= 0 {
		t.Errorf("same system, other id: %+v, want different with a negative weight", other)
	}
	if other.A != "hr 42" || other.B != "hr 43" {
		t.Errorf("shown %q / %q, want the two ids of the system", other.A, other.B)
	}
	none := evidenceOf(Score(p, DefaultRules(), mk("a", ExternalID{"hr", "42"}), mk("b", ExternalID{"sso", "42"})), FieldExternalID)
	if none.Level != "missing" || none.Weight != 0 {
		t.Errorf("different systems: %+v, want missing", none)
	}
	// One shared id outweighs another system's conflict.
	both := evidenceOf(Score(p, DefaultRules(), mk("a", ExternalID{"hr", "42"}, ExternalID{"sso", "x"}), mk("b", ExternalID{"sso", "y"}, ExternalID{"hr", "42"})), FieldExternalID)
	if both.Level != "exact" {
		t.Errorf("a shared id beside a conflict: %+v, want exact", both)
	}
}

func TestTermFrequencyRareNameOutweighsCommon(t *testing.T) {
	p := handParams()
	p.TF = map[string]map[string]float64{FieldName: {"john smith": 0.01}}
	p.DefaultTF = map[string]float64{FieldName: 0.0001}
	p.TFMean = map[string]float64{FieldName: 0.001}
	pair := func(name string) Evidence {
		return evidenceOf(Score(p, DefaultRules(), Record{ID: "a", Name: name}, Record{ID: "b", Name: name}), FieldName)
	}
	common, rare := pair("John Smith"), pair("Siobhan O'Brien")
	base := math.Log2(0.9 / 0.01)
	if want := base + math.Log2(0.001/0.01); math.Abs(common.Weight-want) > 1e-9 {
		t.Errorf("John Smith weighs %v, want %v", common.Weight, want)
	}
	if want := base + math.Log2(0.001/0.0001); math.Abs(rare.Weight-want) > 1e-9 {
		t.Errorf("Siobhan O'Brien weighs %v, want %v", rare.Weight, want)
	}

	// And fitted on a tenant's own records: many John Smiths, one pair of
	// Siobhans.
	f := NewFinder(DefaultRules())
	for i := range 60 {
		f.Add(Record{ID: fmt.Sprintf("js%02d", i), Name: "John Smith", Email: fmt.Sprintf("u%d@x%d.org", i, i), BirthDate: fmt.Sprintf("19%02d-01-%02d", 50+i%40, 1+i%28)})
	}
	for i := range 200 {
		f.Add(Record{ID: fmt.Sprintf("f%03d", i), Name: fmt.Sprintf("Person%d Family%d", i, i), Email: fmt.Sprintf("p%d@y.org", i)})
	}
	f.Add(Record{ID: "sob1", Name: "Siobhan O'Brien", Email: "s1@z.org"})
	f.Add(Record{ID: "sob2", Name: "Siobhan O'Brien", Email: "s2@w.org"})
	res := run(t, f)
	rules := DefaultRules()
	js := evidenceOf(Score(res.Params, rules, Record{ID: "a", Name: "John Smith"}, Record{ID: "b", Name: "John Smith"}), FieldName)
	sob := evidenceOf(Score(res.Params, rules, Record{ID: "a", Name: "Siobhan O'Brien"}, Record{ID: "b", Name: "Siobhan O'Brien"}), FieldName)
	if sob.Weight <= js.Weight {
		t.Errorf("fitted: Siobhan O'Brien weighs %v, John Smith %v; the rare name should weigh more", sob.Weight, js.Weight)
	}
}

func TestEMOnNoCandidates(t *testing.T) {
	f := NewFinder(DefaultRules())
	f.Add(Record{ID: "a", Name: "Ann Lee"})
	f.Add(Record{ID: "b", Name: "Bob Marley"})
	res := run(t, f)
	if res.Params.Converged || res.Params.Iterations != 0 || len(res.Suggestions) != 0 {
		t.Errorf("no candidates: %+v", res.Params)
	}
}

func mkPair(a, b string, prob float64) Pair {
	return Pair{A: a, B: b, Probability: prob, Evidence: []Evidence{{Field: FieldName, Outcome: agreed}}}
}

func records(rs ...Record) func(string) (Record, bool) {
	return func(id string) (Record, bool) {
		for _, r := range rs {
			if r.ID == id {
				return r, true
			}
		}
		return Record{}, false
	}
}

func TestClusterNAccounts(t *testing.T) {
	rules := DefaultRules()
	pairs := []Pair{mkPair("a", "b", 0.9999), mkPair("b", "c", 0.999), mkPair("a", "c", 0.99), mkPair("x", "y", 0.7)}
	got := Cluster(pairs, rules, records(Record{ID: "c", Records: 40}), nil)
	if len(got) != 2 {
		t.Fatalf("%d suggestions, want 2: %+v", len(got), got)
	}
	s := got[0]
	if !reflect.DeepEqual(s.Accounts, []string{"c", "a", "b"}) || s.Keep != "c" {
		t.Errorf("accounts %v keep %q, want c (most records) then a, b", s.Accounts, s.Keep)
	}
	if s.Probability != 0.999 || s.Grade != GradeCertain {
		t.Errorf("probability %v grade %q, want the weakest joining link 0.999, certain", s.Probability, s.Grade)
	}
	if len(s.Pairs) != 3 || s.Pairs[0].Probability != 0.9999 {
		t.Errorf("pairs %v, want the three, strongest first", s.Pairs)
	}
	if got[1].Grade != GradePossible {
		t.Errorf("x/y graded %q, want possible", got[1].Grade)
	}
}

func TestClusterNeverJoinsDismissedPair(t *testing.T) {
	pairs := []Pair{mkPair("a", "b", 0.9999), mkPair("b", "c", 0.9998), mkPair("a", "c", 0.9997)}
	dismissed := func(x, y string) bool { return x == "a" && y == "c" }
	got := Cluster(pairs, DefaultRules(), nil, dismissed)
	for _, s := range got {
		has := map[string]bool{}
		for _, id := range s.Accounts {
			has[id] = true
		}
		if has["a"] && has["c"] {
			t.Errorf("a and c, dismissed, in one suggestion: %v", s.Accounts)
		}
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Accounts, []string{"a", "b"}) {
		t.Errorf("got %+v, want a with b only", got)
	}
	// The finder's Dismiss does the same inside Run.
	f := NewFinder(DefaultRules())
	for _, id := range []string{"a", "b"} {
		f.Add(Record{ID: id, Name: "Martha Jones", Email: "martha@x.org", BirthDate: "1990-03-04"})
	}
	f.Dismiss("b", "a")
	if res := run(t, f); len(res.Suggestions) != 0 {
		t.Errorf("a dismissed pair was suggested: %+v", res.Suggestions)
	}
}

func TestClusterNotSourceIsNeverASource(t *testing.T) {
	pairs := []Pair{mkPair("admin1", "b", 0.9999), mkPair("admin2", "b", 0.9998), mkPair("admin1", "admin2", 0.9997)}
	recs := records(Record{ID: "admin1", NotSource: true}, Record{ID: "admin2", NotSource: true}, Record{ID: "b", Records: 500})
	got := Cluster(pairs, DefaultRules(), recs, nil)
	if len(got) != 1 {
		t.Fatalf("got %+v, want one suggestion", got)
	}
	if s := got[0]; s.Keep != "admin1" || !reflect.DeepEqual(s.Accounts, []string{"admin1", "b"}) {
		t.Errorf("got %v keep %q (%s), want admin1 kept with b, admin2 left out", s.Accounts, s.Keep, s.KeepReason)
	}
}

func TestClusterSizeBound(t *testing.T) {
	var pairs []Pair
	for i := range 15 {
		for j := i + 1; j < 15; j++ {
			pairs = append(pairs, mkPair(fmt.Sprintf("%02d", i), fmt.Sprintf("%02d", j), 0.99999-float64(i+j)*1e-6))
		}
	}
	got := Cluster(pairs, DefaultRules(), nil, nil)
	total := 0
	for _, s := range got {
		if len(s.Accounts) > MaxClusterAccounts {
			t.Errorf("suggestion of %d accounts", len(s.Accounts))
		}
		total += len(s.Accounts)
	}
	if total != 15 || len(got) != 2 {
		t.Errorf("%d suggestions over %d accounts, want 2 over all 15", len(got), total)
	}
}

func TestClusterWeakChainNotGlued(t *testing.T) {
	// a-b and b-c are possible only: two people may each look a little
	// like b.
	pairs := []Pair{mkPair("a", "b", 0.7), mkPair("b", "c", 0.65)}
	got := Cluster(pairs, DefaultRules(), nil, nil)
	if len(got) != 1 || len(got[0].Accounts) != 2 {
		t.Errorf("got %+v, want a with b alone", got)
	}
	// Linked at probable, the chain is one person.
	pairs = []Pair{mkPair("a", "b", 0.99), mkPair("b", "c", 0.98)}
	if got := Cluster(pairs, DefaultRules(), nil, nil); len(got) != 1 || len(got[0].Accounts) != 3 {
		t.Errorf("got %+v, want a, b and c", got)
	}
}

func TestPairGradeCapsDisagreeingNames(t *testing.T) {
	rules := DefaultRules()
	p := Pair{Probability: 0.99999, Evidence: []Evidence{{Field: FieldName, Outcome: disagreed}}}
	if g := rules.PairGrade(p); g != GradePossible {
		t.Errorf("names disagree: %q, want possible", g)
	}
	p.Evidence = append(p.Evidence, Evidence{Field: FieldEmployeeNumber, Outcome: agreed})
	if g := rules.PairGrade(p); g != GradeCertain {
		t.Errorf("names disagree, employee number agrees: %q, want certain", g)
	}
	if g := rules.PairGrade(Pair{Probability: 0.3}); g != "" {
		t.Errorf("below possible: %q", g)
	}
}

func TestChooseKeep(t *testing.T) {
	cases := []struct {
		name   string
		a, b   Record
		keep   string
		reason string
	}{
		{"most records", Record{ID: "a", Records: 3}, Record{ID: "b", Records: 412}, "b", "holds the most learning records (412 against 3)"},
		{"records win over sign-in", Record{ID: "a", Records: 5, LastSignIn: 1700000000}, Record{ID: "b", Records: 4, LastSignIn: 1750000000}, "a", "holds the most learning records (5 against 4)"},
		{"tie: most recent sign-in", Record{ID: "a", LastSignIn: 1700000000}, Record{ID: "b"}, "a", "signed in most recently (2023-11-14 against never)"},
		{"tie: most complete", Record{ID: "a", Name: "A B"}, Record{ID: "b", Name: "A B", Email: "a@b.c", Phone: "12345"}, "b", "has the most profile fields filled (4 against 2)"},
		{"tie: active", Record{ID: "a"}, Record{ID: "b", Active: true}, "b", "is active, and the other is not"},
		{"tie: oldest", Record{ID: "a", Created: 1600000000}, Record{ID: "b", Created: 1500000000}, "b", "is the oldest account (created 2017-07-14 against 2020-09-13)"},
		{"unknown creation is not oldest", Record{ID: "a", Created: 1600000000}, Record{ID: "b"}, "a", "is the oldest account (created 2020-09-13 against unknown)"},
		{"all equal: first id", Record{ID: "b"}, Record{ID: "a"}, "a", "is as used and as complete as the others, and its id comes first"},
		{"not a source is kept", Record{ID: "a", Records: 900}, Record{ID: "b", NotSource: true}, "b", "is an administrator's account, which is never merged away"},
	}
	for _, c := range cases {
		keep, reason := ChooseKeep([]Record{c.a, c.b})
		if keep != c.keep || reason != c.reason {
			t.Errorf("%s: %q (%s), want %q (%s)", c.name, keep, reason, c.keep, c.reason)
		}
		// The order of the records does not matter.
		if keep2, _ := ChooseKeep([]Record{c.b, c.a}); keep2 != keep {
			t.Errorf("%s: reversed order keeps %q", c.name, keep2)
		}
	}
	if k, _ := ChooseKeep(nil); k != "" {
		t.Errorf("no records: %q", k)
	}
}

// smallTenant is a few hand-made people with duplicates among look-alikes.
func smallTenant() []Record {
	var rs []Record
	add := func(id, name, email, birth, phone string) {
		rs = append(rs, Record{ID: id, Name: name, Email: email, BirthDate: birth, Phone: phone, Records: int64(len(id))})
	}
	add("u01", "Martha Jones", "martha.jones@gmail.com", "1990-03-04", "020 7946 0001")
	add("u02", "Martha Jones", "marthajones@gmail.com", "1990-03-04", "")
	add("u03", "M. Jones", "mjones@work.org", "1990-03-04", "020 7946 0001")
	add("u04", "Robert Smith", "bob@smith.name", "1985-07-01", "")
	add("u05", "Bob Smith", "bob@smith.name", "1985-07-01", "07700 900123")
	add("u06", "Alice Smith", "alice@smith.name", "1987-02-02", "07700 900123")
	for i := range 40 {
		add(fmt.Sprintf("f%02d", i), fmt.Sprintf("Given%c Family%c", 'a'+i%26, 'a'+i/2), fmt.Sprintf("user%d@example.org", i), fmt.Sprintf("19%02d-0%d-1%d", 60+i, 1+i%9, i%10), "")
	}
	return rs
}

func TestScoreEqualsRun(t *testing.T) {
	rs := smallTenant()
	f := NewFinder(DefaultRules())
	byID := map[string]Record{}
	for _, r := range rs {
		f.Add(r)
		byID[r.ID] = r
	}
	res := run(t, f)
	if len(f.Pairs()) == 0 {
		t.Fatal("no pairs scored")
	}
	for _, p := range f.Pairs() {
		s := Score(res.Params, DefaultRules(), byID[p.B], byID[p.A])
		if s.A != p.A || s.B != p.B || math.Abs(s.Weight-p.Weight) > 1e-9 || !reflect.DeepEqual(s.Evidence, p.Evidence) {
			t.Errorf("Score(%s, %s) = %v, Run scored %v", p.A, p.B, s.Weight, p.Weight)
		}
	}
}

func TestRunIsDeterministic(t *testing.T) {
	do := func() Result {
		f := NewFinder(DefaultRules())
		for _, r := range smallTenant() {
			f.Add(r)
		}
		return run(t, f)
	}
	a, b := do(), do()
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs over the same records differ")
	}
}

// Grow only makes room: whatever it is told, too few, too many or
// nonsense, the run finds what a run without it finds.
func TestGrowChangesNothing(t *testing.T) {
	rs := smallTenant()
	do := func(grow int) Result {
		f := NewFinder(DefaultRules())
		f.Grow(grow)
		for _, r := range rs {
			f.Add(r)
		}
		return run(t, f)
	}
	want := do(0)
	if len(want.Suggestions) == 0 {
		t.Fatal("the small tenant has no suggestions to compare")
	}
	for _, n := range []int{-5, 1, len(rs), 10 * len(rs)} {
		if got := do(n); !reflect.DeepEqual(got, want) {
			t.Errorf("Grow(%d) changed the run", n)
		}
	}
}

// Blank sign-in facts and groups add nothing, and each account's hashes
// are exactly what its facts give, whatever room was made for them.
func TestSignInHashesAndGroupsOfBlanks(t *testing.T) {
	hs, periods := signInHashes([]SignInKey{{Address: " ", Client: "", Period: 3}})
	if hs != nil || periods != 0 {
		t.Errorf("blank sign-ins: %v, %d periods; want none", hs, periods)
	}
	hs, periods = signInHashes([]SignInKey{{Address: "10.0.0.1", Period: 1}, {Address: "10.0.0.1", Period: 1}, {Client: "Firefox", Period: 2}})
	if len(hs) != 2 || periods != 2 {
		t.Errorf("two distinct facts in two periods: %v, %d periods", hs, periods)
	}
	c := prepare(&Record{ID: "a", Groups: []string{" ", "g1", "g1 "}}, &Rules{}, newInterner())
	if len(c.groups) != 1 {
		t.Errorf("groups %v; want one hash for g1", c.groups)
	}
}

func TestFocus(t *testing.T) {
	rs := smallTenant()
	full := NewFinder(DefaultRules())
	for _, r := range rs {
		full.Add(r)
	}
	res := run(t, full)
	f := NewFinder(DefaultRules())
	for _, r := range rs {
		f.Add(r)
	}
	f.Focus(map[string]bool{"u05": true}, res.Params)
	got := run(t, f)
	if !reflect.DeepEqual(got.Params, res.Params) {
		t.Error("a focused run fitted its own parameters")
	}
	if got.Stats.PairsCompared == 0 || got.Stats.PairsCompared >= res.Stats.PairsCompared {
		t.Errorf("focused run compared %d pairs, the full run %d", got.Stats.PairsCompared, res.Stats.PairsCompared)
	}
	want := map[[2]string]Pair{}
	for _, p := range full.Pairs() {
		if p.A == "u05" || p.B == "u05" {
			want[[2]string{p.A, p.B}] = p
		}
	}
	if len(f.Pairs()) != len(want) || len(want) == 0 {
		t.Fatalf("focused pairs %d, want the %d of u05", len(f.Pairs()), len(want))
	}
	for _, p := range f.Pairs() {
		if w, ok := want[[2]string{p.A, p.B}]; !ok || math.Abs(w.Weight-p.Weight) > 1e-9 {
			t.Errorf("focused pair %s/%s (%v) is not the full run's", p.A, p.B, p.Weight)
		}
	}
}

func TestRunFindsTheDuplicates(t *testing.T) {
	f := NewFinder(DefaultRules())
	for _, r := range smallTenant() {
		f.Add(r)
	}
	res := run(t, f)
	found := map[string]string{}
	for _, s := range res.Suggestions {
		for _, id := range s.Accounts {
			found[id] = s.Accounts[0]
		}
	}
	if found["u01"] == "" || found["u01"] != found["u02"] {
		t.Errorf("Martha Jones's two accounts not suggested together: %+v", res.Suggestions)
	}
	if found["u04"] != "" && found["u04"] == found["u06"] {
		t.Errorf("Robert and Alice Smith suggested as one person: %+v", res.Suggestions)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	f := NewFinder(DefaultRules())
	for _, r := range smallTenant() {
		f.Add(r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Run(ctx, nil); err == nil {
		t.Error("a cancelled run answered no error")
	}
}

func TestEMSampleOfBlocks(t *testing.T) {
	f := NewFinder(DefaultRules())
	for i := range 400 {
		f.Add(Record{ID: fmt.Sprintf("%03d", i), Name: fmt.Sprintf("Given%d Family%d", i%7, i/2), Email: fmt.Sprintf("u%d@x.org", i/2)})
	}
	b := f.buildBlocks()
	var total int64
	for i := range len(b.starts) - 1 {
		total += b.pairsIn(i)
	}
	if b.sample(total) != nil {
		t.Error("a sample of blocks when all fit")
	}
	s := b.sample(total / 4)
	if len(s) == 0 || len(s) >= len(b.starts)-1 {
		t.Errorf("sample of %d blocks of %d, want some but not all", len(s), len(b.starts)-1)
	}
	if !reflect.DeepEqual(s, b.sample(total/4)) {
		t.Error("the sample is not deterministic")
	}
}

func TestRunBoundsThePairsItKeeps(t *testing.T) {
	f := NewFinder(DefaultRules())
	ids := map[string]bool{}
	for i := range 50 {
		f.Add(Record{ID: fmt.Sprintf("%02d", i), Name: "Martha Jones", Email: "martha@x.org", BirthDate: "1990-03-04"})
		ids[fmt.Sprintf("%02d", i)] = true
	}
	f.Focus(ids, handParams())
	res := run(t, f)
	limit := MaxPairsPerRecord*50 + 1000
	if len(f.Pairs()) != limit || res.Stats.PairsLeftOut != int64(50*49/2-limit) {
		t.Errorf("kept %d pairs, left out %d; want %d kept", len(f.Pairs()), res.Stats.PairsLeftOut, limit)
	}
}

// TestAddedKeysAreTheBlockingKeysHashed: the keys the engine stores from
// the finder while it reads a tenant (AddedKeys) are those the check looks
// up for the same record (BlockingKeyHashes, from BlockingKeys), for
// records with every kind of key, none, and keys that repeat.
func TestAddedKeysAreTheBlockingKeysHashed(t *testing.T) {
	recs := []Record{
		{ID: "1", Name: "Smith, John", Email: "J.Smith+lms@Gmail.com", BirthDate: "1990-03-04",
			Phone: "+44 20 7946 0000", EmployeeNumber: "E00123", Login: "jsmith",
			ExternalIDs: []ExternalID{{System: "HR", Value: " 42 "}, {System: "hr", Value: "42"}}},
		{ID: "2", Given: "Bob", Family: "Luis Hernández", Email: "bob@example.org", Login: "bob"},
		{ID: "3"},
		{ID: "4", Email: "info@example.org", Login: "ab"},
	}
	for _, rules := range []Rules{DefaultRules(), {Fields: []string{FieldEmail, FieldPhone}, Certain: 0.999, Probable: 0.95, Possible: 0.6}} {
		f := NewFinder(rules)
		for _, r := range recs {
			f.Add(r)
			got, want := slices.Clone(f.AddedKeys()), BlockingKeyHashes(r, rules)
			if !slices.Equal(got, want) {
				t.Errorf("record %s, fields %v: AddedKeys %x, BlockingKeyHashes %x", r.ID, rules.Fields, got, want)
			}
			if len(BlockingKeys(r, rules)) != len(want) {
				t.Errorf("record %s: %d keys hash to %d numbers", r.ID, len(BlockingKeys(r, rules)), len(want))
			}
		}
	}
	if KeyHash("n:S530j") == KeyHash("n:J500s") || KeyHash("") == 0 {
		t.Error("KeyHash: two keys share a number, or a key's number is 0 (the finder's mark of a dropped key)")
	}
}

// ChooseKeeps re-chooses with the counted records and the accounts' live
// state, from records added in id order or not.
func TestChooseKeepsUsesTheCountsAndLeavesOutGoneAccounts(t *testing.T) {
	records := []Record{
		{ID: "k1", Name: "Ada Byron", Email: "ada@example.org", Created: 1500000000},
		{ID: "k2", Name: "Ada Byron", Email: "ada@example.org", Phone: "020 7946 0001", Created: 1600000000},
		{ID: "k3", Name: "Ada Byron", Email: "ada.b@example.org", Created: 1700000000},
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}} {
		f := NewFinder(DefaultRules())
		for _, i := range order {
			f.Add(records[i])
		}
		base := func() []Suggestion {
			return []Suggestion{{Accounts: []string{"k2", "k1", "k3"}, Keep: "k2", KeepReason: "before"}}
		}
		facts := map[string]Live{"k1": {Records: 3}, "k2": {Records: 40}, "k3": {Records: 41}}
		live := func(id string) (Live, bool) { l, ok := facts[id]; return l, ok }

		list := base()
		f.ChooseKeeps(list, live)
		if s := list[0]; s.Keep != "k3" || s.KeepReason != "holds the most learning records (41 against 40)" || !slices.Equal(s.Accounts, []string{"k3", "k2", "k1"}) {
			t.Errorf("order %v, most records: keep %s (%s), accounts %v", order, s.Keep, s.KeepReason, s.Accounts)
		}

		// k3 merged away since: the choice is between k1 and k2.
		delete(facts, "k3")
		list = base()
		f.ChooseKeeps(list, live)
		if s := list[0]; s.Keep != "k2" || !slices.Equal(s.Accounts, []string{"k2", "k1", "k3"}) {
			t.Errorf("order %v, k3 gone: keep %s, accounts %v", order, s.Keep, s.Accounts)
		}

		// A tie in records: the most complete account (k2 has a phone).
		facts["k1"] = Live{Records: 40}
		list = base()
		f.ChooseKeeps(list, live)
		if s := list[0]; s.Keep != "k2" || s.KeepReason != "has the most profile fields filled (4 against 3)" {
			t.Errorf("order %v, tie: keep %s (%s)", order, s.Keep, s.KeepReason)
		}

		// An administrator's account now: the suggestion keeps its choice.
		facts["k1"] = Live{Records: 400, NotSource: true}
		list = base()
		f.ChooseKeeps(list, live)
		if s := list[0]; s.Keep != "k2" || s.KeepReason != "before" {
			t.Errorf("order %v, admin: keep %s (%s), want the earlier choice", order, s.Keep, s.KeepReason)
		}

		// Only one account left live, or one the finder never saw: unchanged.
		facts = map[string]Live{"k1": {Records: 900}, "zz": {Records: 1000}}
		list = []Suggestion{{Accounts: []string{"k2", "k1", "zz"}, Keep: "k2", KeepReason: "before"}}
		f.ChooseKeeps(list, live)
		if s := list[0]; s.Keep != "k2" || s.KeepReason != "before" {
			t.Errorf("order %v, one live account known: keep %s (%s)", order, s.Keep, s.KeepReason)
		}
	}
}
