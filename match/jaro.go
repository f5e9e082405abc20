package match

import "unicode/utf8"

// MaxRunes bounds the work of a comparison: only the first MaxRunes runes of
// each string take part. Jaro is quadratic in the worst case, and no name or
// e-mail local part a person types is anywhere near this long.
const MaxRunes = 256

// Winkler's constants (Winkler 1990; strcmp95): the prefix scale, the longest
// prefix rewarded, and the Jaro value a pair must exceed before the prefix
// bonus applies.
const (
	WinklerPrefixScale = 0.1
	WinklerMaxPrefix   = 4
	WinklerBoostAbove  = 0.7
)

// Jaro is Jaro's similarity (Jaro 1989) of a and b, compared rune by rune: 1
// for identical strings, 0 for strings with no characters in common within
// the matching window. Two empty strings are identical (1); an empty string
// and a non-empty one have nothing in common (0). Invalid UTF-8 bytes compare
// as U+FFFD.
func Jaro(a, b string) float64 {
	if j, ok := jaroASCII(a, b); ok {
		return j
	}
	var ra, rb [MaxRunes]rune
	return jaroRunes(ra[:toRunes(a, &ra)], rb[:toRunes(b, &rb)])
}

// JaroWinkler is the Jaro similarity raised for a common prefix (Winkler
// 1990): j + l*0.1*(1-j), where l is the length of the common prefix up to 4
// runes, applied only when j exceeds 0.7. The empty cases are those of Jaro.
func JaroWinkler(a, b string) float64 {
	if j, ok := jaroASCII(a, b); ok {
		return winkler(j, a, b)
	}
	var ra, rb [MaxRunes]rune
	return jaroWinklerRunes(ra[:toRunes(a, &ra)], rb[:toRunes(b, &rb)])
}

// toRunes decodes up to MaxRunes runes of s into buf without allocating.
func toRunes(s string, buf *[MaxRunes]rune) int {
	n := 0
	for _, r := range s {
		if n == MaxRunes {
			break
		}
		buf[n] = r
		n++
	}
	return n
}

func jaroWinklerRunes(a, b []rune) float64 {
	j := jaroRunes(a, b)
	if j <= WinklerBoostAbove {
		return j
	}
	l := 0
	for l < WinklerMaxPrefix && l < len(a) && l < len(b) && a[l] == b[l] {
		l++
	}
	return j + float64(l)*WinklerPrefixScale*(1-j)
}

func jaroRunes(a, b []rune) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	// Characters match when equal and no further apart than half the longer
	// length, less one.
	window := max(len(a), len(b))/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb [MaxRunes]bool
	matches := 0
	for i, r := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && b[j] == r {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	// Transpositions: matched characters that are out of order, halved.
	half, k := 0, 0
	for i, r := range a {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if b[k] != r {
			half++
		}
		k++
	}
	m := float64(matches)
	t := float64(half) / 2
	return (m/float64(len(a)) + m/float64(len(b)) + (m-t)/m) / 3
}

// validPrefix is s cut to at most max bytes without splitting a rune.
func validPrefix(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	s = s[:maxBytes]
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// jaroASCII is jaroRunes for two ASCII strings of at most 64 bytes (nearly
// every name and local part), with the matched flags in two words instead
// of arrays of MaxRunes: the same answer, several times faster. ok is
// false for other strings.
func jaroASCII(a, b string) (j float64, ok bool) {
	if len(a) > 64 || len(b) > 64 || !isASCII(a) || !isASCII(b) {
		return 0, false
	}
	if len(a) == 0 && len(b) == 0 {
		return 1, true
	}
	if len(a) == 0 || len(b) == 0 {
		return 0, true
	}
	window := max(len(a), len(b))/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb uint64
	matches := 0
	for i := 0; i < len(a); i++ {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for k := lo; k < hi; k++ {
			if mb&(1<<k) == 0 && b[k] == a[i] {
				ma |= 1 << i
				mb |= 1 << k
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0, true
	}
	half, k := 0, 0
	for i := 0; i < len(a); i++ {
		if ma&(1<<i) == 0 {
			continue
		}
		for mb&(1<<k) == 0 {
			k++
		}
		if b[k] != a[i] {
			half++
		}
		k++
	}
	m := float64(matches)
	t := float64(half) / 2
	return (m/float64(len(a)) + m/float64(len(b)) + (m-t)/m) / 3, true
}

// winkler is Winkler's prefix bonus on j for two ASCII strings.
func winkler(j float64, a, b string) float64 {
	if j <= WinklerBoostAbove {
		return j
	}
	l := 0
	for l < WinklerMaxPrefix && l < len(a) && l < len(b) && a[l] == b[l] {
		l++
	}
	return j + float64(l)*WinklerPrefixScale*(1-j)
}
