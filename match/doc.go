// Package match holds the field comparisons the duplicate finder is built on:
// Jaro and Jaro-Winkler similarity, name normalisation (case, accents, German
// transliteration, punctuation), a Soundex phonetic key for blocking, a
// nickname table, and comparison levels for names, e-mail addresses, birth
// dates, phone numbers, identifiers and postcodes.
//
// Everything here is pure: no database, no I/O, no global mutable state. Every
// function accepts any string (empty, very long, invalid UTF-8) without
// panicking, and bounds its cost by comparing at most MaxRunes runes of each
// input. docs/matching.md says where each definition comes from.
package match

// levelName is a level's stable name from its type's table of names, or
// "unknown" for a value outside it.
func levelName[L ~int](l L, names []string) string {
	if l < 0 || int(l) >= len(names) {
		return "unknown"
	}
	return names[l]
}
