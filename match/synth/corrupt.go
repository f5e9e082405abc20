package synth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"usermerge/match"
)

// Corruption kinds, as Set.Corruptions counts them.
const (
	CorruptTypo           = "typo"           // a letter inserted, deleted, substituted or two transposed
	CorruptOCR            = "ocr"            // o/0, l/1, m/rn, S/5, B/8
	CorruptPhonetic       = "phonetic"       // ph/f, ck/k, c/k, ie/y, double letters single
	CorruptNickname       = "nickname"       // Robert: Bob
	CorruptInitial        = "initial"        // John: J.
	CorruptSwapped        = "swapped"        // given and family exchanged
	CorruptTransliterated = "transliterated" // Müller: Mueller, Nguyễn: Nguyen
	CorruptCase           = "case"           // SMITH
	CorruptMissing        = "missing"        // a profile attribute left out
	CorruptBirthDigit     = "birth_date_digit"
	CorruptBirthSwap      = "birth_date_day_month"
	CorruptEmailVariant   = "email_variant" // Gmail dots, +tag, case, googlemail.com
	CorruptEmailOther     = "email_other"   // the person's other address (work or free mail)
	CorruptEmailDomain    = "email_domain"  // the same local part at another provider
	CorruptEmailMissing   = "email_missing"
	CorruptPhoneTypo      = "phone_typo"
	CorruptPostcodeTypo   = "postcode_typo"
	CorruptPostcodeFormat = "postcode_format"
	CorruptEmployeeTypo   = "employee_typo"
	CorruptIDConflict     = "external_id_conflict" // another id of a system than the first account's
)

type corruption struct {
	kind   string
	weight int
}

// corruptions and their weights: name errors are the most common, as in
// FEBRL's defaults; the person's other e-mail address is common because
// duplicates come from another source (self-registration next to HR).
var corruptions = []corruption{
	{CorruptTypo, 20}, {CorruptOCR, 4}, {CorruptPhonetic, 8}, {CorruptNickname, 10}, {CorruptInitial, 4},
	{CorruptSwapped, 4}, {CorruptCase, 3}, {CorruptMissing, 10}, {CorruptBirthDigit, 5}, {CorruptBirthSwap, 2},
	{CorruptEmailVariant, 12}, {CorruptEmailOther, 14}, {CorruptEmailDomain, 5}, {CorruptEmailMissing, 2},
	{CorruptPhoneTypo, 3}, {CorruptPostcodeTypo, 2}, {CorruptPostcodeFormat, 4}, {CorruptEmployeeTypo, 2},
}

var corruptionTotal = func() int {
	t := 0
	for _, c := range corruptions {
		t += c.weight
	}
	return t
}()

// corrupt turns rec, a fresh account of p, into duplicate number i: one to
// three corruptions, and a transliteration of a non-ASCII name half the
// time.
func (g *generator) corrupt(p *person, rec *match.Record, i int) {
	r := g.r
	rec.Records = int64(r.IntN(20))
	rec.Created += int64(86400 * (1 + r.IntN(700)))
	n := 1 + r.IntN(3)
	for range n {
		x := r.IntN(corruptionTotal)
		for _, c := range corruptions {
			if x -= c.weight; x < 0 {
				if g.apply(p, rec, c.kind) {
					g.set.Corruptions[c.kind]++
				}
				break
			}
		}
	}
	if !isASCII(rec.Name) && r.IntN(2) == 0 {
		g.editName(rec, func(s string) string { return translit(s) })
		g.set.Corruptions[CorruptTransliterated]++
	}
	rec.Login = g.login(p, rec.Email)
	if rec.Login == "" {
		rec.Login = p.ag + p.af
	}
}

// editName changes the given or the family name (or both) through f,
// wherever the account holds them.
func (g *generator) editName(rec *match.Record, f func(string) string) {
	if rec.Given != "" || rec.Family != "" {
		rec.Given, rec.Family = f(rec.Given), f(rec.Family)
		rec.Name = strings.TrimSpace(rec.Given + " " + rec.Family)
		return
	}
	rec.Name = f(rec.Name)
}

// editOnePart changes one word of the name (given or family).
func (g *generator) editOnePart(rec *match.Record, f func(string) string) bool {
	if rec.Given != "" || rec.Family != "" {
		if g.r.IntN(2) == 0 {
			rec.Given = f(rec.Given)
		} else {
			rec.Family = f(rec.Family)
		}
		rec.Name = strings.TrimSpace(rec.Given + " " + rec.Family)
		return true
	}
	words := strings.Fields(rec.Name)
	if len(words) == 0 {
		return false
	}
	w := g.r.IntN(len(words))
	words[w] = f(words[w])
	rec.Name = strings.Join(words, " ")
	return true
}

func (g *generator) apply(p *person, rec *match.Record, kind string) bool {
	r := g.r
	switch kind {
	case CorruptTypo:
		return g.editOnePart(rec, g.typo)
	case CorruptOCR:
		return g.editOnePart(rec, g.ocr)
	case CorruptPhonetic:
		return g.editOnePart(rec, phonetic)
	case CorruptCase:
		g.editName(rec, strings.ToUpper)
		return true
	case CorruptNickname:
		nn := nicknamesOf(p.given)
		if len(nn) == 0 {
			return false
		}
		nick := nn[r.IntN(len(nn))]
		nick = strings.ToUpper(nick[:1]) + nick[1:]
		return g.setGiven(rec, p, nick)
	case CorruptInitial:
		first, _ := utf8.DecodeRuneInString(p.given)
		return g.setGiven(rec, p, string(unicode.ToUpper(first))+".")
	case CorruptSwapped:
		if rec.Given != "" || rec.Family != "" {
			rec.Given, rec.Family = rec.Family, rec.Given
		}
		rec.Name = p.family + " " + p.given
		return true
	case CorruptMissing:
		fields := []*string{&rec.BirthDate, &rec.Phone, &rec.Postcode, &rec.EmployeeNumber}
		f := fields[r.IntN(len(fields))]
		if *f == "" {
			return false
		}
		*f = ""
		return true
	case CorruptBirthDigit:
		if rec.BirthDate == "" {
			return false
		}
		b := []byte(rec.BirthDate)
		pos := []int{2, 3, 6, 8, 9}[r.IntN(5)]
		old := b[pos]
		for b[pos] == old {
			b[pos] = byte('0' + r.IntN(10))
		}
		if pos == 8 && b[8] > '2' { // keep it a date
			b[8] = '1'
		}
		if string(b) == rec.BirthDate {
			return false
		}
		rec.BirthDate = string(b)
		return true
	case CorruptBirthSwap:
		d := rec.BirthDate
		if d == "" || d[5:7] == d[8:10] || d[8:10] > "12" {
			return false
		}
		rec.BirthDate = d[:5] + d[8:10] + "-" + d[5:7]
		return true
	case CorruptEmailVariant:
		return g.emailVariant(rec)
	case CorruptEmailOther:
		if rec.Email == p.workEmail {
			rec.Email = p.freeEmail
		} else {
			rec.Email = p.workEmail
		}
		return true
	case CorruptEmailDomain:
		i := strings.LastIndexByte(rec.Email, '@')
		if i < 0 {
			return false
		}
		dom := freeMail[r.IntN(len(freeMail))]
		if rec.Email[i+1:] == dom {
			return false
		}
		// the same local part elsewhere, unless another person holds it
		addr := rec.Email[:i+1] + dom
		key := match.NormalizeEmail(addr, match.EmailOptions{StripPlusTags: true})
		if owner, taken := g.mailboxes[key]; taken && owner != p.id {
			return false
		}
		g.mailboxes[key] = p.id
		rec.Email = addr
		return true
	case CorruptEmailMissing:
		rec.Email = ""
		return true
	case CorruptPhoneTypo:
		if rec.Phone == "" {
			return false
		}
		rec.Phone = g.digitTypo(rec.Phone)
		return true
	case CorruptPostcodeTypo:
		if rec.Postcode == "" {
			return false
		}
		rec.Postcode = g.typo(rec.Postcode)
		return true
	case CorruptPostcodeFormat:
		if rec.Postcode == "" {
			return false
		}
		rec.Postcode = strings.ToLower(strings.ReplaceAll(rec.Postcode, " ", ""))
		return true
	case CorruptEmployeeTypo:
		if rec.EmployeeNumber == "" {
			return false
		}
		rec.EmployeeNumber = g.digitTypo(rec.EmployeeNumber)
		return true
	}
	return false
}

func (g *generator) setGiven(rec *match.Record, p *person, given string) bool {
	if rec.Given != "" || rec.Family != "" {
		rec.Given = given
		rec.Name = strings.TrimSpace(rec.Given + " " + rec.Family)
		return true
	}
	rec.Name = given + " " + p.family
	return true
}

func (g *generator) emailVariant(rec *match.Record) bool {
	r := g.r
	i := strings.LastIndexByte(rec.Email, '@')
	if i <= 0 {
		return false
	}
	local, dom := rec.Email[:i], rec.Email[i+1:]
	switch {
	case dom == "gmail.com" || dom == "googlemail.com":
		switch r.IntN(3) {
		case 0:
			local = strings.ReplaceAll(local, ".", "")
			if len(local) > 2 {
				k := 1 + r.IntN(len(local)-1)
				local = local[:k] + "." + local[k:]
			}
		case 1:
			local += "+" + []string{"learning", "work", "news", "lms"}[r.IntN(4)]
		default:
			if dom == "gmail.com" {
				dom = "googlemail.com"
			} else {
				dom = "gmail.com"
			}
		}
	default:
		if r.IntN(2) == 0 {
			local = strings.ToUpper(local[:1]) + local[1:]
			dom = strings.ToUpper(dom)
		} else {
			local += "+lms"
		}
	}
	e := local + "@" + dom
	if e == rec.Email {
		return false
	}
	rec.Email = e
	return true
}

// typo makes one keying error in s: a letter inserted, deleted,
// substituted or two neighbours transposed (the four FEBRL edits).
func (g *generator) typo(s string) string {
	rs := []rune(s)
	if len(rs) < 2 {
		return s
	}
	r := g.r
	const letters = "abcdefghijklmnopqrstuvwxyz"
	k := 1 + r.IntN(len(rs)-1) // the first letter stays, as people seldom mistype it
	l := rune(letters[r.IntN(len(letters))])
	switch r.IntN(4) {
	case 0:
		rs = append(rs[:k], append([]rune{l}, rs[k:]...)...)
	case 1:
		if len(rs) > 3 {
			rs = append(rs[:k], rs[k+1:]...)
		} else {
			rs[k] = l
		}
	case 2:
		rs[k] = l
	default:
		if k+1 < len(rs) {
			rs[k], rs[k+1] = rs[k+1], rs[k]
		} else {
			rs[k-1], rs[k] = rs[k], rs[k-1]
		}
	}
	return string(rs)
}

func (g *generator) digitTypo(s string) string {
	b := []byte(s)
	var ds []int
	for i, c := range b {
		if c >= '0' && c <= '9' {
			ds = append(ds, i)
		}
	}
	if len(ds) == 0 {
		return s
	}
	i := ds[g.r.IntN(len(ds))]
	old := b[i]
	for b[i] == old {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

var ocrPairs = [][2]string{{"m", "rn"}, {"rn", "m"}, {"o", "0"}, {"O", "0"}, {"l", "1"}, {"i", "l"}, {"S", "5"}, {"B", "8"}, {"g", "q"}, {"cl", "d"}, {"e", "c"}}

// ocr replaces one character the way text recognition confuses it.
func (g *generator) ocr(s string) string {
	start := g.r.IntN(len(ocrPairs))
	for j := range ocrPairs {
		p := ocrPairs[(start+j)%len(ocrPairs)]
		if i := strings.Index(s, p[0]); i >= 0 {
			return s[:i] + p[1] + s[i+len(p[0]):]
		}
	}
	return g.typo(s)
}

var phoneticPairs = [][2]string{{"ph", "f"}, {"ck", "k"}, {"ie", "y"}, {"ey", "y"}, {"ou", "u"}, {"ee", "ea"}, {"th", "t"},
	{"tt", "t"}, {"ll", "l"}, {"nn", "n"}, {"ss", "s"}, {"mm", "m"}, {"c", "k"}, {"y", "i"}, {"z", "s"}, {"v", "w"}, {"ai", "ay"}}

// phonetic replaces one spelling by another that sounds the same.
func phonetic(s string) string {
	for _, p := range phoneticPairs {
		if i := strings.Index(s, p[0]); i > 0 { // not the first letter
			return s[:i] + p[1] + s[i+len(p[0]):]
		}
	}
	for _, p := range phoneticPairs {
		if i := strings.Index(s, p[1]); i > 0 && len(p[1]) < 3 {
			return s[:i] + p[0] + s[i+len(p[1]):]
		}
	}
	return s + "e"
}

// translit writes s in ASCII as a system without accents would: German
// letters spelled out (ü: ue), other accents dropped (ễ: e, ł: l).
func translit(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ä':
			b.WriteString("ae")
		case 'ö':
			b.WriteString("oe")
		case 'ü':
			b.WriteString("ue")
		case 'Ä':
			b.WriteString("Ae")
		case 'Ö':
			b.WriteString("Oe")
		case 'Ü':
			b.WriteString("Ue")
		case 'ß':
			b.WriteString("ss")
		default:
			if r < 0x80 {
				b.WriteRune(r)
				continue
			}
			f := match.FoldName(string(r))
			if f == "" {
				continue
			}
			if unicode.IsUpper(r) {
				f = strings.ToUpper(f)
			}
			b.WriteString(f)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nicknameCache holds match.NicknamesOf of every listed given name, read
// only once built, so that generators may run at once.
var nicknameCache = func() map[string][]string {
	m := map[string][]string{}
	for _, l := range [][]string{maleNames, femaleNames} {
		for _, n := range l {
			m[n] = match.NicknamesOf(n)
		}
	}
	return m
}()

// nicknamesOf answers the nicknames of a listed given name (made-up names
// have none).
func nicknamesOf(given string) []string { return nicknameCache[given] }
