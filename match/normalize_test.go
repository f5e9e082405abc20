package match

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Nguyễn", "nguyen"},
		{"NGUYỄN", "nguyen"},
		{"Nguye\u0302\u0303n", "nguyen"}, // decomposed input
		{"Müller", "mueller"},
		{"Mueller", "mueller"},
		{"MÜLLER", "mueller"},
		{"Mu\u0308ller", "mueller"}, // ü as u + combining diaeresis
		{"Strauß", "strauss"},
		{"Strauss", "strauss"},
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"}, // typographic apostrophe
		{"OBrien", "obrien"},
		{"Al-Farsi", "alfarsi"},
		{"Alfarsi", "alfarsi"},
		{"  Mary   Ann  ", "mary ann"},
		{"Mary\tAnn\n", "mary ann"},
		{"J.", "j"},
		{"José", "jose"},
		{"Łukasz", "lukasz"},
		{"Đặng", "dang"},
		{"Søren", "soren"},
		{"Henry VIII 3rd", "henry viii 3rd"},
		{"Ab\xffc", "abc"}, // invalid UTF-8 dropped
		{"Иван", "иван"},   // other scripts kept, case-folded
		{"ΣΊΣΥΦΟΣ", "σισυφοσ"},
		{"Σίσυφος", "σισυφοσ"}, // final sigma folds with σ
	}
	for _, c := range cases {
		if got := NormalizeName(c.in); got != c.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFoldName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Müller", "muller"},
		{"Muller", "muller"},
		{"Strauß", "strauss"}, // ß has no one-letter form
		{"Nguyễn", "nguyen"},
		{"O'Brien", "obrien"},
	}
	for _, c := range cases {
		if got := FoldName(c.in); got != c.want {
			t.Errorf("FoldName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNormalizeNameBounded(t *testing.T) {
	got := NormalizeName(strings.Repeat("ab ", 1000000))
	if n := utf8.RuneCountInString(got); n > MaxRunes {
		t.Errorf("NormalizeName of 3 MB: %d runes, want at most %d", n, MaxRunes)
	}
	if got == "" {
		t.Error("NormalizeName of a long name is empty, want its beginning")
	}
	// A cut in the middle of a rune must not leave an invalid byte.
	s := strings.Repeat("a", MaxInputBytes-1) + "ü"
	if got := FoldName(s); !utf8.ValidString(got) {
		t.Errorf("FoldName cut mid-rune: invalid UTF-8 %q", got[len(got)-4:])
	}
}

func TestSoundex(t *testing.T) {
	// The National Archives' examples and Knuth's (TAOCP vol. 3).
	cases := []struct{ in, want string }{
		{"Robert", "R163"},
		{"Rupert", "R163"},
		{"Rubin", "R150"},
		{"Ashcraft", "A261"}, // h does not separate s and c
		{"Ashcroft", "A261"},
		{"Tymczak", "T522"},
		{"Pfister", "P236"}, // P and f share 1: f not coded
		{"Honeyman", "H555"},
		{"Gutierrez", "G362"},
		{"Jackson", "J250"},
		{"Washington", "W252"},
		{"Lee", "L000"},
		{"Euler", "E460"},
		{"Ellery", "E460"},
		{"Gauss", "G200"},
		{"Ghosh", "G200"},
		{"Hilbert", "H416"},
		{"Heilbronn", "H416"},
		{"Knuth", "K530"},
		{"Kant", "K530"},
		{"Lloyd", "L300"},
		{"Ladd", "L300"},
		{"Lukasiewicz", "L222"},
		{"Lissajous", "L222"},
		// Folded first: accents and umlaut spellings share a code.
		{"Müller", "M460"},
		{"Mueller", "M460"},
		{"Muller", "M460"},
		{"O'Brien", "O165"},
		{"obrien", "O165"},
		{"", ""},
		{"123", ""},
		{"Иван", ""},
		{"\xff\xfe", ""},
	}
	for _, c := range cases {
		if got := Soundex(c.in); got != c.want {
			t.Errorf("Soundex(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNickname(t *testing.T) {
	yes := [][2]string{
		{"Bob", "Robert"}, {"Robert", "Bob"}, {"Rob", "Robert"}, {"Bob", "Rob"},
		{"Kate", "Katherine"}, {"Katie", "Catherine"}, {"Bill", "William"},
		{"Liz", "Elizabeth"}, {"Beth", "Elisabeth"}, {"Peggy", "Margaret"},
		{"Jim", "James"}, {"Jack", "John"}, {"Dick", "Richard"}, {"Ted", "Edward"},
		{"Ted", "Theodore"}, {"Al", "Albert"}, {"Al", "Alan"}, {"Sandy", "Alexander"},
		{"Tony", "Anthony"}, {"Peggy", "Maggie"}, {"BOB", "robert"}, {"Bob J.", "Robert"},
		{"Harry", "Henry"}, {"Harry", "Harold"}, {"Molly", "Mary"}, {"Sally", "Sarah"},
	}
	for _, p := range yes {
		if !Nickname(p[0], p[1]) || !Nickname(p[1], p[0]) {
			t.Errorf("Nickname(%q, %q) = false, want true both ways", p[0], p[1])
		}
	}
	no := [][2]string{
		{"Robert", "Robert"},   // equal is not a nickname
		{"Edward", "Theodore"}, // share Ted, but are different names
		{"Albert", "Alan"},
		{"Henry", "Harold"},
		{"Bob", "William"},
		{"Robert", "Roberta"},
		{"", "Robert"},
		{"", ""},
		{"Zxq", "Robert"},
	}
	for _, p := range no {
		if Nickname(p[0], p[1]) || Nickname(p[1], p[0]) {
			t.Errorf("Nickname(%q, %q) = true, want false both ways", p[0], p[1])
		}
	}
}

// TestNicknameTable: every name in the table is written in normalised form
// (or it could never be looked up), and the table is big enough to matter.
func TestNicknameTable(t *testing.T) {
	pairs := 0
	for _, line := range nicknameGroups {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Errorf("group %q has no nickname", line)
		}
		pairs += len(f) * (len(f) - 1) / 2
		for _, n := range f {
			if NormalizeName(n) != n || strings.Contains(n, " ") {
				t.Errorf("table name %q is not normalised (%q)", n, NormalizeName(n))
			}
		}
	}
	if pairs < 300 {
		t.Errorf("%d related pairs, want at least 300", pairs)
	}
}
