package synth

import (
	"slices"
	"strconv"
	"strings"

	"usermerge/match"
)

// accounts appends n accounts of p (the first as the person is, the others
// corrupted), stopping at want accounts in all when want > 0.
func (g *generator) accounts(p *person, n, want int) {
	s := g.set
	seen := map[string]bool{} // systems of which an account of p holds an id
	for i := range n {
		if want > 0 && len(s.Records) >= want {
			break
		}
		if i == 0 {
			s.Persons++
		}
		k := len(s.Records)
		rec := g.original(p, k)
		if i > 0 {
			g.corrupt(p, &rec, i)
		}
		g.oneIDPerSystem(&rec, seen, k)
		rec.Login = g.uniqueLogin(rec.Login, k)
		s.Records = append(s.Records, rec)
		s.person = append(s.person, p.id)
	}
}

// original is p's account as the person is: each profile attribute present
// with its own probability, as an account that came from one source.
func (g *generator) original(p *person, k int) match.Record {
	r := g.r
	rec := match.Record{ID: ID(k), Active: r.Float64() < 0.95}
	rec.Name = p.given + " " + p.family
	if r.Float64() < 0.7 {
		rec.Given, rec.Family = p.given, p.family
	}
	if r.Float64() < 0.75 {
		rec.BirthDate = p.birth
	}
	switch x := r.Float64(); {
	case x < 0.45:
		rec.Phone = g.formatPhone(p.mobile)
	case x < 0.6:
		rec.Phone = g.formatPhone(p.home)
	}
	if r.Float64() < 0.7 {
		rec.Postcode = p.postcode
	}
	if p.employee != "" && r.Float64() < 0.8 {
		rec.EmployeeNumber = p.employee
	}
	if p.shareWorkEmail || r.Float64() < 0.55 {
		rec.Email = p.workEmail
	} else {
		rec.Email = p.freeEmail
	}
	rec.Login = g.login(p, rec.Email)
	if p.hr != "" && r.Float64() < 0.7 {
		rec.ExternalIDs = append(rec.ExternalIDs, match.ExternalID{System: "hr", Value: p.hr})
	}
	if r.Float64() < 0.5 {
		rec.ExternalIDs = append(rec.ExternalIDs, match.ExternalID{System: "sso", Value: g.ssoID(k)})
	}
	for _, gr := range p.groups {
		if r.Float64() < 0.8 {
			rec.Groups = append(rec.Groups, gr)
		}
	}
	rec.Created = p.created + int64(r.IntN(86400*30))
	g.signIns(p, &rec)
	rec.Records = int64(r.IntN(400))
	return rec
}

// ssoID is unique to account k (its scrambled number) with random digits
// after it.
func (g *generator) ssoID(k int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 4)
	for i := range b {
		b[i] = hex[g.r.IntN(16)]
	}
	return "sso|" + ID(k)[1:] + string(b)
}

// signIns gives rec 0 to 6 sign-ins from p's home or office with p's
// clients, newest first, as distinct (address, client, period).
func (g *generator) signIns(p *person, rec *match.Record) {
	r := g.r
	n := r.IntN(7)
	if n == 0 {
		return
	}
	at := g.c.Now - int64(r.IntN(86400*60))
	rec.LastSignIn = at
	for range n {
		addr := p.homeIP
		if r.IntN(3) == 0 {
			addr = p.workIP
		}
		k := match.SignInKey{Address: addr, Client: p.clients[r.IntN(len(p.clients))], Period: at / PeriodSeconds}
		if !slices.Contains(rec.SignIns, k) && len(rec.SignIns) < match.MaxSignInKeys {
			rec.SignIns = append(rec.SignIns, k)
		}
		at -= int64(r.IntN(86400 * 40))
		if at < rec.Created {
			break
		}
	}
}

// formatPhone writes a national number in one of the usual forms.
func (g *generator) formatPhone(n string) string {
	switch g.r.IntN(4) {
	case 0:
		return "+44 " + n[:4] + " " + n[4:]
	case 1:
		return "0" + n
	case 2:
		return "0" + n[:4] + " " + n[4:7] + " " + n[7:]
	default:
		return "+44 (0)" + n[:4] + "-" + n[4:]
	}
}

// login is one of the usual forms: the e-mail address's local part, the
// initial and family name, the e-mail address itself.
func (g *generator) login(p *person, email string) string {
	local := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		local = email[:i]
	}
	gv := p.ag
	if gv == "" {
		gv = "x"
	}
	switch g.r.IntN(4) {
	case 0:
		return email
	case 1:
		return gv[:1] + p.af + g.maybeDigits()
	default:
		return local
	}
}

// uniqueLogin: logins are unique in a tenant, so a taken one gets the
// account's number.
func (g *generator) uniqueLogin(l string, k int) string {
	if l == "" {
		l = "user"
	}
	if _, taken := g.logins[l]; taken {
		l += "." + strconv.Itoa(k)
	}
	g.logins[l] = struct{}{}
	return l
}

// oneIDPerSystem: an external system knows a person once (the database
// refuses one value on two accounts), so a later account of the person
// mostly holds no id of a system an earlier one holds, and now and then
// another id of it (a system that issued new ids), which the finder must
// weigh against the rest.
func (g *generator) oneIDPerSystem(rec *match.Record, seen map[string]bool, k int) {
	kept := rec.ExternalIDs[:0]
	for _, x := range rec.ExternalIDs {
		if !seen[x.System] {
			seen[x.System] = true
			kept = append(kept, x)
			continue
		}
		if g.r.Float64() < 0.97 {
			continue
		}
		x.Value = x.Value + "-" + strconv.Itoa(k)
		kept = append(kept, x)
		g.set.Corruptions[CorruptIDConflict]++
	}
	rec.ExternalIDs = kept
}
