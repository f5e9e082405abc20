package match

import (
	"slices"
	"testing"
)

func TestNicknamesOf(t *testing.T) {
	if nn := NicknamesOf("Bob"); !slices.Contains(nn, "robert") {
		t.Errorf("NicknamesOf(Bob) = %v", nn)
	}
	for _, n := range NicknamesOf("Katherine") {
		if !Nickname("Katherine", n) {
			t.Errorf("NicknamesOf(Katherine) holds %s, which Nickname refuses", n)
		}
	}
	if nn := NicknamesOf(""); nn != nil {
		t.Errorf("NicknamesOf(\"\") = %v", nn)
	}
}
