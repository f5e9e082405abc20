package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

func setAttributes(t *testing.T, e *env, tenant, id string, attrs map[string]string) {
	t.Helper()
	ctx := context.Background()
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		a, err := tx.Account(ctx, tenant, id)
		if err != nil {
			return err
		}
		a.Attributes = attrs
		return tx.PutAccount(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Account answers carry the profile attributes, as documented, and leave
// the key out for an account without any.
func TestAPIAccountAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		attrs := map[string]string{"given_name": "Sam", "family_name": "Sourceson", "birth_date": "1990-04-23", "locker": "B-12"}
		setAttributes(t, e, "acme", "S", attrs)
		admin := e.signIn("admin")
		doc := openAPIDoc(t)
		const T = "/api/v1/tenants/{tenant}"
		for _, s := range []struct{ route, path string }{
			{"GET " + T + "/accounts/{id}", "/api/v1/tenants/acme/accounts/S"},
			{"GET " + T + "/accounts", "/api/v1/tenants/acme/accounts?q=Learner%20S"},
		} {
			st, body := admin.raw("GET", s.path, "", nil)
			if st != 200 {
				t.Fatalf("GET %s: %d %s", s.path, st, body)
			}
			for _, p := range openAPICheckAnswer(doc, s.route, st, body) {
				t.Errorf("GET %s: %s", s.path, p)
			}
			if !strings.Contains(string(body), `"attributes": {`) {
				t.Errorf("GET %s has no attributes: %s", s.path, body)
			}
		}
		var got struct {
			Attributes map[string]string `json:"attributes"`
		}
		if st := admin.call("GET", "/api/v1/tenants/acme/accounts/S", nil, &got); st != 200 {
			t.Fatalf("status %d", st)
		}
		if diff := cmp.Diff(attrs, got.Attributes); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
		st, body := admin.raw("GET", "/api/v1/tenants/acme/accounts/T", "", nil)
		if st != 200 || strings.Contains(string(body), `"attributes"`) {
			t.Errorf("an account without attributes: %d %s", st, body)
		}
	})
}

// An import over the API with a bad attribute answers 422 naming the line
// and changes nothing; a good one sets the attributes.
func TestAPIImportAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		line := `{"kind":"account","tenant":"acme","id":"S","login":"s.login","created_at":"2025-01-01T00:00:00Z","attributes":`
		bad := line + `{"given_name":"Sam"}}` + "\n" + line + `{"birth_date":"1990-02-30"}}` + "\n"
		st, body := admin.raw("POST", "/api/v1/tenants/acme/import", "application/x-ndjson", []byte(bad))
		var eb struct {
			Error struct{ Message string } `json:"error"`
		}
		if err := json.Unmarshal(body, &eb); err != nil {
			t.Fatal(err)
		}
		if st != 422 || !strings.HasPrefix(eb.Error.Message, "line 2: attribute birth_date must be a date written YYYY-MM-DD") {
			t.Errorf("bad import: %d %s", st, body)
		}
		a := e.account("acme", "S")
		if a.Attributes != nil {
			t.Errorf("a refused import set attributes: %v", a.Attributes)
		}
		st, body = admin.raw("POST", "/api/v1/tenants/acme/import", "application/x-ndjson", []byte(line+`{"given_name":"Sam","postcode":"10115"}}`+"\n"))
		if st != 200 {
			t.Fatalf("good import: %d %s", st, body)
		}
		if diff := cmp.Diff(map[string]string{"given_name": "Sam", "postcode": "10115"}, e.account("acme", "S").Attributes); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
	})
}

func (e *env) account(tenant, id string) usermerge.Account {
	e.t.Helper()
	var a usermerge.Account
	err := e.db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		a, err = tx.Account(context.Background(), tenant, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// The merge screen's info box lists an account's profile attributes, known
// keys by label before free keys, escaped; an account without attributes
// has no Profile section.
func TestUIInfoBoxAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		setAttributes(t, e, "acme", "S", map[string]string{"locker": "<B-12>", "birth_date": "1990-04-23", "employee_number": "E-7"})
		c := e.uiClient()
		c.signIn("admin")
		p := c.get("/ui/t/acme/merge?keep=T&info=S")
		if p.status != 200 {
			t.Fatalf("status %d", p.status)
		}
		want := `<dt>Birth date</dt><dd data-attr="birth_date">1990-04-23</dd>
      <dt>Employee number</dt><dd data-attr="employee_number">E-7</dd>
      <dt>locker</dt><dd data-attr="locker">&lt;B-12&gt;</dd>`
		if !strings.Contains(p.body, `id="info-attributes">Profile</h3>`) || !strings.Contains(p.body, want) {
			t.Errorf("the info box lacks the attributes:\n%s", p.body)
		}
		if p := c.get("/ui/t/acme/merge?keep=T&info=T"); !strings.Contains(p.body, `id="info-box"`) || strings.Contains(p.body, `id="info-attributes"`) {
			t.Errorf("an account without attributes shows a Profile section (or no info box)")
		}
	})
}

// Attributes belong to the account: a merge does not copy the source's to
// the kept account, the merged-away account keeps its own, and a revert
// leaves both as they were.
func TestMergeLeavesAttributesWithTheAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		keep := map[string]string{"given_name": "Tess"}
		src := map[string]string{"birth_date": "1990-04-23", "employee_number": "E-9", "locker": "B-12"}
		setAttributes(t, e, "acme", "T", keep)
		setAttributes(t, e, "acme", "S", src)
		admin := e.signIn("admin")
		var res struct {
			Merges []struct {
				ID int64 `json:"id"`
			} `json:"merges"`
		}
		if st, body := admin.raw("POST", "/api/v1/tenants/acme/merges", "application/json", []byte(`{"target":"T","sources":["S"],"reason":"same person"}`)); st != 201 {
			t.Fatalf("merge: %d %s", st, body)
		} else if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		check := func(when string) {
			t.Helper()
			if diff := cmp.Diff(keep, e.account("acme", "T").Attributes); diff != "" {
				t.Errorf("%s: kept account's attributes (-want +got):\n%s", when, diff)
			}
			if diff := cmp.Diff(src, e.account("acme", "S").Attributes); diff != "" {
				t.Errorf("%s: merged account's attributes (-want +got):\n%s", when, diff)
			}
		}
		if len(res.Merges) != 1 {
			t.Fatalf("merge answer: %+v", res)
		}
		check("after the merge")
		revert := fmt.Sprintf(`{"merges":[%d]}`, res.Merges[0].ID)
		if st, body := admin.raw("POST", "/api/v1/tenants/acme/merges/revert", "application/json", []byte(revert)); st != 200 {
			t.Fatalf("revert: %d %s", st, body)
		}
		check("after the revert")
	})
}
