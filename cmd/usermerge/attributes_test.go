package main

import (
	"strings"
	"testing"

	"usermerge"
)

// account LOGIN shows the account's profile attributes, known keys by
// label, free keys by name; an account without any shows no Profile part.
func TestAccountShowsAttributes(t *testing.T) {
	c := newCLI(t)
	var ans usermerge.AccountsAnswer
	c.json(&ans, append(append([]string{}, acme...), "accounts", "--limit", "1000")...)
	var with, without *usermerge.AccountSummary
	for i, a := range ans.Accounts {
		switch {
		case with == nil && a.Attributes["birth_date"] != "" && a.Attributes["cost_centre"] != "":
			with = &ans.Accounts[i]
		case without == nil && len(a.Attributes) == 0:
			without = &ans.Accounts[i]
		}
	}
	if with == nil || without == nil {
		t.Fatalf("the demo has no account with a birth date and a cost centre, or none without attributes")
	}
	out := c.acme("account", with.Login)
	contains(t, "account "+with.Login, out, "Profile:", "Birth date", with.Attributes["birth_date"], "cost_centre", with.Attributes["cost_centre"])
	if strings.Index(out, "Profile:") > strings.Index(out, "Records:") {
		t.Errorf("the profile comes after the records:\n%s", out)
	}
	var a usermerge.AccountSummary
	c.json(&a, append(append([]string{}, acme...), "account", with.Login)...)
	if a.Attributes["birth_date"] != with.Attributes["birth_date"] {
		t.Errorf("account --json attributes = %v, want %v", a.Attributes, with.Attributes)
	}
	if out := c.acme("account", without.Login); strings.Contains(out, "Profile:") {
		t.Errorf("an account without attributes shows a profile:\n%s", out)
	}
}
