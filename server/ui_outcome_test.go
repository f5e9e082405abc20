package server

import (
	"testing"

	"usermerge/match"
)

// The explanation says why a value counts as near, in words, and falls
// back on the similarity where the level needs none.
func TestOutcomeText(t *testing.T) {
	for _, c := range []struct {
		e    match.Evidence
		want string
	}{
		{match.Evidence{Field: match.FieldName, Level: "initial", Outcome: "close", Similarity: 1}, "Close: one given name is the other's initial"},
		{match.Evidence{Field: match.FieldName, Level: "exact", Outcome: "agreed", Similarity: 1}, "Agreed"},
		{match.Evidence{Field: match.FieldName, Level: "given_different", Outcome: "disagreed"}, "Disagreed: the same family name, another given name"},
		{match.Evidence{Field: match.FieldEmail, Level: "same_local_part", Outcome: "close", Similarity: 1}, "Close: the same name before the @, at another domain"},
		{match.Evidence{Field: "future_field", Level: "near", Outcome: "close", Similarity: 0.914}, "Close (91 % alike)"},
		{match.Evidence{Field: match.FieldPhone, Level: "missing", Outcome: "missing"}, "Missing"},
	} {
		if got := outcomeText(c.e); got != c.want {
			t.Errorf("outcomeText(%s %s) = %q, want %q", c.e.Field, c.e.Level, got, c.want)
		}
	}
}
