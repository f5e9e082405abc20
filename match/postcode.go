package match

import (
	"unicode"
	"unicode/utf8"
)

// MaxPostcodeBytes is the longest postcode read; a longer one is not a
// postcode and compares as missing.
const MaxPostcodeBytes = 32

// PostcodePrefixRunes is how many leading characters PostcodePrefix
// compares.
const PostcodePrefixRunes = 3

// NormalizePostcode is the form in which two spellings of one postcode are
// equal: invalid UTF-8 bytes become U+FFFD, all white space is removed and
// letters are upper-cased ("sw1a 1aa" is "SW1A1AA"). Other characters are
// kept ("12345-6789" stays). It answers "" for an empty postcode or one
// longer than MaxPostcodeBytes, as typed or once normalised.
func NormalizePostcode(s string) string {
	return squeeze(s, MaxPostcodeBytes, unicode.ToUpper)
}

// PostcodeLevel is how closely two postcodes agree, in the order listed
// (PostcodeMissing says nothing either way).
type PostcodeLevel int

const (
	PostcodeMissing   PostcodeLevel = iota // either side is empty or too long
	PostcodeExact                          // identical after NormalizePostcode
	PostcodePrefix                         // the same first PostcodePrefixRunes characters
	PostcodeDifferent                      // none of the above
)

var postcodeLevelNames = [...]string{
	PostcodeMissing: "missing", PostcodeExact: "exact", PostcodePrefix: "same_prefix", PostcodeDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l PostcodeLevel) String() string { return levelName(l, postcodeLevelNames[:]) }

// ComparePostcodes is the level at which two postcodes agree: the first of
// the PostcodeLevel constants that holds. A prefix is shared only when both
// postcodes have at least PostcodePrefixRunes characters.
func ComparePostcodes(a, b string) PostcodeLevel {
	na, nb := NormalizePostcode(a), NormalizePostcode(b)
	if na == "" || nb == "" {
		return PostcodeMissing
	}
	if na == nb {
		return PostcodeExact
	}
	pa, oka := runePrefix(na, PostcodePrefixRunes)
	pb, okb := runePrefix(nb, PostcodePrefixRunes)
	if oka && okb && pa == pb {
		return PostcodePrefix
	}
	return PostcodeDifferent
}

// runePrefix is the first n runes of s, and whether s has that many.
func runePrefix(s string, n int) (string, bool) {
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return "", false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], true
}
