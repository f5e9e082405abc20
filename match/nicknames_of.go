package match

import "strings"

// NicknamesOf answers the other names of given's nickname groups (Robert:
// Bob, Bobby, Rob, …), lower case, in the table's order, or nil when given
// is in no group. Generators of test data use it to write the variants the
// finder must accept; it reads the same table as Nickname.
func NicknamesOf(given string) []string {
	g := firstWord(NormalizeName(given))
	if g == "" {
		return nil
	}
	var out []string
	for _, line := range nicknameGroups {
		names := strings.Fields(line)
		in := false
		for _, n := range names {
			if n == g {
				in = true
				break
			}
		}
		if !in {
			continue
		}
		for _, n := range names {
			if n != g {
				out = append(out, n)
			}
		}
	}
	return out
}
