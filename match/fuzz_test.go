package match

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var nameSeeds = [][4]string{
	{"John", "Smith", "Jon", "Smyth"},
	{"Bob", "O'Brien", "Robert", "OBrien"},
	{"Thi", "Nguyễn", "Nguyen", "Thi"},
	{"Jörg", "Müller", "J.", "Mueller"},
	{"", "", "\xff\xfe", "\x00"},
	{"Mary  Ann", "Al-Farsi", "mary ann", "al farsi"},
	{"ﬁona", "İnce", "Ǆ", "ß"},
	{strings.Repeat("é", 600), "x", strings.Repeat("e", 600), "x"},
}

// FuzzNames: no input panics, normalisation is bounded, valid and
// idempotent, and comparison is symmetric with a name always agreeing with
// itself.
func FuzzNames(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, g1, f1, g2, f2 string) {
		for _, s := range []string{g1, f1} {
			for _, n := range []string{NormalizeName(s), FoldName(s)} {
				if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxRunes {
					t.Fatalf("normalised %q to %q: invalid or longer than MaxRunes", s, n)
				}
			}
			if n := NormalizeName(s); NormalizeName(n) != n {
				t.Fatalf("NormalizeName not idempotent on %q: %q then %q", s, n, NormalizeName(n))
			}
			if c := Soundex(s); c != "" && len(c) != 4 {
				t.Fatalf("Soundex(%q) = %q", s, c)
			}
		}
		a, b := Name{g1, f1}, Name{g2, f2}
		ab, ba := CompareNames(a, b), CompareNames(b, a)
		if ab.Level != ba.Level {
			t.Fatalf("asymmetric: %v then %v for %q, %q", ab.Level, ba.Level, a, b)
		}
		if ab.Similarity < 0 || ab.Similarity > 1 {
			t.Fatalf("similarity %v out of [0, 1]", ab.Similarity)
		}
		if self := CompareNames(a, a).Level; self != NameExact && self != NameMissing {
			t.Fatalf("a name against itself: %v", self)
		}
		if j := JaroWinkler(g1, g2); j < 0 || j > 1 {
			t.Fatalf("JaroWinkler(%q, %q) = %v", g1, g2, j)
		}
		_ = Nickname(g1, g2)
	})
}

// FuzzEmails: no input panics, normalisation is idempotent and comparison
// symmetric, and an address always agrees with itself.
func FuzzEmails(f *testing.F) {
	for _, s := range [][2]string{
		{"John.Smith+x@gmail.com", "johnsmith@googlemail.com"},
		{"a@b", "a@b."},
		{"@", ""},
		{"\xff@\xfe", "x@y"},
		{"...@gmail.com", "+@gmail.com"},
		{`"a@b"@example.com`, "a@b@example.com"},
		{strings.Repeat("a", 400) + "@x.org", "a@x.org"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, a, b string, strip bool) {
		opt := EmailOptions{StripPlusTags: strip}
		if n := NormalizeEmail(a, opt); n != "" && NormalizeEmail(n, opt) != n {
			t.Fatalf("NormalizeEmail not idempotent on %q: %q (%x) then %q (%x)", a, n, n, NormalizeEmail(n, opt), NormalizeEmail(n, opt))
		}
		ab, ba := CompareEmails(a, b, opt), CompareEmails(b, a, opt)
		if ab.Level != ba.Level {
			t.Fatalf("asymmetric: %v then %v for %q, %q", ab.Level, ba.Level, a, b)
		}
		if self := CompareEmails(a, a, opt).Level; self != EmailExact && self != EmailMissing {
			t.Fatalf("an address against itself: %v", self)
		}
		_ = EmailLocalPart(a, opt)
	})
}

// FuzzFields: the birth date, phone, identifier and postcode comparisons
// accept any input, normalising twice changes nothing, comparing is
// symmetric, and a value that is not missing agrees exactly with itself.
func FuzzFields(f *testing.F) {
	for _, s := range [][2]string{
		{"1990-03-04", "1990-04-03"},
		{"1990-02-30", "1991-03-04"},
		{"+44 (0)20 7946 0000", "020 7946 0000"},
		{"+0012345678", "0049 30 1234567"},
		{"E000123", " e 123 "},
		{"SW1A 1AA", "sw1a2ab"},
		{"", "\xff\xfe"},
		{"ﬁ İ ß ǅ", "\u00a0\u2028"},
		{strings.Repeat("0", 200), strings.Repeat("9", 70)},
	} {
		f.Add(s[0], s[1], "44")
		f.Add(s[0], s[1], "")
	}
	f.Fuzz(func(t *testing.T, a, b, cc string) {
		if ab, ba := CompareBirthDates(a, b), CompareBirthDates(b, a); ab != ba {
			t.Fatalf("dates asymmetric: %v then %v for %q, %q", ab, ba, a, b)
		}
		if self := CompareBirthDates(a, a); self != DateExact && self != DateMissing {
			t.Fatalf("a date against itself: %v", self)
		}

		opt := PhoneOptions{CountryCode: cc}
		if n := NormalizePhone(a, opt); n != "" {
			if NormalizePhone(n, opt) != n {
				t.Fatalf("NormalizePhone not idempotent on %q: %q then %q", a, n, NormalizePhone(n, opt))
			}
			if len(n) < MinPhoneDigits || len(n) > MaxPhoneDigits || strings.Trim(n, "0123456789") != "" {
				t.Fatalf("NormalizePhone(%q) = %q", a, n)
			}
		}
		if ab, ba := ComparePhones(a, b, opt), ComparePhones(b, a, opt); ab != ba {
			t.Fatalf("phones asymmetric: %v then %v for %q, %q", ab, ba, a, b)
		}
		if self := ComparePhones(a, a, opt); self != PhoneExact && self != PhoneMissing {
			t.Fatalf("a phone against itself: %v", self)
		}

		if n := NormalizeID(a); n != "" && (NormalizeID(n) != n || !utf8.ValidString(n)) {
			t.Fatalf("NormalizeID not idempotent or invalid on %q: %q then %q", a, n, NormalizeID(n))
		}
		if ab, ba := CompareIDs(a, b), CompareIDs(b, a); ab != ba {
			t.Fatalf("identifiers asymmetric: %v then %v for %q, %q", ab, ba, a, b)
		}
		if self := CompareIDs(a, a); self != IDExact && self != IDMissing {
			t.Fatalf("an identifier against itself: %v", self)
		}

		if n := NormalizePostcode(a); n != "" && (NormalizePostcode(n) != n || !utf8.ValidString(n)) {
			t.Fatalf("NormalizePostcode not idempotent or invalid on %q: %q then %q", a, n, NormalizePostcode(n))
		}
		if ab, ba := ComparePostcodes(a, b), ComparePostcodes(b, a); ab != ba {
			t.Fatalf("postcodes asymmetric: %v then %v for %q, %q", ab, ba, a, b)
		}
		if self := ComparePostcodes(a, a); self != PostcodeExact && self != PostcodeMissing {
			t.Fatalf("a postcode against itself: %v", self)
		}
	})
}
