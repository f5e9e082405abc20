package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// named creates an active account with a name (and a login and email
// derived from its id) in group sales.
func (f *fixture) named(id, name string) {
	f.t.Helper()
	f.tx(func(tx *store.Tx) error {
		err := tx.PutAccount(f.ctx, usermerge.Account{TenantID: f.tenant, ID: id, Login: "login-" + id, Email: id + "@example.test",
			Name: name, Status: usermerge.Active, CreatedAt: base.Add(-400 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		return tx.PutMembership(f.ctx, f.tenant, id, "sales")
	})
}

// searchIDs returns the ids of the accounts a search finds, sorted.
func (f *fixture) searchIDs(q string) []string {
	f.t.Helper()
	got, err := f.e.SearchAccounts(f.ctx, f.as("admin"), q, "", 100, 0)
	if err != nil {
		f.t.Fatalf("search %q: %v", q, err)
	}
	ids := []string{}
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// listed returns the source ids of the merges the merge list finds by
// source (side "source") or target name, sorted.
func (f *fixture) listed(side, q string) []string {
	f.t.Helper()
	flt := usermerge.MergeFilter{State: "all"}
	if side == "source" {
		flt.Source = q
	} else {
		flt.Target = q
	}
	page, err := f.e.ListMerges(f.ctx, f.as("admin"), flt)
	if err != nil {
		f.t.Fatalf("merge list by %s %q: %v", side, q, err)
	}
	ids := []string{}
	for _, m := range page.Merges {
		ids = append(ids, m.Source.ID)
	}
	slices.Sort(ids)
	if int(page.Total) != len(ids) {
		f.t.Errorf("merge list by %s %q: total %d, %d merges", side, q, page.Total, len(ids))
	}
	return ids
}

// TestSearchTreatsWildcardsLiterally: %, _ and the escape character \ in a
// search are the characters themselves, in the account search and in the
// merge list by source and by target, on both databases.
func TestSearchTreatsWildcardsLiterally(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "schoox")
		names := map[string]string{"pct": "100% Sure", "und": "snake_case Person", "bsl": `Back\Slash`, "plain": "Plain Person",
			"pct2": "Another 5%", "t-pct": "Target 50%", "t-plain": "Target Plain"}
		for id, name := range names {
			f.named(id, name)
		}
		f.merge("t-pct", "pct")
		f.merge("t-plain", "plain")
		f.merge("t-plain", "und")
		for _, c := range []struct{ q, want string }{
			{"%", "pct,pct2,t-pct"},
			{"0%", "pct,t-pct"},
			{"_", "und"},
			{"e_c", "und"},
			{`\`, "bsl"},
			{`k\s`, "bsl"},
			{"%%", ""},
			{"p%n", ""},
			{"s_n", ""},
		} {
			want := []string{}
			if c.want != "" {
				want = splitComma(c.want)
			}
			if diff := cmp.Diff(want, f.searchIDs(c.q)); diff != "" {
				t.Errorf("account search %q (-want +got):\n%s", c.q, diff)
			}
		}
		if diff := cmp.Diff([]string{"pct"}, f.listed("source", "%")); diff != "" {
			t.Errorf("merge list by source %%: (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"und"}, f.listed("source", "_")); diff != "" {
			t.Errorf("merge list by source _: (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"pct"}, f.listed("target", "%")); diff != "" {
			t.Errorf("merge list by target %%: (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{}, f.listed("target", "_")); diff != "" {
			t.Errorf("merge list by target _: (-want +got):\n%s", diff)
		}
	})
}

func splitComma(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// TestSearchFoldsCaseTheSameOnBothDatabases: accented and non-Latin names are
// found whatever the case of the search, on both databases alike, in the
// account search and the merge list, by name and by external ID; and after
// a rename the old name is no longer found.
func TestSearchFoldsCaseTheSameOnBothDatabases(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "schoox")
		f.named("elodie", "Élodie Durand")
		f.named("muller", "Jürgen Müller")
		f.named("odysseus", "ΟΔΥΣΣΕΥΣ Λαέρτιος")
		f.named("dmitri", "Дмитрий Ivanov")
		f.named("target", "Zoë Target")
		f.named("plain", "Plain Person")
		f.rec("external_ids", "x1", "plain", "system", "hr", "value", "ÅSE-ØRSTED-7")
		f.merge("target", "elodie")
		f.merge("target", "muller")
		for _, c := range []struct{ q, want string }{
			{"élodie", "elodie"},
			{"ÉLODIE", "elodie"},
			{"Élo", "elodie"},
			{"Müller", "muller"},
			{"MÜLLER", "muller"},
			{"müll", "muller"},
			{"ürg", "muller"},
			{"οδυσσευς", "odysseus"},
			{"ΟΔΥΣΣΕΥΣ", "odysseus"},
			{"дмитрий", "dmitri"},
			{"ДМИТ", "dmitri"},
			{"zoë", "target"},
			{"ZOË", "target"},
			{"åse-ør", "plain"},
			{"ÅSE-ØRSTED", "plain"},
			{"é", "elodie"},
			{"üL", "muller"},
			{"elodie", "elodie"}, // the login
			{"nobody", ""},
		} {
			want := []string{}
			if c.want != "" {
				want = []string{c.want}
			}
			if diff := cmp.Diff(want, f.searchIDs(c.q)); diff != "" {
				t.Errorf("account search %q (-want +got):\n%s", c.q, diff)
			}
		}
		for _, q := range []string{"élodie", "ÉLODIE", "Müller", "MÜLLER"} {
			want := []string{"muller"}
			if q[0] == 0xc3 && (q[1] == 0xa9 || q[1] == 0x89) {
				want = []string{"elodie"}
			}
			if diff := cmp.Diff(want, f.listed("source", q)); diff != "" {
				t.Errorf("merge list by source %q (-want +got):\n%s", q, diff)
			}
		}
		if diff := cmp.Diff([]string{"elodie", "muller"}, f.listed("target", "ZOË")); diff != "" {
			t.Errorf("merge list by target ZOË (-want +got):\n%s", diff)
		}
		f.exec(`UPDATE accounts SET name = 'Renée Other' WHERE tenant_id = ? AND id = ?`, f.tenant, "plain")
		f.exec(`UPDATE external_ids SET value = 'HR-1' WHERE tenant_id = ? AND id = ?`, f.tenant, "x1")
		for q, want := range map[string][]string{"plain person": {}, "person": {}, "RENÉE": {"plain"}, "ørsted": {}, "hr-1": {"plain"}} {
			if diff := cmp.Diff(want, f.searchIDs(q)); diff != "" {
				t.Errorf("after renaming, search %q (-want +got):\n%s", q, diff)
			}
		}
	})
}

// TestMergeIDsArePerTenant: each tenant's first merge is merge 1 and its
// next is merge 2, however the tenants' merges interleave, on both
// databases.
func TestMergeIDsArePerTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "schoox")
		g := &fixture{t: t, ctx: f.ctx, db: f.db, e: f.e, tenant: "t2"}
		g.tx(func(tx *store.Tx) error {
			if err := tx.PutTenant(g.ctx, usermerge.Tenant{ID: "t2", Name: "Tenant Two", Policy: usermerge.Presets["schoox"]}); err != nil {
				return err
			}
			if err := tx.PutGroup(g.ctx, usermerge.Group{TenantID: "t2", ID: "sales", Name: "Sales"}); err != nil {
				return err
			}
			return tx.PutAdmin(g.ctx, usermerge.Admin{TenantID: "t2", ID: "a1", Login: "admin", Role: usermerge.TenantAdmin}, "")
		})
		for _, x := range []*fixture{f, g} {
			for i := 1; i <= 4; i++ {
				x.named(fmt.Sprint("a", i), fmt.Sprint("Person ", i))
			}
		}
		var got []string
		for _, step := range []struct {
			x              *fixture
			target, source string
		}{{f, "a1", "a2"}, {g, "a1", "a2"}, {g, "a3", "a4"}, {f, "a3", "a4"}} {
			for _, m := range step.x.merge(step.target, step.source) {
				got = append(got, fmt.Sprintf("%s:%d", step.x.tenant, m.ID))
			}
		}
		if diff := cmp.Diff([]string{"t1:1", "t2:1", "t2:2", "t1:2"}, got); diff != "" {
			t.Errorf("merge ids (-want +got):\n%s", diff)
		}
	})
}
