package match

import (
	"slices"
	"strings"
)

// rec is a Record prepared once for a run: every field normalised, the name
// parts interned (a tenant has far fewer distinct given and family names
// than accounts), the sign-in facts and groups hashed, and what the run no
// longer needs (the login, the raw sign-in strings) dropped. A run holds a
// million of them, so each is a few hundred bytes.
type rec struct {
	id            string
	given, family uint32 // indexes into parts; 0 is the empty part
	email         string // as typed, trimmed
	emailN        string // NormalizeEmail ("" when not an address)
	localLen      int32  // length of emailN's local part
	birth         int32  // yyyymmdd, 0 for none
	phone         string // NormalizePhone
	emp, empN     string // employee number trimmed, and NormalizeID
	postcode      string // NormalizePostcode
	ext           []extID
	signIns       []uint64 // sorted hashes: (address, period) with low bit 0, (client, period) with low bit 1
	signInPeriods int32    // distinct periods, for the explanation
	groups        []uint64 // sorted hashes of group ids
	records       int64
	lastSignIn    int64
	created       int64
	active        bool
	notSource     bool
	filled        uint8 // filledFields, for the account to keep
}

type extID struct {
	system string // lower case, trimmed
	value  string // NormalizeID
}

// part is one prepared name part (a given or a family name), shared by
// every account that spells it the same.
type part struct {
	typed, n, f string // as typed (trimmed), NormalizeName and FoldName without spaces
	first       string // first word of NormalizeName, for nicknames
	soundex     string // Soundex of the part, for blocking
	lastSoundex string // Soundex of the part's last word when it has several ("Luis Hernández"), else ""
	last        string // that last word, NormalizeName without spaces ("" for one word)
	initial     rune
	isInitial   bool
	norm        uint32 // index of n among the distinct normalised forms, for term frequencies
}

// interner holds a run's distinct name parts.
type interner struct {
	parts  []part
	byText map[string]uint32
	norms  map[string]uint32 // normalised form → norm index
	strs   map[string]string // other strings worth sharing (e-mail domains are not: most are)
}

func newInterner() *interner {
	in := &interner{byText: map[string]uint32{}, norms: map[string]uint32{}, strs: map[string]string{}}
	in.parts = append(in.parts, part{})
	in.norms[""] = 0
	return in
}

// part answers the index of s's prepared form, preparing it the first time.
func (in *interner) part(s string) uint32 {
	s = strings.TrimSpace(validPrefix(s, MaxInputBytes))
	if s == "" {
		return 0
	}
	if i, ok := in.byText[s]; ok {
		return i
	}
	p := PrepareName(Name{Given: s})
	pt := part{typed: p.given, n: p.givenN, f: p.givenF, first: p.givenFirst, initial: p.givenInitial, isInitial: p.givenIsInitial}
	pt.n = in.str(pt.n)
	pt.f = in.str(pt.f)
	pt.first = in.str(pt.first)
	pt.soundex = in.str(Soundex(s))
	if i := strings.LastIndexAny(s, " -"); i >= 0 {
		if ls := Soundex(s[i+1:]); ls != "" && ls != pt.soundex {
			pt.lastSoundex = in.str(ls)
		}
		pt.last = in.str(compact(NormalizeName(s[i+1:])))
	}
	if pt.n == "" {
		// Only punctuation: no name part at all.
		in.byText[s] = 0
		return 0
	}
	n, ok := in.norms[pt.n]
	if !ok {
		n = uint32(len(in.norms))
		in.norms[pt.n] = n
	}
	pt.norm = n
	i := uint32(len(in.parts))
	in.parts = append(in.parts, pt)
	in.byText[s] = i
	return i
}

func (in *interner) str(s string) string {
	if t, ok := in.strs[s]; ok {
		return t
	}
	in.strs[s] = s
	return s
}

// prepared is the PreparedName of a record's name, built from its interned
// parts without allocating.
func (in *interner) prepared(r *rec) PreparedName {
	g, f := &in.parts[r.given], &in.parts[r.family]
	return PreparedName{
		given: g.typed, family: f.typed,
		givenN: g.n, familyN: f.n,
		givenF: g.f, familyF: f.f,
		familyLast:   f.last,
		givenFirst:   g.first,
		givenInitial: g.initial, givenIsInitial: g.isInitial,
	}
}

// SplitName splits a display name into given and family names: "Family,
// Given" at the comma, otherwise the last word is the family name and the
// words before it the given name. One word is a family name alone.
func SplitName(name string) (given, family string) {
	name = strings.TrimSpace(validPrefix(name, MaxInputBytes))
	if i := strings.IndexByte(name, ','); i >= 0 {
		return strings.TrimSpace(name[i+1:]), strings.TrimSpace(name[:i])
	}
	i := strings.LastIndexFunc(name, func(r rune) bool { return r == ' ' || r == '\t' })
	if i < 0 {
		return "", name
	}
	return strings.TrimSpace(name[:i]), strings.TrimSpace(name[i+1:])
}

// recordName is the (given, family) a record is compared by: its profile
// attributes, or its display name split when both are empty.
func recordName(r *Record) (given, family string) {
	if strings.TrimSpace(r.Given) != "" || strings.TrimSpace(r.Family) != "" {
		return r.Given, r.Family
	}
	return SplitName(r.Name)
}

// prepare turns a Record into its compact form.
func prepare(r *Record, rules *Rules, in *interner) rec {
	opt := EmailOptions{StripPlusTags: rules.StripPlusTags}
	g, f := recordName(r)
	c := rec{
		id:         r.ID,
		given:      in.part(g),
		family:     in.part(f),
		records:    r.Records,
		lastSignIn: r.LastSignIn,
		created:    r.Created,
		active:     r.Active,
		notSource:  r.NotSource,
	}
	if n := NormalizeEmail(r.Email, opt); n != "" {
		c.emailN = n
		c.email = strings.TrimSpace(r.Email)
		if c.email == n {
			c.email = n
		}
		c.localLen = int32(strings.LastIndexByte(n, '@'))
	}
	if y, m, d, ok := ParseBirthDate(validPrefix(r.BirthDate, MaxDateBytes)); ok && len(r.BirthDate) <= MaxDateBytes {
		c.birth = int32(y*10000 + m*100 + d)
	}
	c.phone = NormalizePhone(r.Phone, PhoneOptions{})
	if n := NormalizeID(r.EmployeeNumber); n != "" {
		c.empN = n
		c.emp = strings.TrimSpace(r.EmployeeNumber)
		if c.emp == n {
			c.emp = n
		}
	}
	c.postcode = NormalizePostcode(r.Postcode)
	for _, x := range r.ExternalIDs {
		sys := strings.ToLower(strings.TrimSpace(validPrefix(x.System, MaxIDBytes)))
		v := NormalizeID(x.Value)
		if sys == "" || v == "" {
			continue
		}
		e := extID{system: in.str(sys), value: v}
		if !slices.Contains(c.ext, e) {
			c.ext = append(c.ext, e)
		}
	}
	c.signIns, c.signInPeriods = signInHashes(r.SignIns)
	if len(r.Groups) > 0 {
		c.groups = make([]uint64, 0, len(r.Groups))
	}
	for _, gr := range r.Groups {
		if gr = strings.TrimSpace(gr); gr != "" {
			c.groups = append(c.groups, hashStrings('g', gr))
		}
	}
	slices.Sort(c.groups)
	c.groups = slices.Compact(c.groups)
	c.filled = uint8(filledFields(r))
	return c
}

// signInHashes hashes at most MaxSignInKeys sign-in facts into sorted keys
// and counts their distinct periods.
func signInHashes(keys []SignInKey) ([]uint64, int32) {
	if len(keys) > MaxSignInKeys {
		keys = keys[:MaxSignInKeys]
	}
	// Counted first, so that a million accounts' hashes take their exact
	// room rather than what append doubles to.
	n := 0
	for _, k := range keys {
		if strings.TrimSpace(k.Address) != "" {
			n++
		}
		if strings.TrimSpace(k.Client) != "" {
			n++
		}
	}
	if n == 0 {
		return nil, 0
	}
	hs := make([]uint64, 0, n)
	var periods []int64
	for _, k := range keys {
		a, cl := strings.TrimSpace(k.Address), strings.TrimSpace(k.Client)
		if a != "" {
			hs = append(hs, hashPeriod(a, k.Period)&^1)
		}
		if cl != "" {
			hs = append(hs, hashPeriod(cl, k.Period)|1)
		}
		if (a != "" || cl != "") && !slices.Contains(periods, k.Period) {
			periods = append(periods, k.Period)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs), int32(len(periods))
}

func hashPeriod(s string, period int64) uint64 {
	var b [8]byte
	for i := range b {
		b[i] = byte(period >> (8 * i))
	}
	return hashStrings('s', string(b[:]), s)
}

// hashStrings is FNV-1a of a tag byte and the strings, separated by a zero
// byte, without allocating.
func hashStrings(tag byte, ss ...string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(tag)) * prime
	for i, s := range ss {
		if i > 0 {
			h = (h ^ 0) * prime
		}
		for j := 0; j < len(s); j++ {
			h = (h ^ uint64(s[j])) * prime
		}
	}
	return h
}
