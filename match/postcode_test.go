package match

import (
	"strings"
	"testing"
)

func TestNormalizePostcode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SW1A 1AA", "SW1A1AA"},
		{" sw1a  1aa\n", "SW1A1AA"},
		{"10115", "10115"},
		{"12345-6789", "12345-6789"},
		{"k1a 0b1", "K1A0B1"},
		{"\xffab", "\uFFFDAB"},
		{"", ""},
		{"   ", ""},
		{strings.Repeat("A", MaxPostcodeBytes), strings.Repeat("A", MaxPostcodeBytes)},
		{strings.Repeat("A", MaxPostcodeBytes+1), ""},
		{strings.Repeat("\xffa", MaxPostcodeBytes/2), ""}, // too long once each invalid byte is U+FFFD
	}
	for _, c := range cases {
		if got := NormalizePostcode(c.in); got != c.want {
			t.Errorf("NormalizePostcode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestComparePostcodes(t *testing.T) {
	cases := []struct {
		a, b string
		want PostcodeLevel
	}{
		{"SW1A 1AA", "SW1A 1AA", PostcodeExact},
		{"SW1A 1AA", "sw1a1aa", PostcodeExact},
		{"SW1A 1AA", "SW1A 2AB", PostcodePrefix},
		{"SW1A 1AA", "SW1 9ZZ", PostcodePrefix}, // three characters are enough
		{"10115", "10178", PostcodePrefix},
		{"ÄÖÜ12", "äöü34", PostcodePrefix}, // characters, not bytes
		{"SW1A 1AA", "SW2A 1AA", PostcodeDifferent},
		{"10115", "20115", PostcodeDifferent},
		// A prefix needs three characters on both sides.
		{"SW", "SW1A 1AA", PostcodeDifferent},
		{"SW", "NW", PostcodeDifferent},
		{"SW1", "sw1a1aa", PostcodePrefix},
		{"SW", "sw", PostcodeExact},
		{"", "SW1A 1AA", PostcodeMissing},
		{"SW1A 1AA", " ", PostcodeMissing},
		{"", "", PostcodeMissing},
		{strings.Repeat("A", MaxPostcodeBytes+1), "AAA", PostcodeMissing},
	}
	for _, c := range cases {
		if got := ComparePostcodes(c.a, c.b); got != c.want {
			t.Errorf("ComparePostcodes(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := ComparePostcodes(c.b, c.a); got != c.want {
			t.Errorf("ComparePostcodes(%q, %q) = %v, want %v (reversed)", c.b, c.a, got, c.want)
		}
	}
}

func TestPostcodeLevelString(t *testing.T) {
	want := []string{"missing", "exact", "same_prefix", "different"}
	for i, w := range want {
		if got := PostcodeLevel(i).String(); got != w {
			t.Errorf("PostcodeLevel(%d) = %q, want %q", i, got, w)
		}
	}
	if got := PostcodeLevel(len(want)).String(); got != "unknown" {
		t.Errorf("PostcodeLevel(%d) = %q", len(want), got)
	}
}
