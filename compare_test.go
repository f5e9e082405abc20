package usermerge

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompareWarnings(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour
	base := func(login, name, email string) AccountFacts {
		return AccountFacts{Account: Account{Login: login, Name: name, Email: email, Status: Active}}
	}
	cases := []struct {
		name        string
		kept, other AccountFacts
		want        []string // warning codes, in order
	}{
		{"same person", base("mgarcia", "Maria Garcia", "maria@x.test"), base("maria.garcia", "Maria Garcia", "maria@x.test"), nil},
		{"name differs in case and spacing only", base("a", "Maria  Garcia", "m@x"), base("b", "maria garcia", "M@X"), nil},
		{"accents aside", base("maria.garcia", "María García", "m@x"), base("mgarcia", "Maria Garcia", "m@x"), nil},
		{"umlaut and its transliteration", base("a", "Jürgen Müller", "m@x"), base("b", "Juergen Mueller", "m@x"), nil},
		{"an initial", base("a", "Chinedu Okafor", "m@x"), base("b", "C. Okafor", "m@x"), nil},
		{"an initial of another name", base("a", "Chinedu Okafor", "m@x"), base("b", "D. Okafor", "m@x"), []string{WarnDifferentNames}},
		{"hyphen and doubled letter", base("a", "Mohammed Al-Farsi", "m@x"), base("b", "Mohamed Alfarsi", "m@x"), nil},
		{"apostrophe", base("a", "Siobhán O'Brien", "m@x"), base("b", "Siobhan OBrien", "m@x"), nil},
		{"a nickname", base("a", "Robert Johnson", "m@x"), base("b", "Bob Johnson", "m@x"), []string{WarnDifferentNames}},
		{"another word count", base("a", "Maria Garcia", "m@x"), base("b", "Maria Garcia Lopez", "m@x"), []string{WarnDifferentNames}},
		{"different names", base("maria.garcia", "Maria Garcia", "m@x"), base("pablo.garcia", "Pablo Garcia", "m@x"), []string{WarnDifferentNames}},
		{"different emails", base("a", "N", "maria@x.test"), base("b", "N", "pablo@x.test"), []string{WarnDifferentEmails}},
		{"one without email", base("a", "N", "maria@x.test"), base("b", "N", ""), nil},
		{"one without name", base("a", "", "e"), base("b", "Pablo", "e"), nil},
		{"both recent", withSignIn(base("a", "N", "e"), ago(2*day)), withSignIn(base("b", "N", "e"), ago(29*day)), []string{WarnBothRecent}},
		{"one recent, one old", withSignIn(base("a", "N", "e"), ago(2*day)), withSignIn(base("b", "N", "e"), ago(31*day)), nil},
		{"exactly 30 days is not recent", withSignIn(base("a", "N", "e"), ago(day)), withSignIn(base("b", "N", "e"), ago(30*day)), nil},
		{"one never signed in", withSignIn(base("a", "N", "e"), ago(day)), base("b", "N", "e"), nil},
		{"different IDs of one system",
			withExt(base("a", "N", "e"), ExternalID{"sso", "maria"}), withExt(base("b", "N", "e"), ExternalID{"sso", "pablo"}), []string{WarnDifferentExternal}},
		{"same ID of one system", withExt(base("a", "N", "e"), ExternalID{"sso", "m"}), withExt(base("b", "N", "e"), ExternalID{"sso", "m"}), nil},
		{"IDs of different systems", withExt(base("a", "N", "e"), ExternalID{"sso", "m"}), withExt(base("b", "N", "e"), ExternalID{"hr", "7"}), nil},
		{"all at once",
			withExt(withSignIn(base("maria.garcia", "Maria Garcia", "maria@x"), ago(day)), ExternalID{"hr", "1"}),
			withExt(withSignIn(base("pablo.garcia", "Pablo Garcia", "pablo@x"), ago(3*day)), ExternalID{"hr", "2"}),
			[]string{WarnDifferentNames, WarnDifferentEmails, WarnBothRecent, WarnDifferentExternal}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(tc.kept, tc.other, now)
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.Code)
				if w.Message == "" || strings.Contains(w.Message, "[") {
					t.Errorf("warning %s reads %q", w.Code, w.Message)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warnings %v, want %v (%q)", got, tc.want, Messages(c.Warnings))
			}
		})
	}
}

func TestCompareRowsMarkDifferences(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	k := AccountFacts{Account: Account{Login: "maria.garcia", Name: "Maria Garcia", Email: "m@x", Status: Active},
		Groups: []string{"Madrid › Sales"}, Jobs: []string{"Clerk"}, Counts: map[Kind]int64{KindCourses: 3}}
	o := AccountFacts{Account: Account{Login: "pablo.garcia", Name: "Pablo Garcia", Email: "m@x", Status: Inactive},
		Groups: []string{"Madrid › Sales"}, Jobs: []string{"Driver"}}
	c := Compare(k, o, now)
	differs := map[string]bool{}
	for _, r := range c.Rows {
		differs[r.Field] = r.Differs
	}
	for f, want := range map[string]bool{"name": true, "email": false, "status": true, "groups": false, "jobs": true, "login": false} {
		if differs[f] != want {
			t.Errorf("row %s differs = %v, want %v", f, differs[f], want)
		}
	}
	if got := c.Rows[len(c.Rows)-len(Kinds)].Label; got != Kinds[0].Label() {
		t.Errorf("record count rows start with %q, want %q", got, Kinds[0].Label())
	}
}

func withSignIn(f AccountFacts, t *time.Time) AccountFacts { f.LastSignIn = t; return f }
func withExt(f AccountFacts, x ...ExternalID) AccountFacts { f.ExternalIDs = x; return f }
