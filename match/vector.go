package match

import (
	"fmt"
	"slices"
	"strconv"
)

// The comparison vector of a pair: one level per field. Level 0 of every
// field is "missing" (either side lacks the value, or the field does not
// take part), which weighs nothing.

// The levels of the fields without a comparison of their own.
const (
	extMissing   = 0
	extSame      = 1 // the same value of the same system
	extDifferent = 2 // the same system, only different values

	signInMissing     = 0
	signInSameAddress = 1 // an address shared in the same period
	signInSameClient  = 2 // a client shared in the same period, no address
	signInNone        = 3 // both signed in, nothing shared

	// The name levels past NameJW88 tell NameDifferent apart: names still
	// alike (both parts Jaro-Winkler ≥ NameCloseMin: two typos, one in
	// each part), a family name shared by two unlike given names (what
	// siblings, twins and spouses look like), a given name kept under an
	// unlike family name (what a marriage looks like), and neither.
	nameClose           = 8
	nameGivenDifferent  = 9
	nameFamilyDifferent = 10
	nameDifferent       = 11

	groupsMissing = 0
	groupsShared  = 1
	groupsNone    = 2
)

// fieldSpec is one field of the vector: its name, its levels' stable names
// (index = level) and each level's outcome.
type fieldSpec struct {
	name     string
	levels   []string
	outcomes []string
}

const (
	agreed    = "agreed"
	close_    = "close"
	disagreed = "disagreed"
	missing   = "missing"
)

// fields is the order of the vector. Its levels are those of the field's
// comparison function (name: NameLevel, and so on).
var fields = [...]fieldSpec{
	{FieldName, append(slices.Clone(nameLevelNames[:NameDifferent]), "close", "given_different", "family_different", "different"),
		[]string{missing, agreed, agreed, close_, close_, close_, close_, close_, close_, disagreed, disagreed, disagreed}},
	{FieldEmail, emailLevelNames[:], []string{missing, agreed, agreed, close_, close_, disagreed}},
	{FieldBirthDate, dateLevelNames[:], []string{missing, agreed, close_, close_, close_, disagreed}},
	{FieldPhone, phoneLevelNames[:], []string{missing, agreed, close_, disagreed}},
	{FieldEmployeeNumber, idLevelNames[:], []string{missing, agreed, agreed, disagreed}},
	{FieldPostcode, postcodeLevelNames[:], []string{missing, agreed, close_, disagreed}},
	{FieldExternalID, []string{"missing", "exact", "different"}, []string{missing, agreed, disagreed}},
	{FieldSignIn, []string{"missing", "same_address", "same_client", "none"}, []string{missing, agreed, close_, disagreed}},
	{FieldGroups, []string{"missing", "shared", "none"}, []string{missing, agreed, disagreed}},
}

const nFields = len(fields)

// Indexes into fields.
const (
	fName = iota
	fEmail
	fBirth
	fPhone
	fEmp
	fPostcode
	fExt
	fSignIn
	fGroups
)

// fieldIndex answers the index of a field name, or -1.
func fieldIndex(name string) int {
	for i := range fields {
		if fields[i].name == name {
			return i
		}
	}
	return -1
}

// fieldMask says which fields take part under rules.
func fieldMask(rules *Rules) (m [nFields]bool) {
	for _, f := range rules.Fields {
		if i := fieldIndex(f); i >= 0 {
			m[i] = true
		}
	}
	return m
}

// vec is a pair's comparison vector with the similarities the explanation
// shows.
type vec struct {
	level     [nFields]uint8
	nameSim   float64
	emailSim  float64
	sharedExt int // index in a.ext of the value that decided the external-ID level, -1 for none
}

// pattern packs a vector's levels into one number, four bits a field, for
// counting identical vectors.
func (v *vec) pattern() uint64 {
	var p uint64
	for i, l := range v.level {
		p |= uint64(l) << (4 * i)
	}
	return p
}

func patternLevel(p uint64, field int) uint8 { return uint8(p>>(4*field)) & 15 }

// compare is the comparison vector of two prepared records.
func compare(in *interner, mask *[nFields]bool, a, b *rec) vec {
	v := vec{sharedExt: -1}
	if mask[fName] {
		c := ComparePrepared(in.prepared(a), in.prepared(b))
		v.level[fName], v.nameSim = uint8(c.Level), c.Similarity
		if c.Level == NameDifferent {
			v.level[fName] = refineDifferent(in, a, b, c.Similarity)
		}
	}
	if mask[fEmail] {
		v.level[fEmail], v.emailSim = compareEmails(a, b)
	}
	if mask[fBirth] {
		v.level[fBirth] = uint8(compareDates(a.birth, b.birth))
	}
	if mask[fPhone] {
		v.level[fPhone] = uint8(comparePhones(a.phone, b.phone))
	}
	if mask[fEmp] && a.empN != "" && b.empN != "" {
		switch {
		case a.emp == b.emp:
			v.level[fEmp] = uint8(IDExact)
		case a.empN == b.empN:
			v.level[fEmp] = uint8(IDNormalised)
		default:
			v.level[fEmp] = uint8(IDDifferent)
		}
	}
	if mask[fPostcode] && a.postcode != "" && b.postcode != "" {
		switch {
		case a.postcode == b.postcode:
			v.level[fPostcode] = uint8(PostcodeExact)
		default:
			pa, oka := runePrefix(a.postcode, PostcodePrefixRunes)
			pb, okb := runePrefix(b.postcode, PostcodePrefixRunes)
			if oka && okb && pa == pb {
				v.level[fPostcode] = uint8(PostcodePrefix)
			} else {
				v.level[fPostcode] = uint8(PostcodeDifferent)
			}
		}
	}
	if mask[fExt] {
		v.level[fExt], v.sharedExt = compareExt(a.ext, b.ext)
	}
	if mask[fSignIn] && len(a.signIns) > 0 && len(b.signIns) > 0 {
		v.level[fSignIn] = signInNone
		for _, h := range sharedHashes(a.signIns, b.signIns) {
			if h&1 == 0 {
				v.level[fSignIn] = signInSameAddress
				break
			}
			v.level[fSignIn] = signInSameClient
		}
	}
	if mask[fGroups] && len(a.groups) > 0 && len(b.groups) > 0 {
		v.level[fGroups] = groupsNone
		if len(sharedHashes(a.groups, b.groups)) > 0 {
			v.level[fGroups] = groupsShared
		}
	}
	return v
}

// NameCloseMin is the Jaro-Winkler similarity of both name parts above
// which two names that reach no level of CompareNames are still close.
const NameCloseMin = 0.75

// NameVariantMin is the Jaro-Winkler similarity at which a swapped name
// or an initial still counts with a typo in a part (Jawa Giemhiez /
// Giemhiez Java, C. Emtiosnman / Charles Emstiosman).
const NameVariantMin = 0.8

// refineDifferent tells apart names CompareNames calls different (sim is
// its similarity, the lower of the two parts'): swapped with a typo,
// an initial with a typo in the family name, close, or which part differs.
func refineDifferent(in *interner, a, b *rec, sim float64) uint8 {
	ga, fa, gb, fb := &in.parts[a.given], &in.parts[a.family], &in.parts[b.given], &in.parts[b.family]
	if min(partSimilarity(ga.n, ga.f, fb.n, fb.f), partSimilarity(fa.n, fa.f, gb.n, gb.f)) >= NameVariantMin {
		return uint8(NameSwapped)
	}
	if ga.initial == gb.initial && (ga.isInitial || gb.isInitial) && partSimilarity(fa.n, fa.f, fb.n, fb.f) >= NameVariantMin {
		return uint8(NameInitial)
	}
	switch {
	case sim >= NameCloseMin:
		return nameClose
	case samePart(fa.n, fa.f, fb.n, fb.f):
		return nameGivenDifferent
	case samePart(ga.n, ga.f, gb.n, gb.f):
		return nameFamilyDifferent
	}
	return nameDifferent
}

// compareEmails is CompareEmails on prepared addresses.
func compareEmails(a, b *rec) (uint8, float64) {
	if a.emailN == "" || b.emailN == "" {
		return uint8(EmailMissing), 0
	}
	if a.email == b.email {
		return uint8(EmailExact), 1
	}
	if a.emailN == b.emailN {
		return uint8(EmailNormalised), 1
	}
	la, lb := a.emailN[:a.localLen], b.emailN[:b.localLen]
	if la == lb {
		return uint8(EmailSameLocal), 1
	}
	sim := JaroWinkler(la, lb)
	if sim >= EmailLocalJWMin {
		return uint8(EmailLocalJW), sim
	}
	return uint8(EmailDifferent), sim
}

// compareDates is CompareBirthDates on dates packed yyyymmdd.
func compareDates(a, b int32) DateLevel {
	if a == 0 || b == 0 {
		return DateMissing
	}
	ya, ma, da := a/10000, a/100%100, a%100
	yb, mb, db := b/10000, b/100%100, b%100
	switch {
	case a == b:
		return DateExact
	case ya == yb && ma == db && da == mb:
		return DateSwapped
	case ma == mb && da == db && (ya-yb == 1 || yb-ya == 1):
		return DateYearOff
	}
	differ := 0
	for _, d := range [...]bool{ya != yb, ma != mb, da != db} {
		if d {
			differ++
		}
	}
	if differ == 1 {
		return DateOneDiffers
	}
	return DateDifferent
}

// comparePhones is ComparePhones on normalised numbers.
func comparePhones(a, b string) PhoneLevel {
	switch {
	case a == "" || b == "":
		return PhoneMissing
	case a == b:
		return PhoneExact
	case len(a) >= PhoneTailDigits && len(b) >= PhoneTailDigits &&
		a[len(a)-PhoneTailDigits:] == b[len(b)-PhoneTailDigits:]:
		return PhoneSameTail
	}
	return PhoneDifferent
}

// compareExt: a shared (system, value) is agreement; otherwise a system
// both have, with different values, is disagreement; otherwise missing.
func compareExt(a, b []extID) (uint8, int) {
	level, at := uint8(extMissing), -1
	for i, x := range a {
		for _, y := range b {
			if x.system != y.system {
				continue
			}
			if x.value == y.value {
				return extSame, i
			}
			if level == extMissing {
				level, at = extDifferent, i
			}
		}
	}
	return level, at
}

// sharedHashes answers the values two sorted lists share (usually none,
// so no allocation).
func sharedHashes(a, b []uint64) []uint64 {
	var out []uint64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// evidence is the explanation of a scored vector.
func evidence(in *interner, a, b *rec, v *vec, w *weights) []Evidence {
	ev := make([]Evidence, 0, nFields)
	for f := range fields {
		if !w.mask[f] {
			continue
		}
		l := v.level[f]
		e := Evidence{Field: fields[f].name, Level: fields[f].levels[l], Outcome: fields[f].outcomes[l]}
		e.Weight = w.field(f, l)
		switch f {
		case fName:
			e.Similarity = v.nameSim
			e.A, e.B = in.displayName(a), in.displayName(b)
			if l == uint8(NameExact) || l == uint8(NameNormalised) {
				e.Weight = w.nameTF(in, a, l)
			}
		case fEmail:
			e.Similarity = v.emailSim
			e.A, e.B = a.email, b.email
		case fBirth:
			e.A, e.B = formatDate(a.birth), formatDate(b.birth)
		case fPhone:
			e.A, e.B = a.phone, b.phone
		case fEmp:
			e.A, e.B = a.emp, b.emp
		case fPostcode:
			e.A, e.B = a.postcode, b.postcode
		case fExt:
			if v.sharedExt >= 0 {
				x := a.ext[v.sharedExt]
				e.A = x.system + " " + x.value
				for _, y := range b.ext {
					if y.system == x.system && (l == extDifferent || y.value == x.value) {
						e.B = y.system + " " + y.value
						break
					}
				}
			} else {
				e.A, e.B = extList(a.ext), extList(b.ext)
			}
		case fSignIn:
			e.A, e.B = signInText(a), signInText(b)
		case fGroups:
			e.A, e.B = groupsText(len(a.groups)), groupsText(len(b.groups))
		}
		ev = append(ev, e)
	}
	return ev
}

func (in *interner) displayName(r *rec) string {
	g, f := in.parts[r.given].typed, in.parts[r.family].typed
	switch {
	case g == "":
		return f
	case f == "":
		return g
	}
	return g + " " + f
}

func formatDate(d int32) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

func extList(xs []extID) string {
	if len(xs) == 0 {
		return ""
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.system + " " + x.value
	}
	slices.Sort(s)
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

func signInText(r *rec) string {
	if len(r.signIns) == 0 {
		return ""
	}
	if r.signInPeriods == 1 {
		return "signed in during 1 period"
	}
	return "signed in during " + strconv.Itoa(int(r.signInPeriods)) + " periods"
}

func groupsText(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "member of 1 group"
	}
	return "member of " + strconv.Itoa(n) + " groups"
}
