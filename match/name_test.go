package match

import (
	"strings"
	"testing"
)

func TestCompareNamesLevels(t *testing.T) {
	n := func(g, f string) Name { return Name{Given: g, Family: f} }
	cases := []struct {
		name string
		a, b Name
		want NameLevel
	}{
		// Missing: any part empty once normalised, on either side.
		{"missing given", n("", "Smith"), n("John", "Smith"), NameMissing},
		{"missing family other side", n("John", "Smith"), n("John", ""), NameMissing},
		{"punctuation only", n("-", "Smith"), n("John", "Smith"), NameMissing},
		{"both empty", n("", ""), n("", ""), NameMissing},

		{"exact", n("John", "Smith"), n("John", "Smith"), NameExact},
		{"exact outer space", n(" John ", "Smith"), n("John", " Smith"), NameExact},

		{"case", n("john", "SMITH"), n("John", "Smith"), NameNormalised},
		{"accents", n("Thi", "Nguyễn"), n("Thi", "Nguyen"), NameNormalised},
		{"transliteration", n("Jörg", "Müller"), n("Joerg", "Mueller"), NameNormalised},
		{"umlaut dropped", n("Jörg", "Müller"), n("Jorg", "Muller"), NameNormalised},
		{"eszett", n("Anna", "Strauß"), n("Anna", "Strauss"), NameNormalised},
		{"apostrophe", n("Siobhan", "O'Brien"), n("Siobhan", "OBrien"), NameNormalised},
		{"hyphen", n("Omar", "Al-Farsi"), n("Omar", "Alfarsi"), NameNormalised},
		{"space in family", n("Omar", "Al Farsi"), n("Omar", "Alfarsi"), NameNormalised},

		{"nickname", n("Bob", "Smith"), n("Robert", "Smith"), NameNickname},
		{"nickname reversed", n("Katherine", "Jones"), n("Kate", "Jones"), NameNickname},
		{"nickname normalised family", n("Bill", "O'Neil"), n("William", "ONeil"), NameNickname},
		{"nickname other family", n("Bob", "Smith"), n("Robert", "Jones"), NameDifferent},

		{"initial", n("J.", "Smith"), n("John", "Smith"), NameInitial},
		{"initial reversed", n("John", "Smith"), n("J", "Smith"), NameInitial},
		{"initials equal", n("J", "Smith"), n("J.", "Smith"), NameNormalised},
		{"initial wrong letter", n("K.", "Smith"), n("John", "Smith"), NameDifferent},
		{"initial other family", n("J.", "Smith"), n("John", "Jones"), NameDifferent},

		{"swapped", n("Smith", "John"), n("John", "Smith"), NameSwapped},
		{"swapped normalised", n("nguyen", "thi"), n("Thi", "Nguyễn"), NameSwapped},
		{"half swapped", n("Smith", "John"), n("John", "Smyth"), NameDifferent},

		{"jw92 given typo", n("Jhon", "Smith"), n("John", "Smith"), NameJW92},                  // 0.925
		{"jw92 family typo", n("Martha", "Shackleford"), n("Martha", "Shackelford"), NameJW92}, // 0.982
		{"jw92 nickname and typo", n("Bob", "Shackleford"), n("Robert", "Shackelford"), NameJW92},
		{"family by its last word", n("José", "Luis Hernández"), n("José", "Hernández"), NameJW92},
		{"double family by its last word", n("Anna", "Schmidt-Weber"), n("Anna", "Weber"), NameJW92},
		{"family last word, other given", n("Maria", "Luis Hernández"), n("José", "Hernández"), NameDifferent},
		{"family last words differ", n("Fatima", "Zahra Benali"), n("Fatima", "Zahra Haddad"), NameDifferent},
		{"jw88", n("John", "Smith"), n("John", "Smyth"), NameJW88},                // 0.893
		{"jw88 both parts", n("Tanya", "Massey"), n("Tonya", "Massie"), NameJW88}, // min(0.880, 0.933)
		{"below jw88", n("Dwayne", "Smith"), n("Duane", "Smith"), NameDifferent},  // 0.840
		{"different", n("John", "Smith"), n("Mary", "Jones"), NameDifferent},
		{"one part close one far", n("John", "Shackleford"), n("Mary", "Shackelford"), NameDifferent},
	}
	for _, c := range cases {
		for _, p := range [][2]Name{{c.a, c.b}, {c.b, c.a}} {
			got := CompareNames(p[0], p[1])
			if got.Level != c.want {
				t.Errorf("%s: CompareNames(%q, %q) = %v (%.3f), want %v", c.name, p[0], p[1], got.Level, got.Similarity, c.want)
			}
		}
	}
}

// TestCompareNamesThresholds: each fuzzy level on both sides of its
// threshold, with the similarity reported.
func TestCompareNamesThresholds(t *testing.T) {
	// MICHELLE/MICHAEL 0.921 is just above 0.92; NICHLESON/NICHULSON 0.956.
	got := CompareNames(Name{"Michelle", "Ng"}, Name{"Michael", "Ng"})
	if got.Level != NameJW92 || !near(got.Similarity, 0.921) {
		t.Errorf("Michelle/Michael: %v %.4f, want jw92 0.921", got.Level, got.Similarity)
	}
	// ABROMS/ABRAMS 0.922 is above; JULIES/JULIUS 0.933 above; TANYA/TONYA
	// 0.880 is exactly at the lower threshold; DUNNINGHAM/CUNNIGHAM 0.896.
	for _, c := range []struct {
		a, b string
		want NameLevel
	}{
		{"Abroms", "Abrams", NameJW92},
		{"Tanya", "Tonya", NameJW88},
		{"Dunningham", "Cunnigham", NameJW88},
		{"Jones", "Johnson", NameDifferent}, // 0.832
		{"Sean", "Susan", NameDifferent},    // 0.805
	} {
		got := CompareNames(Name{"Ann", c.a}, Name{"Ann", c.b})
		if got.Level != c.want {
			t.Errorf("family %s/%s: %v (%.3f), want %v", c.a, c.b, got.Level, got.Similarity, c.want)
		}
		if want := JaroWinkler(strings.ToLower(c.a), strings.ToLower(c.b)); !near(got.Similarity, want) {
			t.Errorf("family %s/%s: similarity %.4f, want %.4f", c.a, c.b, got.Similarity, want)
		}
	}
	if got := CompareNames(Name{"A", "B"}, Name{"A", "B"}); got.Similarity != 1 {
		t.Errorf("exact similarity %v, want 1", got.Similarity)
	}
	if got := CompareNames(Name{"", "B"}, Name{"A", "B"}); got.Similarity != 0 {
		t.Errorf("missing similarity %v, want 0", got.Similarity)
	}
}

func TestNameLevelString(t *testing.T) {
	want := []string{"missing", "exact", "normalised", "nickname", "initial", "swapped", "jw92", "jw88", "different"}
	for l := NameMissing; l <= NameDifferent; l++ {
		if got := l.String(); got != want[l] {
			t.Errorf("NameLevel(%d) = %q, want %q", l, got, want[l])
		}
	}
	if got := NameLevel(99).String(); got != "unknown" {
		t.Errorf("NameLevel(99) = %q, want unknown", got)
	}
}

func TestCompareNamesLongAndInvalid(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	if got := CompareNames(Name{long, long}, Name{long + "y", long}); got.Level != NameExact {
		t.Errorf("names equal in their first MaxInputBytes bytes: %v, want exact", got.Level)
	}
	if got := CompareNames(Name{"\xff", "Smith"}, Name{"John", "Smith"}); got.Level != NameMissing {
		t.Errorf("given of invalid UTF-8 only: %v, want missing", got.Level)
	}
	if got := CompareNames(Name{"Jo\xffhn", "Smith"}, Name{"John", "Smith"}); got.Level != NameNormalised {
		t.Errorf("invalid byte inside a name: %v, want normalised", got.Level)
	}
}
