package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"usermerge/match"
)

// person is the truth about one person: the values every account of theirs
// starts from before corruption.
type person struct {
	id             int32
	given, family  string
	ag, af         string // given and family as written in addresses (ascii)
	birth          string // YYYY-MM-DD
	mobile, home   string // phone numbers, national form (no country code)
	postcode       string
	employee       string
	hr             string // HR system id, "" for none
	company        string // domain of the employer
	workEmail      string
	freeEmail      string
	homeIP, workIP string
	clients        []string
	groups         []string
	created        int64
	shareWorkEmail bool // a colleague has the same work address
}

type generator struct {
	c      Config
	set    *Set
	r      *rand.Rand
	logins map[string]struct{}
	// mailboxes: the owner of each address given out, normalised
	mailboxes map[string]int32
	suffixes  map[string]int // the next number to try at a taken address
	nextID    int32
}

// pick draws an index below n with Zipf-like weights 1/(i+5): the first
// items are the most common.
func pick(r *rand.Rand, n int) int {
	// inverse of the cumulative ln((i+5)/5)
	total := math.Log(float64(n+5) / 5)
	i := int(5*math.Exp(r.Float64()*total)) - 5
	return min(max(i, 0), n-1)
}

func (g *generator) rareName(endings []string) string {
	r := g.r
	var b strings.Builder
	for i := range 2 + r.IntN(2) {
		s := syllables[r.IntN(len(syllables))]
		if i == 0 {
			s = strings.ToUpper(s[:1]) + s[1:]
		}
		b.WriteString(s)
	}
	b.WriteString(endings[r.IntN(len(endings))])
	return b.String()
}

func (g *generator) familyName() string {
	if g.r.Float64() < 0.4 {
		return familyNames[pick(g.r, len(familyNames))]
	}
	return g.rareName(familyEndings)
}

func (g *generator) givenName(female bool) string {
	if g.r.Float64() < 0.75 {
		if female {
			return femaleNames[pick(g.r, len(femaleNames))]
		}
		return maleNames[pick(g.r, len(maleNames))]
	}
	return g.rareName(givenEndings)
}

func (g *generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// unique is n scrambled into [0, space) (space a power of ten), written
// with width digits: a bijection for each field, with a multiplier of its
// own (prime to the space) so that two fields of one person share no
// digits (a mobile and a home number with the same last eight digits
// would look like one number).
func unique(n int32, field int, space int64, width int) string {
	mul := []int64{3_141_593, 2_718_283, 1_618_033, 1_414_213, 1_732_051}[field]
	v := strconv.FormatInt(int64(n)*mul%space, 10)
	return strings.Repeat("0", width-len(v)) + v
}

func (g *generator) birthDate(year int) string {
	m, d := 1+g.r.IntN(12), 1+g.r.IntN(28)
	return strconv.Itoa(year) + "-" + pad2(m) + "-" + pad2(d)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func (g *generator) postcode() string {
	r := g.r
	if r.IntN(2) == 0 { // German style
		return strconv.Itoa(10000 + r.IntN(89999))
	}
	const letters = "ABCDEFGHJKLMNPRSTUWXYZ"
	l := func() byte { return letters[r.IntN(len(letters))] }
	return string([]byte{l(), l()}) + strconv.Itoa(1+r.IntN(20)) + " " + strconv.Itoa(r.IntN(10)) + string([]byte{l(), l()})
}

func (g *generator) ip(private bool) string {
	r := g.r
	if private {
		return "10." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
	}
	return strconv.Itoa(80+r.IntN(120)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
}

// ascii is a name as people write it in an address or login: the finder's
// own fold (Müller: mueller, Nguyễn: nguyen, O'Brien: obrien), spaces out.
// ASCII names take a short path with the same answer.
func ascii(s string) string {
	if !isASCII(s) {
		return strings.ReplaceAll(match.NormalizeName(s), " ", "")
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// company domains: a few hundred employers per tenant size, so that
// colleagues share a domain and an office address.
func (g *generator) company() (domain, ip string) {
	n := max(8, g.c.Accounts/400)
	if g.c.Accounts == 0 {
		n = max(8, g.c.Persons/300)
	}
	k := g.r.IntN(n)
	domain = companies[k%len(companies)] + strconv.Itoa(k/len(companies)) + companyTLDs[k%len(companyTLDs)]
	ip = "198." + strconv.Itoa(k>>8&255) + "." + strconv.Itoa(k&255) + ".10"
	return domain, ip
}

func (g *generator) groupCount() int {
	n := g.c.Accounts
	if n == 0 {
		n = g.c.Persons
	}
	return max(10, n/250)
}

func (g *generator) group() string { return "g" + strconv.Itoa(g.r.IntN(g.groupCount())) }

// newPerson makes a person from nothing.
func (g *generator) newPerson() *person {
	r := g.r
	p := &person{id: g.nextID}
	g.nextID++
	female := r.IntN(2) == 0
	if r.Float64() < 0.02 {
		n := commonFullNames[pick(r, len(commonFullNames))]
		p.setName(n[0], n[1])
	} else {
		p.setName(g.givenName(female), g.familyName())
	}
	p.birth = g.birthDate(1950 + r.IntN(58))
	// Numbers that identify a person are unique to them, as in real data
	// (a shared one would be false evidence): a bijection of the person's
	// number onto the number's digits.
	// Mobile numbers end in the lower half of the eight-digit space, home
	// numbers in the upper half, so no two numbers of different homes end
	// alike.
	p.mobile = "71" + unique(p.id, 1, 50_000_000, 8)
	p.home = "20" + strconv.Itoa(50_000_000+int(int64(p.id)*2_718_283%50_000_000))
	p.postcode = g.postcode()
	if r.Float64() < 0.7 {
		p.employee = "E" + unique(p.id, 3, 10_000_000, 7)
	}
	if r.Float64() < 0.5 {
		p.hr = "HR-" + unique(p.id, 4, 100_000_000, 8)
	}
	p.company, p.workIP = g.company()
	g.emails(p)
	p.homeIP = g.ip(r.IntN(4) == 0)
	p.clients = []string{clients[r.IntN(len(clients))], clients[r.IntN(len(clients))]}
	for range 1 + r.IntN(3) {
		if gr := g.group(); !slices.Contains(p.groups, gr) {
			p.groups = append(p.groups, gr)
		}
	}
	p.created = g.c.Now - int64(86400*(30+r.IntN(3000)))
	return p
}

func (p *person) setName(given, family string) {
	p.given, p.family = given, family
	p.ag, p.af = ascii(given), ascii(family)
}

// emails makes p's work and free-mail addresses from p's name.
func (g *generator) emails(p *person) {
	p.workEmail = g.claim(p, g.emailLocal(p), p.company)
	p.freeEmail = g.claim(p, g.emailLocal(p)+g.maybeDigits(), freeMail[g.r.IntN(len(freeMail))])
}

// claim answers an address for p at domain made from local: a mailbox is
// one person's (Gmail gives maria.garcia@gmail.com once, and ignores its
// dots), so when another person holds it a number is added, as providers
// and employers do.
func (g *generator) claim(p *person, local, domain string) string {
	base := local + "@" + domain
	addr := base
	// the numbers go on from the last one given at this address, so that
	// the thousandth John Smith does not try the 999 before him
	n := g.suffixes[base]
	if n == 0 {
		n = 2 + g.r.IntN(90)
	}
	for {
		key := match.NormalizeEmail(addr, match.EmailOptions{StripPlusTags: true})
		if owner, taken := g.mailboxes[key]; !taken || owner == p.id {
			g.mailboxes[key] = p.id
			if addr != base {
				g.suffixes[base] = n
			}
			return addr
		}
		addr = local + strconv.Itoa(n) + "@" + domain
		n++
	}
}

func (g *generator) maybeDigits() string {
	if g.r.IntN(3) == 0 {
		return strconv.Itoa(g.r.IntN(100))
	}
	return ""
}

// emailLocal is one of the usual forms of a personal address.
func (g *generator) emailLocal(p *person) string {
	gv, fm := p.ag, p.af
	if gv == "" {
		gv = "x"
	}
	switch g.r.IntN(5) {
	case 0:
		return gv + fm
	case 1:
		return gv[:1] + fm
	case 2:
		return fm + "." + gv
	default:
		return gv + "." + fm
	}
}

// unit generates one person with their accounts, and sometimes a trap
// person beside them.
func (g *generator) unit(want int) {
	r, c := g.r, g.c
	p := g.newPerson()
	n := 1
	if r.Float64() < c.DupRate {
		switch x := r.Float64(); {
		case x < 0.7:
			n = 2
		case x < 0.9:
			n = 3
		default:
			n = 4
		}
	}
	var trap *person
	var kind string
	switch x := r.Float64(); {
	case x < c.SiblingRate:
		trap, kind = g.sibling(p, false), "sibling"
	case x < c.SiblingRate+c.TwinRate:
		trap, kind = g.sibling(p, true), "twin"
	case x < c.SiblingRate+c.TwinRate+c.NamesakeRate:
		trap, kind = g.namesake(p), "namesake"
	case x < c.SiblingRate+c.TwinRate+c.NamesakeRate+c.SharedEmailRate:
		trap, kind = g.colleague(p), "shared_email"
	}
	first := len(g.set.Records)
	g.accounts(p, n, want)
	if trap != nil {
		before := len(g.set.Records)
		g.accounts(trap, 1, want)
		if len(g.set.Records) > before {
			g.set.Traps[kind] += before - first // the trap's account against each of p's
		}
	}
}

// sibling shares the family, the home (postcode, home phone, address of
// sign-in), the clients and often groups; a twin also the birth date.
func (g *generator) sibling(p *person, twin bool) *person {
	s := g.newPerson()
	s.postcode, s.home, s.homeIP = p.postcode, p.home, p.homeIP
	s.clients = p.clients
	s.groups = append([]string(nil), p.groups...)
	given := s.given
	for given == p.given || match.Nickname(given, p.given) {
		given = g.givenName(g.r.IntN(2) == 0)
	}
	s.setName(given, p.family)
	if twin {
		s.birth = p.birth
	} else {
		y, _ := strconv.Atoi(p.birth[:4])
		d := 1 + g.r.IntN(12)
		if g.r.IntN(2) == 0 {
			d = -d
		}
		s.birth = g.birthDate(y + d)
	}
	g.emails(s)
	return s
}

// namesake has one of the most common full names and nothing else of p's;
// p is given that name too.
func (g *generator) namesake(p *person) *person {
	n := commonFullNames[pick(g.r, len(commonFullNames))]
	p.setName(n[0], n[1])
	g.emails(p)
	s := g.newPerson()
	s.setName(n[0], n[1])
	g.emails(s)
	for s.birth == p.birth {
		s.birth = g.birthDate(1950 + g.r.IntN(58))
	}
	return s
}

// colleague works at p's employer and uses the same shared address
// (info@…) as p.
func (g *generator) colleague(p *person) *person {
	s := g.newPerson()
	s.company, s.workIP = p.company, p.workIP
	p.workEmail = "info@" + p.company
	s.workEmail = p.workEmail
	p.shareWorkEmail, s.shareWorkEmail = true, true
	return s
}
