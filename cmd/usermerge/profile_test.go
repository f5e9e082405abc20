package main

import (
	"strconv"
	"testing"

	"usermerge"
)

// TestMergeKeepSourceValue: --keep-source-value FIELD=SOURCE is previewed,
// merged, shown and reverted; a field or source the merge cannot take is
// refused in words, with nothing merged.
func TestMergeKeepSourceValue(t *testing.T) {
	c := newCLI(t)
	// the demo's three accounts of Katherine Lee: klee's email differs
	keep, source, other := "katherine.lee", "klee", "kate.lee"
	var k, s, o usermerge.AccountSummary
	c.json(&k, append(append([]string{}, acme...), "account", keep)...)
	c.json(&s, append(append([]string{}, acme...), "account", source)...)
	c.json(&o, append(append([]string{}, acme...), "account", other)...)
	if k.Email == s.Email || s.Email == "" || k.Name == o.Name {
		t.Fatalf("the demo accounts %+v, %+v, %+v need different emails and names", k.Account, s.Account, o.Account)
	}

	for _, tc := range []struct {
		flag, says string
		code       int
	}{
		{"phone=" + source, `"phone" is not a profile field`, exitUsage},
		{"email=maria.garcia", `"maria.garcia", which is not one of the accounts to merge`, exitUsage},
		{"email", "give a field and a source", exitUsage},
	} {
		r := c.fails(tc.code, append(append([]string{}, acme...), "merge", "--yes", "--target", keep, "--keep-source-value", tc.flag, source)...)
		contains(t, "merge --keep-source-value "+tc.flag, r.stderr, tc.says)
	}
	var a usermerge.AccountSummary
	c.json(&a, append(append([]string{}, acme...), "account", source)...)
	if a.MergedInto != "" {
		t.Fatalf("a refused merge merged %s", source)
	}

	out := c.acme("preview", "--target", keep, "--keep-source-value", "email="+source, source)
	contains(t, "preview", out, "Profile: the kept account takes", "FIELD", "WAS", "BECOMES", "FROM", "Email", k.Email, s.Email)
	out = c.acme("merge", "--yes", "--target", keep, "--keep-source-value", "email="+source, "--keep-source-value", "name="+other, source, other)
	contains(t, "merge", out, "Profile: the kept account took", s.Email, o.Name)
	c.json(&a, append(append([]string{}, acme...), "account", keep)...)
	if a.Email != s.Email || a.Name != o.Name {
		t.Errorf("kept account after the merge: %s <%s>, want %s <%s>", a.Name, a.Email, o.Name, s.Email)
	}
	var page usermerge.MergePage
	c.json(&page, append(append([]string{}, acme...), "merges", "--source", source)...)
	if len(page.Merges) != 1 {
		t.Fatalf("merges: %+v", page)
	}
	sid := strconv.FormatInt(page.Merges[0].ID, 10)
	out = c.acme("show", sid)
	contains(t, "show", out, "Profile: the kept account took", "Email", k.Email, s.Email, source)

	c.acme("revert", "--yes", sid, strconv.FormatInt(page.Merges[0].ID+1, 10))
	c.json(&a, append(append([]string{}, acme...), "account", keep)...)
	if a.Email != k.Email || a.Name != k.Name {
		t.Errorf("kept account after the revert: %s <%s>, want %s <%s> back", a.Name, a.Email, k.Name, k.Email)
	}
}
