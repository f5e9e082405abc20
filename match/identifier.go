package match

import (
	"strings"
	"unicode"
)

// MaxIDBytes is the longest identifier read; a longer one is not an
// identifier and compares as missing.
const MaxIDBytes = 128

// NormalizeID is the form in which two spellings of one identifier (an
// employee number, an external system's ID) are equal: invalid UTF-8 bytes
// become U+FFFD, all white space (inside too: "AB 123" is "ab123") is
// removed, letters are lower-cased, and the leading zeros of the whole
// identifier are dropped ("000123" is "123", "E00123" stays "e00123"; an
// identifier of zeros only is "0"). Punctuation is kept: "AB-123" and
// "AB123" are different identifiers. It answers "" for an empty identifier
// or one longer than MaxIDBytes, as typed or once normalised.
func NormalizeID(s string) string {
	n := squeeze(s, MaxIDBytes, unicode.ToLower)
	if n == "" {
		return ""
	}
	if t := strings.TrimLeft(n, "0"); t != "" {
		return t
	}
	return "0"
}

// squeeze is s without white space, each rune mapped by caseOf, with
// invalid UTF-8 bytes as U+FFFD: "" when s is empty or longer than max
// bytes, as given or once squeezed (U+FFFD and some case mappings are
// longer than what they replace).
func squeeze(s string, max int, caseOf func(rune) rune) string {
	if len(s) > max {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !unicode.IsSpace(r) {
			b.WriteRune(caseOf(r))
		}
	}
	if b.Len() > max {
		return ""
	}
	return b.String()
}

// IDLevel is how closely two identifiers agree, in the order listed
// (IDMissing says nothing either way).
type IDLevel int

const (
	IDMissing    IDLevel = iota // either side is empty (white space only) or too long
	IDExact                     // identical as typed (outer white space aside)
	IDNormalised                // identical after NormalizeID
	IDDifferent                 // none of the above
)

var idLevelNames = [...]string{
	IDMissing: "missing", IDExact: "exact", IDNormalised: "normalised", IDDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l IDLevel) String() string { return levelName(l, idLevelNames[:]) }

// CompareIDs is the level at which two identifiers agree: the first of the
// IDLevel constants that holds.
func CompareIDs(a, b string) IDLevel {
	na, nb := NormalizeID(a), NormalizeID(b)
	if na == "" || nb == "" {
		return IDMissing
	}
	if strings.TrimSpace(a) == strings.TrimSpace(b) {
		return IDExact
	}
	if na == nb {
		return IDNormalised
	}
	return IDDifferent
}
