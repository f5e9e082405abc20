package main

import "testing"

// Ids and logins given on the command line take the one clean form:
// padded and decomposed spellings find the account, invisible characters
// are refused as invalid input.
func TestCommandLineCleansIDs(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("account", "  "+keep+" ")
	r := c.fails(exitUsage, "--tenant", "acme", "--as", "ad\u200bmin", "merges")
	contains(t, "--as with a zero-width space", r.stderr, `login "ad\u200bmin" holds an invisible or control character (U+200B`)
	r = c.fails(exitUsage, append(append([]string{}, acme...), "account", source+"\u202e")...)
	contains(t, "an account with a bidi override", r.stderr, "U+202E")
	r = runMain(nil, c.db, "a long enough passphrase\n", "--tenant", "acme", "password", "ad\u2060min")
	if r.code != exitUsage {
		t.Errorf("password for a login with a word joiner: exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}
}
