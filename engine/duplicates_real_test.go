package engine

import (
	"fmt"
	"slices"
	"testing"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// Detection with the finder's real scores, on a small hand-made tenant.

var fillerGiven = []string{"Liam", "Olivia", "Noah", "Emma", "Oliver", "Ava", "Elijah", "Sophia", "Lucas", "Mia",
	"Mateo", "Amelia", "Levi", "Harper", "Ezra", "Evelyn", "Asher", "Luna", "Leo", "Ella"}
var fillerFamily = []string{"Novak", "Horvat", "Kowalski", "Jensen", "Virtanen", "Rossi", "Dubois", "Silva", "Petrov", "Yilmaz",
	"Tanaka", "Okafor", "Haddad", "Larsen", "Moreau", "Fischer", "Costa", "Nagy", "Popescu", "Ivanova"}

// duplicatesTenant is the fixture's tenant with 60 distinct people and a
// few duplicates (PRODUCT.md §11's cases), and a second tenant holding a
// look-alike of one of them.
func duplicatesTenant(t *testing.T) *fixture {
	f := newFixture(t, "learningbox")
	for i := range 60 {
		g, fam := fillerGiven[i%20], fillerFamily[(i*7+i/20)%20]
		group := []string{"sales", "east", "eng"}[i%3]
		f.person(fmt.Sprintf("f%02d", i), group, g+" "+fam, fmt.Sprintf("%s.%s%d@mail.example", g, fam, i),
			map[string]string{usermerge.AttrBirthDate: fmt.Sprintf("19%02d-%02d-%02d", 60+i%40, 1+i%12, 1+i%28)})
	}
	// One person, two accounts: Gmail ignores dots; a nickname.
	f.person("p1", "sales", "Robert Smith", "robert.smith@gmail.com", map[string]string{usermerge.AttrBirthDate: "1985-03-12", usermerge.AttrPhone: "+44 20 7946 0018"})
	f.person("p2", "sales", "Bob Smith", "robertsmith@gmail.com", map[string]string{usermerge.AttrBirthDate: "1985-03-12", usermerge.AttrPhone: "020 7946 0018"})
	// A rarer name, same employee number, another address.
	f.person("p3", "east", "Siobhan O'Brien", "siobhan.obrien@school.example", map[string]string{usermerge.AttrBirthDate: "1990-07-01", usermerge.AttrEmployeeNumber: "E-4471"})
	f.person("p4", "east", "Siobhan OBrien", "s.obrien@work.example", map[string]string{usermerge.AttrBirthDate: "1990-07-01", usermerge.AttrEmployeeNumber: "E-4471"})
	// An administrator's own account and its duplicate: the admin's is kept.
	f.person("p7", "eng", "Anna Bergström", "anna.bergstrom@corp.example", map[string]string{usermerge.AttrBirthDate: "1979-11-23"})
	f.person("p8", "eng", "Anna Bergstrom", "anna.bergstrom@corp.example", map[string]string{usermerge.AttrBirthDate: "1979-11-23"})
	f.tx(func(tx *store.Tx) error {
		return tx.PutAdmin(f.ctx, usermerge.Admin{TenantID: f.tenant, ID: "a9", Login: "anna", Role: usermerge.TenantAdmin, AccountID: "p7"}, "")
	})
	// Look-alikes that are merged away or deleted are never suggested.
	f.person("p9", "sales", "Karl Meyer", "karl.meyer@mail.example", map[string]string{usermerge.AttrBirthDate: "1970-02-02"})
	f.person("p10", "sales", "Karl Meier", "karl.meyer@mail.example", map[string]string{usermerge.AttrBirthDate: "1970-02-02"})
	f.person("p11", "sales", "Karl Meyer", "kmeyer@other.example", map[string]string{usermerge.AttrBirthDate: "1970-02-02"})
	f.merge("p10", "p9")
	f.person("p12", "sales", "Greta Lindqvist", "greta.lindqvist@mail.example", map[string]string{usermerge.AttrBirthDate: "1988-08-08"})
	f.person("p13", "sales", "Greta Lindqvist", "greta.lindqvist@mail.example", map[string]string{usermerge.AttrBirthDate: "1988-08-08"})
	if _, err := f.e.Delete(f.ctx, f.as("admin"), "p12", true); err != nil {
		t.Fatal(err)
	}
	// Another tenant's look-alike of p1.
	f.tx(func(tx *store.Tx) error {
		if err := tx.PutTenant(f.ctx, usermerge.Tenant{ID: "t2", Name: "Tenant Two", Policy: usermerge.Presets["learningbox"]}); err != nil {
			return err
		}
		return tx.PutAccount(f.ctx, usermerge.Account{TenantID: "t2", ID: "x1", Login: "rsmith", Email: "robert.smith@gmail.com",
			Name: "Robert Smith", Status: usermerge.Active, CreatedAt: base, Attributes: map[string]string{usermerge.AttrBirthDate: "1985-03-12"}})
	})
	return f
}

func hasSet(sets [][]string, ids ...string) bool {
	slices.Sort(ids)
	return slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(s, ids) })
}

func mentions(sets [][]string, id string) bool {
	return slices.ContainsFunc(sets, func(s []string) bool { return slices.Contains(s, id) })
}

func TestDetectionFindsTheDuplicatesOfAHandMadeTenant(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		run := f.detect(true)
		p := f.queue("admin")
		sets := accountSets(p)
		for _, want := range [][]string{{"p1", "p2"}, {"p3", "p4"}, {"p7", "p8"}} {
			if !hasSet(sets, want...) {
				t.Errorf("no suggestion %v in %v", want, sets)
			}
		}
		for _, never := range []string{"x1", "p9", "p12"} {
			if mentions(sets, never) {
				t.Errorf("%s (another tenant's, merged away or deleted) is suggested: %v", never, sets)
			}
		}
		for _, s := range p.Suggestions {
			if s.Accounts[0].ID != s.Keep || s.KeepReason == "" || len(s.Pairs) == 0 {
				t.Errorf("suggestion %d: keep %s first %s reason %q pairs %d", s.ID, s.Keep, s.Accounts[0].ID, s.KeepReason, len(s.Pairs))
			}
			if slices.ContainsFunc(s.Accounts, func(a usermerge.AccountSummary) bool { return a.ID == "p7" }) && s.Keep != "p7" {
				t.Errorf("the admin's own account p7 is a source of %+v", s)
			}
		}
		if run.Stats.Records != 60+9 || run.Suggestions != len(p.Suggestions) {
			t.Errorf("run stats %+v, suggestions %d, queue %d", run.Stats, run.Suggestions, len(p.Suggestions))
		}
		// The other tenant's run never sees t1.
		f2 := &fixture{t: t, ctx: f.ctx, db: f.db, e: f.e, tenant: "t2"}
		f2.tx(func(tx *store.Tx) error {
			return tx.PutAdmin(f.ctx, usermerge.Admin{TenantID: "t2", ID: "b1", Login: "admin", Role: usermerge.TenantAdmin}, "")
		})
		f2.detect(true)
		if got := f2.queue("admin"); len(got.Suggestions) != 0 {
			t.Errorf("tenant t2 (one account) has suggestions %v", accountSets(got))
		}
		// Group managers: only suggestions wholly in their scope.
		for login, want := range map[string][]string{"sales-editor": {"p1", "p2"}, "eng-viewer": {"p7", "p8"}} {
			got := accountSets(f.queue(login))
			if !hasSet(got, want...) {
				t.Errorf("%s does not see %v: %v", login, want, got)
			}
			for _, s := range got {
				for _, id := range s {
					ok, _ := f.inScopeOf(login, id)
					if !ok {
						t.Errorf("%s sees %v with %s outside their groups", login, s, id)
					}
				}
			}
		}
	})
}

// inScopeOf reports whether an account is in a group manager's view.
func (f *fixture) inScopeOf(login, id string) (bool, error) {
	_, err := f.e.AccountInfo(f.ctx, f.as(login), id)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return false, nil
	}
	return err == nil, err
}

func TestDismissedPairIsNeverSuggestedAgain(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		f.detect(true)
		var id int64
		for _, s := range f.queue("admin").Suggestions {
			if s.Accounts[0].ID == "p3" || s.Accounts[0].ID == "p4" {
				id = s.ID
			}
		}
		if id == 0 {
			t.Fatal("no suggestion of p3 and p4")
		}
		if _, err := f.e.DismissSuggestion(f.ctx, f.as("admin"), id); err != nil {
			t.Fatal(err)
		}
		for _, full := range []bool{true, false} {
			f.account(fmt.Sprintf("new%v", full), "sales") // something changed
			f.detect(full)
			if sets := accountSets(f.queue("admin")); hasSet(sets, "p3", "p4") || !hasSet(sets, "p1", "p2") {
				t.Errorf("after a new run (full %v): %v", full, sets)
			}
		}
	})
}

func TestChangedRunPicksUpANewDuplicate(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		f.detect(true)
		if sets := accountSets(f.queue("admin")); mentions(sets, "p20") {
			t.Fatalf("p20 suggested before it exists: %v", sets)
		}
		f.person("p20", "sales", "Siobhán O'Brien", "siobhan.obrien@school.example", map[string]string{usermerge.AttrBirthDate: "1990-07-01", usermerge.AttrEmployeeNumber: "E-4471"})
		if stale, _ := f.e.DuplicatesStale(f.ctx, f.as("admin")); !stale {
			t.Error("not stale after a new account")
		}
		run := f.detect(false)
		if run.Scope != "changed" {
			t.Fatalf("scope %q", run.Scope)
		}
		q := f.queue("admin")
		for _, s := range q.Suggestions {
			for _, p := range s.Pairs {
				if len(p.Evidence) == 0 || slices.ContainsFunc(p.Evidence, func(e match.Evidence) bool { return e.Level == "" || e.Outcome == "" }) {
					t.Errorf("pair %s/%s of a changed run is not explained: %+v", p.A, p.B, p.Evidence)
				}
			}
		}
		sets := accountSets(q)
		if !mentions(sets, "p20") || !hasSet(sets, "p1", "p2") || !hasSet(sets, "p7", "p8") {
			t.Errorf("after the changed run: %v; want p20 with the O'Briens and the earlier suggestions kept", sets)
		}
		// An account merged away since drops out, and its pairs with it.
		f.merge("p1", "p2")
		f.detect(false)
		if sets := accountSets(f.queue("admin")); mentions(sets, "p2") {
			t.Errorf("p2 merged away is still suggested: %v", sets)
		}
	})
}

func TestCheckAccountAnswersLikelyDuplicates(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		// Before any run the check scores with match.DefaultParams: p3
		// and p4 share an employee number and a birth date.
		before, err := f.e.CheckAccount(f.ctx, f.as("admin"), "login-p3", usermerge.Account{})
		if err != nil || len(before) == 0 || before[0].Account.ID != "p4" || before[0].Grade != match.GradeCertain {
			t.Errorf("check of p3 before any run: %+v, %v; want p4 first, certain", before, err)
		}
		// p1 (Robert Smith) shares no identifier, e-mail or employee
		// number with anyone, and no run stored blocking keys yet.
		if got, err := f.e.CheckAccount(f.ctx, f.as("admin"), "p1", usermerge.Account{}); err != nil || len(got) != 0 {
			t.Errorf("check of p1 before any run: %+v, %v; want none", got, err)
		}
		f.detect(true)
		got, err := f.e.CheckAccount(f.ctx, f.as("admin"), "login-p3", usermerge.Account{})
		if err != nil || len(got) == 0 || got[0].Account.ID != "p4" {
			t.Fatalf("check p3: %+v, %v; want p4 first", got, err)
		}
		for _, c := range got {
			if c.Account.ID == "p3" || c.Grade == "" || c.Probability < match.DefaultRules().Possible {
				t.Errorf("candidate %+v", c)
			}
		}
		// A new account, not yet stored.
		cand := usermerge.Account{Login: "bobby", Name: "Robert Smith", Email: "Robert.Smith@googlemail.com",
			Attributes: map[string]string{usermerge.AttrBirthDate: "1985-03-12"}}
		got, err = f.e.CheckAccount(f.ctx, f.as("admin"), "", cand)
		var ids []string
		for _, c := range got {
			ids = append(ids, c.Account.ID)
		}
		if err != nil || !slices.Contains(ids, "p1") || !slices.Contains(ids, "p2") {
			t.Errorf("check of a new Robert Smith: %v, %v", ids, err)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Probability > got[i-1].Probability {
				t.Errorf("not strongest first: %v", ids)
			}
		}
		// An account created after the run is found by its blocking keys
		// once a changed run stored them.
		f.person("p22", "sales", "Ingrid Halvorsen", "ingrid.h@one.example", map[string]string{usermerge.AttrBirthDate: "1992-04-05"})
		// The address differs in case only: the store's exact lookup by address
		// misses it, the blocking key of its normalised local part does not.
		ingrid := usermerge.Account{Name: "Ingrid Halvorsen", Email: "Ingrid.H@One.Example", Attributes: map[string]string{usermerge.AttrBirthDate: "1992-04-05"}}
		found := func() bool {
			got, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", ingrid)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(got, func(c usermerge.DuplicateCandidate) bool { return c.Account.ID == "p22" })
		}
		if found() {
			t.Error("p22 found before a run stored its keys")
		}
		f.detect(false)
		if !found() {
			t.Error("p22 not found after a changed run stored its keys")
		}
		// A new account's external IDs are evidence: the candidate's
		// explanation shows the shared ID as agreed.
		f.rec("external_ids", "x-p3", "p3", "system", "sso", "value", "siobhan-7")
		byID, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", usermerge.Account{Name: "Siobhan O'Brien",
			ExternalIDs: []usermerge.ExternalID{{System: "sso", Value: "siobhan-7"}}})
		agreed := func(c usermerge.DuplicateCandidate) bool {
			return c.Account.ID == "p3" && slices.ContainsFunc(c.Pair.Evidence, func(ev match.Evidence) bool {
				return ev.Field == match.FieldExternalID && ev.Outcome == "agreed"
			})
		}
		if err != nil || !slices.ContainsFunc(byID, agreed) {
			t.Errorf("check with an external ID: %+v, %v; want p3 with the ID agreed", byID, err)
		}
		// In scope only: eng-viewer sees no Robert Smith (sales).
		if got, err := f.e.CheckAccount(f.ctx, f.as("eng-viewer"), "", cand); err != nil || len(got) != 0 {
			t.Errorf("eng-viewer's check: %+v, %v", got, err)
		}
		if _, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", usermerge.Account{}); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("empty candidate: %v", err)
		}
		if _, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", usermerge.Account{Name: "X", Attributes: map[string]string{usermerge.AttrBirthDate: "1985-13-45"}}); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("bad birth date: %v", err)
		}
		if _, err := f.e.CheckAccount(f.ctx, f.as("admin"), "p9", usermerge.Account{}); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("check of a merged-away account: %v", err)
		}
	})
}

// TestCheckAccountSSOOnly: a new account that carries only an SSO external
// ID equal to an existing account's is its likely duplicate, in a tenant
// where no account had an external ID when the run fitted its parameters
// (the field's u is then the structural 1/10,000, not half-and-half), and
// before any run; an ID of the same system with another value is not.
func TestCheckAccountSSOOnly(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		check := func(value string) []usermerge.DuplicateCandidate {
			t.Helper()
			got, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", usermerge.Account{
				ExternalIDs: []usermerge.ExternalID{{System: "sso", Value: value}}})
			if err != nil {
				t.Fatalf("check sso %s: %v", value, err)
			}
			return got
		}
		likely := func(got []usermerge.DuplicateCandidate) bool {
			return len(got) == 1 && got[0].Account.ID == "p7" &&
				(got[0].Grade == match.GradeCertain || got[0].Grade == match.GradeProbable)
		}
		f.detect(true) // no account has an external ID yet
		f.rec("external_ids", "x-p7", "p7", "system", "sso", "value", "anna-1979")
		if got := check("anna-1979"); !likely(got) {
			t.Errorf("after a run without external IDs: %+v, want p7 certain or probable", got)
		}
		if got := check("someone-else"); len(got) != 0 {
			t.Errorf("another SSO value: %+v, want none", got)
		}
	})
}

// TestCheckAccountSSOOnlyBeforeAnyRun: the same before any run.
func TestCheckAccountSSOOnlyBeforeAnyRun(t *testing.T) {
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		f := duplicatesTenant(t)
		f.rec("external_ids", "x-p7", "p7", "system", "sso", "value", "anna-1979")
		got, err := f.e.CheckAccount(f.ctx, f.as("admin"), "", usermerge.Account{
			ExternalIDs: []usermerge.ExternalID{{System: "sso", Value: "anna-1979"}}})
		if err != nil || len(got) != 1 || got[0].Account.ID != "p7" || got[0].Grade == match.GradePossible {
			t.Errorf("check before any run: %+v, %v; want p7 certain or probable", got, err)
		}
	})
}
