package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxInputBytes is how much of a name or address is read at all; the rest is
// ignored, so that a hostile megabyte costs no more than a long name.
const MaxInputBytes = 4 * MaxRunes

// NormalizeName is the form in which two spellings of one name are equal:
// German letters transliterated (ä→ae, ö→oe, ü→ue, ß→ss, so Müller and
// Mueller agree), then accents removed (Nguyễn→nguyen), letters case-folded
// (Unicode full case folding), apostrophes, hyphens and other punctuation
// dropped (O'Brien→obrien, Al-Farsi→alfarsi), and runs of white space made
// one space, trimmed. Digits are kept; invalid UTF-8 is dropped.
func NormalizeName(s string) string { return normalize(s, true) }

// FoldName is NormalizeName without the German transliteration: umlauts lose
// their dots (Müller→muller), as systems that strip accents write them.
// Comparisons accept either form.
func FoldName(s string) string { return normalize(s, false) }

// germanTranslit is DIN 5007-2 / the German passport rule for the letters
// that have a two-letter spelling.
var germanTranslit = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ß", "ss", "ẞ", "SS",
)

// noDecomposition are Latin letters that Unicode does not decompose into a
// base letter and a mark, spelled as they usually are in ASCII.
var noDecomposition = map[rune]string{
	'đ': "d", 'Đ': "d", 'ł': "l", 'Ł': "l", 'ø': "o", 'Ø': "o", 'æ': "ae", 'Æ': "ae",
	'œ': "oe", 'Œ': "oe", 'þ': "th", 'Þ': "th", 'ð': "d", 'Ð': "d", 'ı': "i", 'ß': "ss",
	'ẞ': "ss", 'ħ': "h", 'Ħ': "h",
}

func normalize(s string, german bool) string {
	s = validPrefix(s, MaxInputBytes)
	if !isASCII(s) {
		// Invalid bytes become U+FFFD (dropped below) before the
		// normalisation forms see them: norm mis-reads the character after
		// an invalid byte.
		s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
		if german {
			s = germanTranslit.Replace(s)
		}
		// Full Unicode case folding, not just lower case: the Greek final
		// sigma folds with the others, as case-insensitive comparison
		// requires.
		s = norm.NFD.String(cases.Fold().String(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending, written before the next letter
	runes := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark: the accent of the previous letter.
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			t, ok := noDecomposition[r]
			if !ok {
				t = string(unicode.ToLower(r))
			}
			n := utf8.RuneCountInString(t)
			if space {
				n++
			}
			if runes+n > MaxRunes {
				return b.String()
			}
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteString(t)
			runes += n
		default:
			// Punctuation, symbols, U+FFFD from invalid UTF-8: dropped, so
			// O'Brien and OBrien agree.
		}
	}
	return b.String()
}

// isASCII: most names are, and need none of Unicode's normalisation forms
// (nor their allocations).
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// compact is a normalised name without its spaces, so that "Al Farsi",
// "Al-Farsi" and "Alfarsi" agree.
func compact(s string) string { return strings.ReplaceAll(s, " ", "") }
