package match

import "strings"

// MaxPhoneBytes is the longest phone number string read; a longer one is not
// a number and compares as missing.
const MaxPhoneBytes = 64

// Phone numbers have at least MinPhoneDigits and at most MaxPhoneDigits
// digits once normalised (E.164 allows 15 with the country code).
const (
	MinPhoneDigits = 5
	MaxPhoneDigits = 15
)

// PhoneTailDigits is how many trailing digits PhoneSameTail compares.
const PhoneTailDigits = 8

// PhoneOptions say how NormalizePhone reads a number.
type PhoneOptions struct {
	// CountryCode is the tenant's own country calling code ("44", "49", "1"),
	// 1 to 3 digits; anything else is ignored. An international number with
	// this code is written as the national number without it.
	CountryCode string
}

// NormalizePhone is the form in which two spellings of one number are equal:
// only its ASCII digits are kept (spaces, dashes, dots, brackets and letters
// dropped). A number starting "+" or "00" is international: the "00" is
// dropped and, when it starts with opt.CountryCode, so is that code. Then the
// leading zeros (the national trunk prefix "0", and the "(0)" of
// "+44 (0)20 …") are dropped, which makes normalising twice change nothing. So with CountryCode "44", "+44 20 7946 0000",
// "0044 (0)20 7946 0000" and "020 7946 0000" are all "2079460000"; a number
// of another country keeps its code ("+49 30 1234567" is "49301234567").
// It answers "" when s is not a number: longer than MaxPhoneBytes, or fewer
// than MinPhoneDigits or more than MaxPhoneDigits digits once normalised.
func NormalizePhone(s string, opt PhoneOptions) string {
	if len(s) > MaxPhoneBytes {
		return ""
	}
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	d := b.String()
	if !plus && strings.HasPrefix(d, "00") {
		plus, d = true, d[2:]
	}
	if plus {
		if cc := opt.CountryCode; validCountryCode(cc) && strings.HasPrefix(d, cc) {
			d = d[len(cc):]
		}
	}
	d = strings.TrimLeft(d, "0")
	if len(d) < MinPhoneDigits || len(d) > MaxPhoneDigits {
		return ""
	}
	return d
}

func validCountryCode(cc string) bool {
	if len(cc) < 1 || len(cc) > 3 {
		return false
	}
	for i := 0; i < len(cc); i++ {
		if cc[i] < '0' || cc[i] > '9' {
			return false
		}
	}
	return true
}

// PhoneLevel is how closely two phone numbers agree, in the order listed
// (PhoneMissing says nothing either way).
type PhoneLevel int

const (
	PhoneMissing   PhoneLevel = iota // either side is empty or not a number
	PhoneExact                       // identical after NormalizePhone
	PhoneSameTail                    // the same last PhoneTailDigits digits
	PhoneDifferent                   // none of the above
)

var phoneLevelNames = [...]string{
	PhoneMissing: "missing", PhoneExact: "exact", PhoneSameTail: "same_last_8", PhoneDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l PhoneLevel) String() string { return levelName(l, phoneLevelNames[:]) }

// ComparePhones is the level at which two phone numbers agree: the first of
// the PhoneLevel constants that holds. Two numbers share a tail only when
// both have at least PhoneTailDigits digits.
func ComparePhones(a, b string, opt PhoneOptions) PhoneLevel {
	na, nb := NormalizePhone(a, opt), NormalizePhone(b, opt)
	if na == "" || nb == "" {
		return PhoneMissing
	}
	if na == nb {
		return PhoneExact
	}
	if len(na) >= PhoneTailDigits && len(nb) >= PhoneTailDigits &&
		na[len(na)-PhoneTailDigits:] == nb[len(nb)-PhoneTailDigits:] {
		return PhoneSameTail
	}
	return PhoneDifferent
}
