package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"usermerge"
)

// attributes gives accounts profile attributes, as an HR feed or a
// registration form would: most have given and family name and a birth
// date, fewer an employee number, phone or postcode, some a cost centre
// (a free key). A duplicate person's accounts share a birth date, usually
// a postcode and sometimes an employee number, and vary in the rest; some
// of their accounts have no attributes at all, as a self-registered
// account often has none.
//
// It draws from a stream of its own, so that the rest of the demo (logins,
// records, times) is what it was before accounts had attributes.
func (g *gen) attributes(seed uint64) {
	h := fnv.New64a()
	h.Write([]byte("attributes/" + g.spec.id))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	inDup := map[*account]bool{}
	for _, group := range g.dups {
		for _, a := range group {
			inDup[a] = true
		}
	}
	empNo := 1000
	person := func(a *account) map[string]string {
		m := map[string]string{}
		given, family := splitName(a.name)
		if r.IntN(10) < 8 {
			m[usermerge.AttrGivenName], m[usermerge.AttrFamilyName] = given, family
		}
		if r.IntN(10) < 7 {
			m[usermerge.AttrBirthDate] = birthDate(r, g.now)
		}
		if r.IntN(10) < 6 {
			empNo += 1 + r.IntN(9)
			m[usermerge.AttrEmployeeNumber] = fmt.Sprintf("%s-%05d", strings.ToUpper(g.spec.id[:2]), empNo)
		}
		if r.IntN(10) < 4 {
			m[usermerge.AttrPhone] = phone(r)
		}
		if r.IntN(10) < 5 {
			m[usermerge.AttrPostcode] = g.postcode(r)
		}
		if r.IntN(10) < 2 {
			m["cost_centre"] = fmt.Sprintf("CC-%03d", 100+r.IntN(40))
		}
		return m
	}
	for _, a := range sortedBy(g.accounts, func(a *account) string { return a.id }) {
		if !inDup[a] && r.IntN(10) < 9 {
			a.attrs = usermerge.CompactAttributes(person(a))
		}
	}
	for _, group := range g.dups {
		// The person's facts, then each account's view of them.
		given, family := splitName(group[0].name)
		birth, post := birthDate(r, g.now), g.postcode(r)
		empNo += 1 + r.IntN(9)
		emp := fmt.Sprintf("%s-%05d", strings.ToUpper(g.spec.id[:2]), empNo)
		for i, a := range group {
			if i > 0 && r.IntN(4) == 0 {
				continue // a self-registered account without attributes
			}
			m := map[string]string{usermerge.AttrBirthDate: birth}
			switch {
			case i == 0: // the account HR created
				m[usermerge.AttrGivenName], m[usermerge.AttrFamilyName] = given, family
				m[usermerge.AttrEmployeeNumber] = emp
			default: // the name as this account spells it, the number if HR knew it
				if r.IntN(3) > 0 {
					m[usermerge.AttrGivenName], m[usermerge.AttrFamilyName] = splitName(a.name)
				}
				if r.IntN(3) == 0 {
					m[usermerge.AttrEmployeeNumber] = emp
				}
			}
			if r.IntN(4) > 0 {
				m[usermerge.AttrPostcode] = post
			}
			if r.IntN(2) == 0 {
				m[usermerge.AttrPhone] = phone(r) // a new number on each account
			}
			a.attrs = m
		}
	}
}

// splitName reads "Given Family Name" as given name and family name: the
// first word, then the rest.
func splitName(name string) (given, family string) {
	f := strings.Fields(name)
	if len(f) < 2 {
		return name, ""
	}
	return f[0], strings.Join(f[1:], " ")
}

// birthDate is a working adult's birth date: 20 to 64 years before now.
func birthDate(r *rand.Rand, now time.Time) string {
	days := 20*365 + r.IntN(44*365)
	return now.AddDate(0, 0, -days).Format(time.DateOnly)
}

// phone is a number from a range kept for fiction (+1 555 01xx).
func phone(r *rand.Rand) string {
	return fmt.Sprintf("+1 555 01%02d %03d", r.IntN(100), r.IntN(1000))
}

// postcode is a postcode of the tenant's country: five digits for Acme,
// a UK-style code for the others.
func (g *gen) postcode(r *rand.Rand) string {
	if g.spec.id == "acme" {
		return fmt.Sprintf("%05d", 10000+r.IntN(89999))
	}
	const letters = "ABDEFGHJLNPQRSTUWXYZ"
	return fmt.Sprintf("%c%c%d %d%c%c", letters[r.IntN(len(letters))], letters[r.IntN(len(letters))], 1+r.IntN(20),
		r.IntN(10), letters[r.IntN(len(letters))], letters[r.IntN(len(letters))])
}

// attributesLine is an account's attributes as an NDJSON object in the
// export's key order, nil when it has none.
func attributesLine(m map[string]string) line {
	if len(m) == 0 {
		return nil
	}
	var l line
	for _, k := range usermerge.AttributeKeys(m) {
		l = append(l, kv{k, m[k]})
	}
	return l
}
