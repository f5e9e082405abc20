// Package synth generates learner accounts whose truth is known — which
// accounts are one person — to measure the duplicate finder: FEBRL-style
// corrupted duplicates (typos, OCR and phonetic errors, missing and swapped
// values, nicknames, initials, transliterations, e-mail and login variants)
// among people who must not be matched (siblings at one address, twins,
// namesakes with very common names, colleagues sharing a work address).
// The same Config and seed give the same accounts. It does no I/O; the
// bench writes the accounts into a database.
package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"usermerge/match"
)

// Config says what to generate. Zero rates take the defaults.
type Config struct {
	// Accounts is how many accounts to generate (the last person may lose
	// some of their duplicates to reach it exactly); when 0, Persons
	// people are generated with all their accounts.
	Accounts int
	Persons  int
	Seed     uint64
	// DupRate is the share of people with 2 to 4 accounts (default 0.2).
	DupRate float64
	// Trap rates, per generated person (defaults in DefaultConfig): a
	// sibling at the same address, a twin, a namesake with one of the most
	// common full names, a colleague sharing a work e-mail address.
	SiblingRate, TwinRate, NamesakeRate, SharedEmailRate float64
	// NoTraps generates no traps at all.
	NoTraps bool
	// Now is the generation's clock, Unix seconds: every time is before it
	// (default 2026-01-01).
	Now int64
}

// Defaults of Config's zero fields.
const (
	DefaultDupRate         = 0.2
	DefaultSiblingRate     = 0.03
	DefaultTwinRate        = 0.005
	DefaultNamesakeRate    = 0.02
	DefaultSharedEmailRate = 0.005
	DefaultNow             = 1767225600 // 2026-01-01T00:00:00Z
)

// PeriodSeconds is the length of a sign-in period (Record.SignIns), as the
// engine counts them: 30 days.
const PeriodSeconds = 30 * 86400

func (c Config) withDefaults() Config {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.DupRate, DefaultDupRate)
	def(&c.SiblingRate, DefaultSiblingRate)
	def(&c.TwinRate, DefaultTwinRate)
	def(&c.NamesakeRate, DefaultNamesakeRate)
	def(&c.SharedEmailRate, DefaultSharedEmailRate)
	if c.NoTraps {
		c.SiblingRate, c.TwinRate, c.NamesakeRate, c.SharedEmailRate = 0, 0, 0, 0
	}
	if c.Now == 0 {
		c.Now = DefaultNow
	}
	return c
}

// Set is a generated tenant with its truth.
type Set struct {
	Config  Config
	Records []match.Record
	// Persons is how many people the accounts belong to.
	Persons int
	// person[k] is the person of account number k (see ID).
	person []int32
	// Traps counts the pairs of accounts generated to look alike without
	// being one person, per kind ("sibling", "twin", "namesake",
	// "shared_email").
	Traps map[string]int
	// Corruptions counts the changes made to duplicate accounts, per kind
	// ("typo", "ocr", "phonetic", "nickname", "initial", "swapped",
	// "transliterated", "missing", "birth_date_digit", "email_variant",
	// "email_other", …).
	Corruptions map[string]int
}

// Person answers the person of account id.
func (s *Set) Person(id string) (int, bool) {
	k, ok := accountNumber(id)
	if !ok || k >= len(s.person) {
		return 0, false
	}
	return int(s.person[k]), true
}

// SamePerson reports whether accounts a and b are one person (false when
// either is not in the set).
func (s *Set) SamePerson(a, b string) bool {
	pa, oka := s.Person(a)
	pb, okb := s.Person(b)
	return oka && okb && pa == pb
}

// PersonAccounts is how many accounts person p holds (0 for a person not
// in the set). Persons are numbered in the order of their accounts.
func (s *Set) PersonAccounts(p int) int {
	lo, _ := slices.BinarySearch(s.person, int32(p))
	hi := lo
	for hi < len(s.person) && s.person[hi] == int32(p) {
		hi++
	}
	return hi - lo
}

// Accounts is how many accounts the set holds.
func (s *Set) Accounts() int { return len(s.person) }

// TruePairs is the number of pairs of accounts that are one person.
func (s *Set) TruePairs() int64 {
	var n, run int64
	for k := range s.person {
		if k > 0 && s.person[k] == s.person[k-1] {
			run++
		} else {
			run = 1
		}
		n += run - 1 // the account pairs with each earlier one of its person
	}
	return n
}

// Groups answers the account numbers of each person with several
// accounts.
func (s *Set) groups() [][]int {
	var out [][]int
	for k := 0; k < len(s.person); {
		j := k + 1
		for j < len(s.person) && s.person[j] == s.person[k] {
			j++
		}
		if j-k > 1 {
			g := make([]int, j-k)
			for i := range g {
				g[i] = k + i
			}
			out = append(out, g)
		}
		k = j
	}
	return out
}

// IDs: account number k is "u" and eight hex digits of k scrambled by an
// odd multiplier modulo 2^32, so that ids sort in no relation to the
// person (a finder that walks accounts in id order gains nothing) and the
// number comes back by the inverse multiplier.
const idMul uint32 = 0x9E3779B1

var idInv = func() uint32 {
	x := idMul // Newton's iteration for the inverse modulo 2^32
	for range 5 {
		x *= 2 - idMul*x
	}
	return x
}()

// ID is the id of account number k.
func ID(k int) string {
	s := strconv.FormatUint(uint64(uint32(k)*idMul), 16)
	return "u" + strings.Repeat("0", 8-len(s)) + s
}

func accountNumber(id string) (int, bool) {
	if len(id) != 9 || id[0] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(id[1:], 16, 32)
	if err != nil {
		return 0, false
	}
	return int(uint32(v) * idInv), true
}

// Generate generates the set of c.
func Generate(c Config) *Set {
	c = c.withDefaults()
	s := &Set{Config: c, Traps: map[string]int{}, Corruptions: map[string]int{}}
	want := c.Accounts
	if want > 0 {
		s.Records = make([]match.Record, 0, want)
		s.person = make([]int32, 0, want)
	}
	// sized for the run at once: growing maps of millions cost more than
	// filling them
	size := max(want, c.Persons)
	g := &generator{c: c, set: s, logins: make(map[string]struct{}, size), mailboxes: make(map[string]int32, 2*size), suffixes: map[string]int{}}
	for unit := uint64(0); ; unit++ {
		if want > 0 && len(s.Records) >= want {
			break
		}
		if want == 0 && s.Persons >= c.Persons {
			break
		}
		g.r = newRand(c.Seed, unit)
		g.unit(want)
	}
	g.logins, g.mailboxes, g.suffixes = nil, nil, nil
	// The records in no relation to their persons' order, so that a
	// finder that reads them in order gains nothing (the engine reads them
	// in id order, which ID scrambles alike).
	r := newRand(c.Seed, math.MaxUint64)
	r.Shuffle(len(s.Records), func(i, j int) { s.Records[i], s.Records[j] = s.Records[j], s.Records[i] })
	return s
}

// newRand is the random source of one generated unit: units are
// independent of each other, so a change to one kind of unit does not move
// every later one.
func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
