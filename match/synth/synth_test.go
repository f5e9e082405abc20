package synth

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"usermerge/match"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a := Generate(Config{Accounts: 3000, Seed: 7})
	b := Generate(Config{Accounts: 3000, Seed: 7})
	if !reflect.DeepEqual(a.Records, b.Records) || !reflect.DeepEqual(a.person, b.person) {
		t.Fatal("the same config generated different accounts")
	}
	c := Generate(Config{Accounts: 3000, Seed: 8})
	if reflect.DeepEqual(a.Records, c.Records) {
		t.Fatal("another seed generated the same accounts")
	}
}

func TestGenerateCounts(t *testing.T) {
	s := Generate(Config{Accounts: 20000, Seed: 1})
	if len(s.Records) != 20000 || s.Accounts() != 20000 {
		t.Fatalf("%d records, %d accounts, want 20000", len(s.Records), s.Accounts())
	}
	// every id is distinct, maps back to its person, and logins are unique
	ids, logins := map[string]bool{}, map[string]bool{}
	byPerson := map[int]int{}
	for _, r := range s.Records {
		if ids[r.ID] || logins[r.Login] {
			t.Fatalf("id %s or login %s twice", r.ID, r.Login)
		}
		ids[r.ID], logins[r.Login] = true, true
		p, ok := s.Person(r.ID)
		if !ok {
			t.Fatalf("no person for %s", r.ID)
		}
		byPerson[p]++
	}
	if len(byPerson) != s.Persons {
		t.Errorf("%d persons among the accounts, Persons says %d", len(byPerson), s.Persons)
	}
	var pairs int64
	several := 0
	for _, n := range byPerson {
		pairs += int64(n * (n - 1) / 2)
		if n > 1 {
			several++
		}
		if n > 4 {
			t.Errorf("a person with %d accounts", n)
		}
	}
	if got := s.TruePairs(); got != pairs {
		t.Errorf("TruePairs %d, counted %d", got, pairs)
	}
	// DupRate of the generated persons; trap persons have one account
	// each, so the share among all persons is a little lower.
	if r := float64(several) / float64(s.Persons); r < 0.17 || r > 0.21 {
		t.Errorf("%.3f of persons have several accounts, want about %.2f", r, DefaultDupRate)
	}
	if _, ok := s.Person("nobody"); ok {
		t.Error("a person for an id not in the set")
	}
	if _, ok := s.Person(ID(20000)); ok {
		t.Error("a person for an account number past the set")
	}
	if s.SamePerson(s.Records[0].ID, "nobody") {
		t.Error("SamePerson with an unknown id")
	}
	p := Generate(Config{Persons: 500, Seed: 1, NoTraps: true})
	if p.Persons != 500 || len(p.Traps) != 0 {
		t.Errorf("Persons 500 without traps: %d persons, traps %v", p.Persons, p.Traps)
	}
}

func TestIDRoundTrip(t *testing.T) {
	for _, k := range []int{0, 1, 2, 999, 1_000_000, 1<<32 - 1} {
		id := ID(k)
		if got, ok := accountNumber(id); !ok || got != k || len(id) != 9 {
			t.Errorf("ID(%d) = %q reads back as %d, %v", k, id, got, ok)
		}
	}
	ids := make([]string, 100)
	for k := range ids {
		ids[k] = ID(k)
	}
	if slices.IsSorted(ids) {
		t.Error("the ids of consecutive accounts sort in their order")
	}
	for _, bad := range []string{"", "u123", "x00000000", "uzzzzzzzz"} {
		if _, ok := accountNumber(bad); ok {
			t.Errorf("%q read as an account number", bad)
		}
	}
}

// accountsByPerson answers each person's records, the person's first
// account (the uncorrupted one) first.
func accountsByPerson(s *Set) map[int][]match.Record {
	m := map[int][]match.Record{}
	for _, r := range s.Records {
		p, _ := s.Person(r.ID)
		m[p] = append(m[p], r)
	}
	for _, rs := range m {
		slices.SortFunc(rs, func(a, b match.Record) int {
			ka, _ := accountNumber(a.ID)
			kb, _ := accountNumber(b.ID)
			return ka - kb
		})
	}
	return m
}

func TestCorruptionsApplied(t *testing.T) {
	s := Generate(Config{Accounts: 50000, Seed: 3})
	for _, c := range corruptions {
		if s.Corruptions[c.kind] == 0 {
			t.Errorf("no %s corruption in 50,000 accounts", c.kind)
		}
	}
	for _, k := range []string{CorruptTransliterated, CorruptIDConflict} {
		if s.Corruptions[k] == 0 {
			t.Errorf("no %s corruption in 50,000 accounts", k)
		}
	}
	dups, differ := 0, 0
	for _, rs := range accountsByPerson(s) {
		for _, r := range rs[1:] {
			dups++
			o := rs[0]
			if r.Name != o.Name || r.Email != o.Email || r.BirthDate != o.BirthDate || r.Phone != o.Phone || r.Postcode != o.Postcode {
				differ++
			}
		}
	}
	if dups == 0 || float64(differ) < 0.95*float64(dups) {
		t.Errorf("%d of %d duplicate accounts differ from their first account", differ, dups)
	}
}

func TestNamesAreSkewedAndInternational(t *testing.T) {
	s := Generate(Config{Accounts: 50000, Seed: 4})
	names := map[string]int{}
	for _, r := range s.Records {
		names[r.Name]++
	}
	if names["John Smith"] < 20 || names["Maria Garcia"] < 10 || names["Wei Wang"] < 10 {
		t.Errorf("common names: John Smith %d, Maria Garcia %d, Wei Wang %d", names["John Smith"], names["Maria Garcia"], names["Wei Wang"])
	}
	for _, part := range []string{"Müller", "Nguyễn", "O'Brien", "Zoë"} {
		found := false
		for n := range names {
			if strings.Contains(n, part) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no name with %s", part)
		}
	}
	once := 0
	for _, n := range names {
		if n == 1 {
			once++
		}
	}
	if once < len(s.Records)/3 {
		t.Errorf("only %d names are held by one account: the tail of rare names is missing", once)
	}
}

func TestTrapsArePresent(t *testing.T) {
	s := Generate(Config{Accounts: 50000, Seed: 5})
	for _, k := range []string{"sibling", "twin", "namesake", "shared_email"} {
		if s.Traps[k] == 0 {
			t.Errorf("no %s trap", k)
		}
	}
	// colleagues: accounts of different persons with one address
	byEmail := map[string]map[int]bool{}
	for _, r := range s.Records {
		if strings.HasPrefix(r.Email, "info@") {
			p, _ := s.Person(r.ID)
			if byEmail[r.Email] == nil {
				byEmail[r.Email] = map[int]bool{}
			}
			byEmail[r.Email][p] = true
		}
	}
	shared := 0
	for _, ps := range byEmail {
		if len(ps) > 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Error("no work address shared by two persons")
	}
}

func TestTrapPersons(t *testing.T) {
	s := &Set{Traps: map[string]int{}, Corruptions: map[string]int{}}
	g := &generator{c: Config{Accounts: 1000}.withDefaults(), set: s, logins: map[string]struct{}{}, mailboxes: map[string]int32{}, suffixes: map[string]int{}}
	for seed := range uint64(50) {
		g.r = newRand(1, seed)
		p := g.newPerson()
		for _, twin := range []bool{false, true} {
			sib := g.sibling(p, twin)
			if sib.family != p.family || sib.postcode != p.postcode || sib.home != p.home || sib.homeIP != p.homeIP {
				t.Errorf("sibling does not share the home: %+v %+v", p, sib)
			}
			if sib.given == p.given || match.Nickname(sib.given, p.given) || sib.id == p.id {
				t.Errorf("sibling has the same given name or id: %s %s", p.given, sib.given)
			}
			if (sib.birth == p.birth) != twin {
				t.Errorf("twin %v: birth dates %s and %s", twin, p.birth, sib.birth)
			}
		}
		n := g.namesake(p)
		if n.given != p.given || n.family != p.family || n.birth == p.birth {
			t.Errorf("namesake: %s %s %s, %s %s %s", p.given, p.family, p.birth, n.given, n.family, n.birth)
		}
		if !strings.Contains(p.workEmail, p.af) && !strings.Contains(p.workEmail, p.ag) {
			t.Errorf("namesake's address %s is not made from the name %s %s", p.workEmail, p.given, p.family)
		}
		c := g.colleague(p)
		if c.workEmail != p.workEmail || !strings.HasPrefix(c.workEmail, "info@") {
			t.Errorf("colleagues' addresses %s, %s", p.workEmail, c.workEmail)
		}
	}
}

func TestCorruptionFunctions(t *testing.T) {
	for in, want := range map[string]string{"Müller": "Mueller", "Nguyễn": "Nguyen", "Zoë": "Zoe", "Łukasz": "Lukasz", "Smith": "Smith", "Schröder": "Schroeder"} {
		if got := translit(in); got != want {
			t.Errorf("translit(%q) = %q, want %q", in, got, want)
		}
		if match.NormalizeName(in) != match.NormalizeName(translit(in)) && match.FoldName(in) != match.FoldName(translit(in)) {
			t.Errorf("the finder's normalisation does not equate %q and %q", in, translit(in))
		}
	}
	g := &generator{r: newRand(1, 1)}
	for range 200 {
		in := "Katherine"
		out := g.typo(in)
		if out == in {
			continue // a substitution may draw the same letter
		}
		if d := editDistance(in, out); d != 1 && !(d == 2 && len(out) == len(in)) {
			t.Errorf("typo(%q) = %q: %d edits", in, out, d)
		}
		if out[0] != 'K' {
			t.Errorf("typo changed the first letter: %q", out)
		}
	}
	if got := g.ocr("Tom"); got != "T0m" && got != "Torn" {
		t.Errorf("ocr(Tom) = %q", got)
	}
	if got := phonetic("Philippa"); got == "Philippa" {
		t.Error("phonetic left Philippa alone")
	}
	if nn := nicknamesOf("Robert"); !slices.Contains(nn, "bob") {
		t.Errorf("nicknames of Robert: %v", nn)
	}
	if nn := nicknamesOf("Adjaan"); nn != nil {
		t.Errorf("nicknames of a made-up name: %v", nn)
	}
}

// editDistance is Levenshtein's distance over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func TestPersonAccounts(t *testing.T) {
	s := Generate(Config{Accounts: 5000, Seed: 6})
	for p, rs := range accountsByPerson(s) {
		if got := s.PersonAccounts(p); got != len(rs) {
			t.Fatalf("PersonAccounts(%d) = %d, want %d", p, got, len(rs))
		}
	}
	if n := s.PersonAccounts(1 << 30); n != 0 {
		t.Errorf("PersonAccounts of a person not in the set: %d", n)
	}
}

// TestIdentifyingNumbersAreUnique: two persons never share a phone number
// (by its last eight digits, as the finder compares them; siblings share a
// home, which is the trap), an employee number or an HR id.
func TestIdentifyingNumbersAreUnique(t *testing.T) {
	s := &Set{Traps: map[string]int{}, Corruptions: map[string]int{}}
	g := &generator{c: Config{Accounts: 1000}.withDefaults(), set: s, logins: map[string]struct{}{}, mailboxes: map[string]int32{}, suffixes: map[string]int{}, r: newRand(1, 1)}
	seen := map[string]int32{}
	for range 30000 {
		p := g.newPerson()
		for _, v := range []string{"phone " + p.mobile[len(p.mobile)-8:], "phone " + p.home[len(p.home)-8:], "employee " + p.employee, "hr " + p.hr} {
			if strings.HasSuffix(v, " ") {
				continue // none
			}
			if q, ok := seen[v]; ok {
				t.Fatalf("%s of person %d is also person %d's", v, p.id, q)
			}
			seen[v] = p.id
		}
	}
}

// TestMailboxesAreOnePersons: two persons never hold one address (as the
// finder normalises it), but for the colleagues' shared info@ addresses.
func TestMailboxesAreOnePersons(t *testing.T) {
	s := Generate(Config{Accounts: 30000, Seed: 10})
	owner := map[string]int{}
	for _, r := range s.Records {
		if r.Email == "" || strings.HasPrefix(r.Email, "info@") {
			continue
		}
		key := match.NormalizeEmail(r.Email, match.EmailOptions{StripPlusTags: true})
		p, _ := s.Person(r.ID)
		if q, ok := owner[key]; ok && q != p {
			t.Fatalf("%s is held by persons %d and %d", r.Email, q, p)
		}
		owner[key] = p
	}
}
