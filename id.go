package usermerge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanID is the one check for the ids and logins that come in from
// anywhere (import lines and CSV rows, API paths and bodies, the command
// line): it trims surrounding white space and returns the text in Unicode
// NFC, so that "José" typed with a combining accent and "José" typed with
// the precomposed letter are the same login. It refuses invalid UTF-8 and
// characters that cannot be seen or that change how text around them is
// shown (see Invisible), which would let two logins look the same while
// being different. field names the value in the message ("login", "id").
//
// An empty result is not refused here; callers say whether the value may
// be empty.
func CleanID(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(Invalid, "invalid_id", "%s must be valid UTF-8 text", field)
	}
	s = strings.TrimFunc(s, unicode.IsSpace)
	for i, r := range s {
		if Invisible(r) {
			return "", Errorf(Invalid, "invalid_id",
				"%s %q holds an invisible or control character (U+%04X at byte %d); ids and logins may hold visible characters and plain spaces only",
				field, s, r, i)
		}
	}
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	return s, nil
}

// Invisible reports whether r is refused in ids and logins: control
// characters, format characters (zero-width spaces and joiners, bidi
// embeddings, overrides and isolates, the byte-order mark, the soft
// hyphen), private-use characters, line and paragraph separators, every
// space other than U+0020, variation selectors, and the other default
// ignorable code points (Hangul fillers, the combining grapheme joiner),
// plus U+2800, the blank Braille pattern.
func Invisible(r rune) bool {
	switch {
	case r == ' ':
		return false
	case r < 0x80:
		return r < 0x20 || r == 0x7f
	case r == 0x2800:
		return true
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zs, unicode.Zl, unicode.Zp,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point, unicode.White_Space)
}
