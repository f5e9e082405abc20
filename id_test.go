package usermerge

import "testing"

func TestCleanID(t *testing.T) {
	for _, c := range []struct {
		in, want string
		bad      bool
	}{
		{in: "mgarcia", want: "mgarcia"},
		{in: "  mgarcia\t", want: "mgarcia"},
		{in: "maria garcia", want: "maria garcia"},
		{in: "Jose\u0301", want: "Jos\u00e9"}, // NFD → NFC
		{in: "\u00c5ngstr\u00f6m", want: "\u00c5ngstr\u00f6m"},
		{in: "\u5c71\u7530", want: "\u5c71\u7530"},
		{in: "", want: ""},
		{in: "mgar\u200bcia", bad: true},       // zero-width space
		{in: "mgar\u200dcia", bad: true},       // zero-width joiner
		{in: "mgar\u200ccia", bad: true},       // zero-width non-joiner
		{in: "\u202eaicragm", bad: true},       // right-to-left override
		{in: "m\u2066garcia\u2069", bad: true}, // isolates
		{in: "mgarcia\u200e", bad: true},       // left-to-right mark (trailing, not trimmed)
		{in: "\ufeffmgarcia", bad: true},       // byte-order mark
		{in: "mg\u00adarcia", bad: true},       // soft hyphen
		{in: "mg\u2060arcia", bad: true},       // word joiner
		{in: "maria\u00a0garcia", bad: true},   // no-break space inside
		{in: "maria\u3000garcia", bad: true},   // ideographic space inside
		{in: "mgarcia\ufe0f", bad: true},       // variation selector
		{in: "\u3164", bad: true},              // Hangul filler
		{in: "mg\u034farcia", bad: true},       // combining grapheme joiner
		{in: "\u2800", bad: true},              // blank Braille pattern
		{in: "mg\uE000", bad: true},            // private use
		{in: "mg\x00", bad: true},
		{in: "mg\x1b[31m", bad: true},
		{in: "mg\u0085x", bad: true}, // next line (C1 control)
		{in: "mg\u2028x", bad: true}, // line separator
		{in: "mg\xff", bad: true},
	} {
		got, err := CleanID("login", c.in)
		switch {
		case c.bad && err == nil:
			t.Errorf("CleanID(%q) = %q, want a refusal", c.in, got)
		case c.bad && (ErrorCode(err) != Invalid || ErrorReason(err) != "invalid_id"):
			t.Errorf("CleanID(%q): %v, want an invalid_id error", c.in, err)
		case !c.bad && err != nil:
			t.Errorf("CleanID(%q): %v", c.in, err)
		case !c.bad && got != c.want:
			t.Errorf("CleanID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
