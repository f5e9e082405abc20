package engine

import (
	"slices"
	"strings"
	"testing"

	"usermerge"
	"usermerge/store/storetest"
)

func codes(ws []usermerge.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// The comparison and the preview's warnings come from the data: group paths
// up the tree, external IDs of one system, sign-ins of both accounts.
func TestCompareWarnsOfTwoPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("T", "east")
		f.account("S", "east") // another name and another email than T's
		f.account("D", "east") // the same person as T, by the data
		f.exec(`UPDATE accounts SET name = ?, email = ? WHERE tenant_id = ? AND id = ?`, "Name T", "t@example.test", f.tenant, "D")
		f.rec("external_ids", "x1", "T", "system", "sso", "value", "maria")
		f.rec("external_ids", "x2", "S", "system", "sso", "value", "pablo")
		f.rec("external_ids", "x3", "D", "system", "hr", "value", "42")
		f.rec("signins", "si1", "T", "at", day(2))
		f.rec("signins", "si2", "S", "at", day(5))
		f.rec("signins", "si3", "D", "at", day(40))

		cs, err := f.e.Compare(f.ctx, f.as("admin"), "T", []string{"S", "D"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{usermerge.WarnDifferentNames, usermerge.WarnDifferentEmails, usermerge.WarnBothRecent, usermerge.WarnDifferentExternal}
		if got := codes(cs[0].Warnings); !slices.Equal(got, want) {
			t.Errorf("T beside S: %v, want %v", got, want)
		}
		if got := codes(cs[1].Warnings); len(got) != 0 {
			t.Errorf("T beside D (same name and email, D signed in 40 days ago, IDs of other systems): %v, want none", got)
		}
		if got := cs[0].Kept.Groups; !slices.Equal(got, []string{"Sales East › Sales › Company"}) {
			t.Errorf("T's groups with their path: %q", got)
		}
		if got := cs[0].Other.ExternalIDs; len(got) != 1 || got[0].Value != "pablo" {
			t.Errorf("S's external IDs: %v", got)
		}

		p, err := f.e.Preview(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}})
		if err != nil {
			t.Fatal(err)
		}
		got := codes(p.Sources[0].Warnings)
		for _, c := range append(want, usermerge.WarnStillActive, usermerge.WarnRecentSignIn) {
			if !slices.Contains(got, c) {
				t.Errorf("preview warnings %v lack %s", got, c)
			}
		}
		if p.Sources[0].Comparison == nil || p.Sources[0].Comparison.Other.Account.ID != "S" {
			t.Errorf("preview comparison: %+v", p.Sources[0].Comparison)
		}
		for _, w := range p.Sources[0].Warnings {
			if strings.Contains(w.Message, "Login-") {
				t.Errorf("a login capitalised: %q", w.Message)
			}
		}
	})
}

// A group manager compares only accounts in their groups.
func TestCompareScope(t *testing.T) {
	f := newFixture(t, "learningbox")
	f.account("T", "east")
	f.account("E", "eng")
	if _, err := f.e.Compare(f.ctx, f.as("sales-editor"), "T", []string{"E"}); err == nil {
		t.Error("a sales editor compared an engineering account")
	}
	if _, err := f.e.Compare(f.ctx, f.as("eng-viewer"), "E", []string{"T"}); err == nil {
		t.Error("a viewer compared accounts")
	}
}
