package match

import (
	"math"
	"strings"
	"testing"
)

// Published values, to three decimals: Wikipedia's "Jaro–Winkler distance"
// examples and the name table of Porter & Winkler (1997), reproduced in
// Winkler (2006), "Overview of Record Linkage and Current Research
// Directions".
var publishedJaroWinkler = []struct {
	a, b          string
	jaro, winkler float64
}{
	{"MARTHA", "MARHTA", 0.944, 0.961},
	{"DWAYNE", "DUANE", 0.822, 0.840},
	{"DIXON", "DICKSONX", 0.767, 0.813},
	{"SHACKLEFORD", "SHACKELFORD", 0.970, 0.982},
	{"DUNNINGHAM", "CUNNIGHAM", 0.896, 0.896},
	{"NICHLESON", "NICHULSON", 0.926, 0.956},
	{"JONES", "JOHNSON", 0.790, 0.832},
	{"MASSEY", "MASSIE", 0.889, 0.933},
	{"ABROMS", "ABRAMS", 0.889, 0.922},
	{"HARDIN", "MARTINEZ", 0.722, 0.722},
	{"ITMAN", "SMITH", 0.467, 0.467},
	{"JERALDINE", "GERALDINE", 0.926, 0.926},
	{"MICHELLE", "MICHAEL", 0.869, 0.921},
	{"JULIES", "JULIUS", 0.889, 0.933},
	{"TANYA", "TONYA", 0.867, 0.880},
	{"SEAN", "SUSAN", 0.783, 0.805},
	{"JON", "JOHN", 0.917, 0.933},
	{"JON", "JAN", 0.778, 0.800},
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.0005 }

func TestJaroWinklerPublishedValues(t *testing.T) {
	for _, c := range publishedJaroWinkler {
		for _, p := range [][2]string{{c.a, c.b}, {c.b, c.a}} { // symmetric
			if got := Jaro(p[0], p[1]); !near(got, c.jaro) {
				t.Errorf("Jaro(%q, %q) = %.4f, want %.3f", p[0], p[1], got, c.jaro)
			}
			if got := JaroWinkler(p[0], p[1]); !near(got, c.winkler) {
				t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.3f", p[0], p[1], got, c.winkler)
			}
		}
	}
}

func TestJaroEdgeCases(t *testing.T) {
	cases := []struct {
		a, b     string
		jaro, jw float64
	}{
		{"", "", 1, 1},       // two empty strings are identical
		{"", "a", 0, 0},      // one empty: nothing in common
		{"abc", "", 0, 0},    //
		{"a", "a", 1, 1},     // identical single runes
		{"a", "b", 0, 0},     // no common character
		{"abc", "xyz", 0, 0}, //
		{"ab", "ba", 0, 0},   // window is 0 for length 2: no matches
		{"CRATE", "TRACE", 0.733, 0.733},
		// Runes, not bytes: é and è are one character each, differing in
		// one of four (as bytes they would share their first byte and the
		// strings would be five long).
		{"josé", "josè", 0.833, 0.883},
		{"Müller", "Müller", 1, 1},
	}
	for _, c := range cases {
		if got := Jaro(c.a, c.b); !near(got, c.jaro) {
			t.Errorf("Jaro(%q, %q) = %.4f, want %.3f", c.a, c.b, got, c.jaro)
		}
		if got := JaroWinkler(c.a, c.b); !near(got, c.jw) {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.3f", c.a, c.b, got, c.jw)
		}
	}
}

// TestJaroWinklerOnRunes: a multi-byte rune counts as one character, so
// "ñ" against "n" is one substitution in a 4-rune word.
func TestJaroWinklerOnRunes(t *testing.T) {
	if got, want := Jaro("niño", "nino"), Jaro("nixo", "nino"); got != want {
		t.Errorf("Jaro(niño, nino) = %v, want the same as one ASCII substitution %v", got, want)
	}
}

// TestJaroWinklerBoostThreshold: the prefix bonus applies only above a Jaro
// of 0.7 (Winkler's strcmp95), on both sides of the threshold.
func TestJaroWinklerBoostThreshold(t *testing.T) {
	// HARDIN/MARTINEZ share no prefix; ab.../ab... pairs below and above.
	below := [2]string{"abcdef", "abxyzw"} // Jaro 0.556, prefix 2
	if j, jw := Jaro(below[0], below[1]), JaroWinkler(below[0], below[1]); j > WinklerBoostAbove || jw != j {
		t.Errorf("below threshold: Jaro %.4f, JW %.4f; want JW == Jaro <= 0.7", j, jw)
	}
	above := [2]string{"abcdef", "abcdxy"} // Jaro 0.778, prefix 4
	j, jw := Jaro(above[0], above[1]), JaroWinkler(above[0], above[1])
	if want := j + 4*0.1*(1-j); j <= WinklerBoostAbove || !near(jw, want) {
		t.Errorf("above threshold: Jaro %.4f, JW %.4f; want %.4f", j, jw, want)
	}
	// The prefix counts at most 4 runes.
	if a, b := JaroWinkler("abcdefgx", "abcdefgy"), JaroWinkler("abcdxxxx", "abcdyyyy"); a <= b {
		t.Errorf("longer common string should score higher: %v vs %v", a, b)
	}
	j5 := Jaro("abcdefgx", "abcdefgy")
	if got, want := JaroWinkler("abcdefgx", "abcdefgy"), j5+4*0.1*(1-j5); !near(got, want) {
		t.Errorf("prefix capped at 4: got %.4f, want %.4f", got, want)
	}
}

// TestJaroLongAndInvalidInput: cost and result are bounded by MaxRunes, and
// invalid UTF-8 compares without panicking.
func TestJaroLongAndInvalidInput(t *testing.T) {
	long := strings.Repeat("a", 100000)
	if got := JaroWinkler(long, long+"b"); got != 1 {
		t.Errorf("strings equal in their first MaxRunes runes: got %v, want 1", got)
	}
	if got := Jaro("\xff\xfe", "\xff\xfe"); got != 1 {
		t.Errorf("Jaro of identical invalid bytes = %v, want 1", got)
	}
	if got := Jaro("ab\xff", "ab\xfe"); got != 1 {
		t.Errorf("Jaro(ab\\xff, ab\\xfe) = %v, want 1 (both decode to U+FFFD)", got)
	}
	if got := Jaro("ab\xff", "abc"); !near(got, 0.778) {
		t.Errorf("Jaro(ab\\xff, abc) = %v, want 0.778 (U+FFFD is one character)", got)
	}
}
