package store

import (
	"testing"

	"usermerge"
)

// TestPickHolder: an external ID held by one account names it; held by
// several, it names the one live account among them, and is refused as
// ambiguous when two are live. (The tenant's unique index on system and
// value keeps a database from holding such a case today.)
func TestPickHolder(t *testing.T) {
	live := func(id string) usermerge.Account { return usermerge.Account{ID: id, Status: usermerge.Active} }
	merged := func(id string) usermerge.Account { a := live(id); a.MergedInto = "X"; return a }
	for _, c := range []struct {
		name   string
		list   []usermerge.Account
		want   string
		reason string
	}{
		{"none", nil, "", "not_found"},
		{"one, merged away", []usermerge.Account{merged("A")}, "A", ""},
		{"one live among merged", []usermerge.Account{merged("A"), live("B")}, "B", ""},
		{"none live", []usermerge.Account{merged("A"), merged("B")}, "A", ""},
		{"two live", []usermerge.Account{live("A"), live("B"), merged("C")}, "", "external_id_ambiguous"},
	} {
		got, err := pickHolder("sso", "v", c.list)
		reason := ""
		if err != nil {
			reason = usermerge.ErrorReason(err)
		}
		if reason != c.reason || got.ID != c.want {
			t.Errorf("%s: %q, %v; want %q, reason %q", c.name, got.ID, err, c.want, c.reason)
		}
	}
}
