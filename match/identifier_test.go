package match

import (
	"strings"
	"testing"
)

func TestNormalizeID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"E12345", "e12345"},
		{"  e12345\t", "e12345"},
		{"AB 123", "ab123"},
		{"000123", "123"},
		{"0000", "0"},
		{"0", "0"},
		{"E00123", "e00123"}, // only the identifier's own leading zeros
		{"0E0", "e0"},
		{"AB-123", "ab-123"}, // punctuation stays
		{"ÄB12", "äb12"},
		{"\xffA", "\uFFFDa"},
		{"", ""},
		{" \t\n", ""},
		{strings.Repeat("1", MaxIDBytes), strings.Repeat("1", MaxIDBytes)},
		{strings.Repeat("1", MaxIDBytes+1), ""},
		{strings.Repeat("\xffa", MaxIDBytes/2), ""}, // too long once each invalid byte is U+FFFD
	}
	for _, c := range cases {
		if got := NormalizeID(c.in); got != c.want {
			t.Errorf("NormalizeID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	cases := []struct {
		a, b string
		want IDLevel
	}{
		{"E12345", "E12345", IDExact},
		{" E12345", "E12345 ", IDExact},
		{"E12345", "e12345", IDNormalised},
		{"AB 123", "ab123", IDNormalised},
		{"000123", "123", IDNormalised},
		{"0", "000", IDNormalised},
		{"E12345", "E12346", IDDifferent},
		{"E00123", "E123", IDDifferent},
		{"AB-123", "AB123", IDDifferent},
		{"1230", "123", IDDifferent}, // trailing zeros count
		{"", "E12345", IDMissing},
		{"E12345", "  ", IDMissing},
		{"", "", IDMissing},
		{strings.Repeat("1", MaxIDBytes+1), strings.Repeat("1", MaxIDBytes+1), IDMissing},
	}
	for _, c := range cases {
		if got := CompareIDs(c.a, c.b); got != c.want {
			t.Errorf("CompareIDs(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := CompareIDs(c.b, c.a); got != c.want {
			t.Errorf("CompareIDs(%q, %q) = %v, want %v (reversed)", c.b, c.a, got, c.want)
		}
	}
}

func TestIDLevelString(t *testing.T) {
	want := []string{"missing", "exact", "normalised", "different"}
	for i, w := range want {
		if got := IDLevel(i).String(); got != w {
			t.Errorf("IDLevel(%d) = %q, want %q", i, got, w)
		}
	}
	if got := IDLevel(len(want)).String(); got != "unknown" {
		t.Errorf("IDLevel(%d) = %q", len(want), got)
	}
}
