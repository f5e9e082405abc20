package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"usermerge"
)

// TestShowPages: show --kind pages through one kind's records with --limit
// and --offset, says which records it lists of how many and the command for
// the next page; bad pages are usage errors.
func TestShowPages(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("merge", "--target", keep, "--yes", source)
	var d usermerge.MergeDetails
	c.json(&d, append(append([]string{}, acme...), "show", "1", "--kind", "signin", "--limit", "1")...)
	if len(d.Kinds) != 1 || d.Kinds[0].Total < 3 {
		t.Fatalf("show --json --kind signins: %d kinds; the demo pair needs 3 or more sign-ins to page: %+v", len(d.Kinds), d.Kinds)
	}
	total := d.Kinds[0].Total
	out := c.acme("show", "1", "--kind", "signin", "--limit", "2")
	contains(t, "first page", out, fmt.Sprintf("Records 1–2 of %d.", total), "Next page: usermerge show 1 --kind signin --limit 2 --offset 2")
	out = c.acme("show", "1", "--kind", "sign-ins", "--limit", "2", "--offset", "2")
	contains(t, "second page", out, fmt.Sprintf("Records 3–%d of %d.", min(4, total), total))
	last := strconv.FormatInt(total-1, 10)
	out = c.acme("show", "1", "--kind", "signin", "--limit", "2", "--offset", last)
	contains(t, "last page", out, fmt.Sprintf("Records %d–%d of %d.", total, total, total))
	if strings.Contains(out, "Next page") {
		t.Errorf("the last page offers a next page:\n%s", out)
	}
	out = c.acme("show", "1", "--kind", "signin", "--offset", "100000")
	contains(t, "past the end", out, "No records after the first 100,000: the kind lists "+plural(int(total), "record", "records")+".")
	// All on one page: no paging line.
	if out := c.acme("show", "1", "--kind", "signin", "--limit", "10000"); strings.Contains(out, "Records 1–") {
		t.Errorf("one page shows a paging line:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "1", "--offset", "2"}, "name it with --kind"},
		{[]string{"show", "1", "--kind", "signin", "--offset", "-1"}, "--offset must be 0 or more"},
		{[]string{"show", "1", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{[]string{"show", "1", "--limit", "10001"}, "--limit must be between 1 and 10000"},
	} {
		r := c.fails(exitUsage, append(append([]string{}, acme...), tc.args...)...)
		contains(t, strings.Join(tc.args, " "), r.stderr, tc.want)
	}
}

// TestMergesByOperation: merges shows each merge's operation and
// --operation lists one operation's merges.
func TestMergesByOperation(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("merge", "--target", keep, "--yes", source)
	var p usermerge.MergePage
	c.json(&p, append(append([]string{}, acme...), "merges")...)
	if len(p.Merges) != 1 {
		t.Fatalf("merges: %+v", p)
	}
	op := strconv.FormatInt(p.Merges[0].OperationID, 10)
	contains(t, "merges", c.acme("merges"), "OP")
	contains(t, "merges --operation", c.acme("merges", "--operation", op), source, "1 merge of 1")
	contains(t, "merges --operation other", c.acme("merges", "--operation", op+"0"), "No merges found.")
	r := c.fails(exitUsage, append(append([]string{}, acme...), "merges", "--operation", "-2")...)
	contains(t, "merges --operation -2", r.stderr, "--operation must be")
}

// A record that a later merge moved on is shown with the login of the
// account holding it now, never its internal id.
func TestShowNamesLaterHolderByLogin(t *testing.T) {
	c := newCLI(t)
	globex := []string{"--tenant", "globex", "--as", "admin"}
	run := func(args ...string) string {
		t.Helper()
		return c.ok(append(append([]string{}, globex...), args...)...)
	}
	run("merge", "--yes", "--target", "alex.petrov", "apetrov2")
	run("merge", "--yes", "--target", "apetrov", "alex.petrov")
	var list usermerge.MergePage
	c.json(&list, append(append([]string{}, globex...), "merges", "--source", "apetrov2")...)
	if len(list.Merges) != 1 {
		t.Fatalf("merges of apetrov2: %+v", list)
	}
	first := list.Merges[0]
	out := run("show", strconv.FormatInt(first.ID, 10), "--kind", "signin")
	if !strings.Contains(out, " apetrov ") {
		t.Errorf("show of the first merge does not name apetrov, who holds its sign-ins now:\n%s", out)
	}
	for _, a := range []usermerge.Account{first.Source, first.Target} {
		if a.ID != a.Login && strings.Contains(out, a.ID+" ") {
			t.Errorf("show prints the internal id %s:\n%s", a.ID, out)
		}
	}
	var apetrov usermerge.AccountSummary
	c.json(&apetrov, append(append([]string{}, globex...), "account", "apetrov")...)
	if strings.Contains(out, " "+apetrov.Account.ID+" ") {
		t.Errorf("show prints apetrov's internal id %s instead of the login:\n%s", apetrov.Account.ID, out)
	}
}
