package demo

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

const day = 24 * time.Hour

// account is a learner account being generated.
type account struct {
	id, login, email, name string
	inactive               bool
	created                time.Time
	from, to               time.Time // activity happens in [from, to]; to is the last sign-in
	units, jobs            []string
	has                    map[string]bool // items already held, "course/c-x", so each is held once
	client, mobile, homeIP string
	attrs                  map[string]string // profile attributes (attributes.go)
}

// folds maps the letters of the name lists to ASCII for logins and e-mails.
var folds = map[rune]string{
	'á': "a", 'à': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "a", 'ả': "a", 'ạ': "a", 'ầ': "a", 'ặ': "a",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'ễ': "e",
	'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ı': "i", 'ị': "i",
	'ó': "o", 'ò': "o", 'ô': "o", 'ö': "o", 'õ': "o", 'ø': "o", 'ỗ': "o", 'ơ': "o",
	'ú': "u", 'ù': "u", 'û': "u", 'ü': "u", 'ũ': "u", 'ư': "u",
	'ñ': "n", 'ń': "n", 'ç': "c", 'ć': "c", 'č': "c", 'ł': "l", 'ś': "s", 'š': "s", 'ş': "s",
	'ź': "z", 'ż': "z", 'ž': "z", 'ğ': "g", 'đ': "d", 'ß': "ss", 'ý': "y",
}

// fold turns a name into lower-case ASCII letters only: "O'Sullivan" →
// "osullivan", "Đặng" → "dang", "Ji-woo" → "jiwoo".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case folds[r] != "":
			b.WriteString(folds[r])
		}
	}
	return b.String()
}

// uniqueLogin returns base, or base2, base3, ... if taken, and takes it.
func (g *gen) uniqueLogin(base string) string {
	login := base
	for n := 2; g.logins[login]; n++ {
		login = fmt.Sprintf("%s%d", base, n)
	}
	g.logins[login] = true
	return login
}

func (g *gen) newAccount(name, login, email, unit string) *account {
	if email == "" {
		email = login + "@" + g.spec.domain
	}
	a := &account{login: login, email: email, name: name, has: map[string]bool{}}
	if unit != "" {
		a.units = []string{unit}
		a.jobs = []string{g.unitOf[unit].jobs[0]}
	}
	a.client = pick(g.r, g.spec.clients)
	a.mobile = pick(g.r, g.spec.mobileClients)
	a.homeIP = g.homeIP()
	g.accounts = append(g.accounts, a)
	return a
}

func (g *gen) homeIP() string {
	if g.r.IntN(5) == 0 {
		return fmt.Sprintf("2001:db8:%x:%x::%x", g.r.IntN(0x10000), g.r.IntN(0x10000), 1+g.r.IntN(0xfff))
	}
	return fmt.Sprintf("192.0.2.%d", 1+g.r.IntN(254))
}

// buildAccounts makes the duplicate people, the admin's learner account and
// random learners up to the tenant's size, gives them creation times and
// activity windows, and numbers them in order of creation.
func (g *gen) buildAccounts() {
	s := g.spec
	// Reserve the hand-written people first so no random learner looks like one.
	names := map[string]bool{}
	reserve := func(name, login string) {
		g.logins[login] = true
		f := strings.Fields(name)
		names[fold(f[0])+" "+fold(f[len(f)-1])] = true
		names[fold(f[len(f)-1])+" "+fold(f[0])] = true
	}
	for _, d := range s.dups {
		for _, da := range d.accounts {
			reserve(da.name, da.login)
		}
	}
	reserve(s.admin.name, s.admin.learner)
	for _, m := range s.managers {
		reserve(m.name, m.login)
	}

	adminAcc := g.newAccount(s.admin.name, s.admin.learner, "", s.admin.unit)
	adminAcc.created = g.now.Add(-729*day + time.Duration(g.r.IntN(8*3600))*time.Second)
	adminAcc.to = g.now.Add(-time.Duration(1+g.r.IntN(48)) * time.Hour)
	g.admin = adminAcc

	for _, d := range s.dups {
		var group []*account
		for i, da := range d.accounts {
			a := g.newAccount(da.name, da.login, da.email, da.unit)
			a.inactive = da.inactive
			if i == 0 {
				a.created = g.between(g.now.Add(-720*day), g.now.Add(-300*day))
			} else {
				gap := 30 * day
				if i > 1 {
					gap = 20 * day
				}
				a.created = g.between(group[i-1].created.Add(gap), g.now.Add(-60*day-time.Duration(len(d.accounts)-1-i)*25*day))
				a.mobile = pick(g.r, s.mobileClients) // a second account is often the phone's
				a.homeIP = g.homeIP()
			}
			group = append(group, a)
		}
		latest := group[len(group)-1].created
		for i, a := range group {
			da := d.accounts[i]
			switch {
			case i == 0:
				a.to = g.now.Add(-time.Duration(1+g.r.IntN(7*24)) * time.Hour)
			case da.recent:
				a.to = g.between(g.now.Add(-20*day), g.now.Add(-time.Hour))
			default:
				a.to = g.between(latest.Add(20*day), g.now.Add(-31*day))
			}
		}
		g.dups = append(g.dups, group)
	}

	for len(g.accounts) < s.accounts {
		c := pick(g.r, cultures)
		first, last := pick(g.r, c.first), pick(g.r, c.last)
		key := fold(first) + " " + fold(last)
		if names[key] {
			continue
		}
		names[key] = true
		login := g.uniqueLogin(s.loginStyle(fold(first), fold(last)))
		email := ""
		if s.loginStyle(fold(first), fold(last)) != fold(first)+"."+fold(last) {
			email = fold(first) + "." + fold(last) + "@" + s.domain
		}
		d := g.pickDivision()
		u := pick(g.r, d.units)
		a := g.newAccount(first+" "+last, login, email, u.id)
		a.jobs = []string{pick(g.r, u.jobs)}
		if g.r.IntN(7) == 0 { // some people belong to a second unit
			if u2 := pick(g.r, pick(g.r, s.divisions).units); u2.id != u.id {
				a.units = append(a.units, u2.id)
			}
		}
		if g.r.IntN(6) == 0 { // and some have a second job
			if extra := pick(g.r, s.extraJobs); !slices.Contains(a.jobs, extra) {
				a.jobs = append(a.jobs, extra)
			}
		}
		// A launch cohort at the start, the rest spread over two years.
		if g.r.IntN(10) < 3 {
			a.created = g.between(g.now.Add(-730*day), g.now.Add(-723*day))
		} else {
			a.created = g.between(g.now.Add(-723*day), g.now.Add(-3*day))
		}
		a.inactive = g.r.IntN(20) == 0
		life := g.now.Sub(a.created)
		switch n := g.r.IntN(100); {
		case a.inactive:
			a.to = a.created.Add(time.Duration(float64(life) * (0.2 + 0.7*g.r.Float64())))
		case n < 55:
			a.to = g.between(g.now.Add(-14*day), g.now.Add(-time.Minute))
		case n < 85:
			a.to = g.between(g.now.Add(-120*day), g.now.Add(-14*day))
		default:
			a.to = g.between(g.now.Add(-400*day), g.now.Add(-120*day))
		}
	}

	for _, a := range g.accounts {
		a.created = a.created.Truncate(time.Millisecond)
		a.from = a.created.Add(time.Hour)
		if a.to.Before(a.from.Add(day)) {
			a.to = a.from.Add(day)
		}
		if limit := g.now.Add(-time.Minute); a.to.After(limit) {
			a.to = limit
		}
		a.to = a.to.Truncate(time.Millisecond)
		slices.Sort(a.units)
		slices.Sort(a.jobs)
	}
	order := slices.Clone(g.accounts)
	slices.SortStableFunc(order, func(x, y *account) int {
		return cmp.Or(x.created.Compare(y.created), cmp.Compare(x.login, y.login))
	})
	for i, a := range order {
		a.id = fmt.Sprintf("u-%04d", i+1)
	}
}

func (g *gen) pickDivision() division {
	total := 0
	for _, d := range g.spec.divisions {
		total += d.weight
	}
	n := g.r.IntN(total)
	for _, d := range g.spec.divisions {
		if n < d.weight {
			return d
		}
		n -= d.weight
	}
	return g.spec.divisions[0]
}
