package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// shapeOf lists a JSON answer's top-level keys, and for a key holding a
// list of objects, the keys of its first element ("accounts[].login"): the
// shape a script relies on.
func shapeOf(t *testing.T, label string, b []byte) []string {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatalf("%s: not a JSON object (%v):\n%.400s", label, err, b)
	}
	var keys []string
	for k, v := range top {
		keys = append(keys, k)
		var list []map[string]json.RawMessage
		if json.Unmarshal(v, &list) == nil && len(list) > 0 {
			for sub := range list[0] {
				keys = append(keys, k+"[]."+sub)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// api calls the server of r as admin and returns the answer's body.
func (r *remote) api(method, path, body string) []byte {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+"/api/v1/tenants/acme"+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.tokens["admin"])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		r.t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	return b
}

// TestJSONShapesMatchTheAPI: every command's --json has the shape of the
// API's answer to the same operation, done in the same order on two copies
// of the demo database (one local, one behind the server).
func TestJSONShapesMatchTheAPI(t *testing.T) {
	r := newRemote(t)
	keep, source, query := pair(t)
	pairs := []struct {
		cli                []string
		method, path, body string
	}{
		{[]string{"accounts", query}, "GET", "/accounts?q=" + query, ""},
		{[]string{"account", source}, "GET", "/accounts/" + source, ""},
		{[]string{"preview", "--target", keep, source}, "POST", "/merges/preview", `{"target":"` + keep + `","sources":["` + source + `"]}`},
		{[]string{"merge", "--yes", "--target", keep, source}, "POST", "/merges", `{"target":"` + keep + `","sources":["` + source + `"]}`},
		{[]string{"merges"}, "GET", "/merges", ""},
		{[]string{"show", "1"}, "GET", "/merges/1", ""},
		{[]string{"revert", "--yes", "1"}, "POST", "/merges/revert", `{"merges":[1]}`},
		{[]string{"deactivate", source}, "POST", "/accounts/" + source + "/deactivate", ""},
		{[]string{"activate", source}, "POST", "/accounts/" + source + "/activate", ""},
		{[]string{"settings"}, "GET", "/settings", ""},
		{[]string{"settings", "credits=transfer"}, "PUT", "/settings", `{"set":{"credits":"transfer"}}`},
		{[]string{"token", "list"}, "GET", "/tokens", ""},
		{[]string{"delete", "--yes", source}, "DELETE", "/accounts/" + source + "?confirm=true", ""},
	}
	for _, p := range pairs {
		label := strings.Join(p.cli, " ")
		local := runMain(nil, r.local.db, "", append([]string{"--tenant", "acme", "--as", "admin", "--json"}, p.cli...)...)
		if local.code != 0 {
			t.Fatalf("%s --json: exit %d\n%s", label, local.code, local.stderr)
		}
		cli, api := shapeOf(t, label+" --json", []byte(local.stdout)), shapeOf(t, p.method+" "+p.path, r.api(p.method, p.path, p.body))
		if diff := cmp.Diff(api, cli); diff != "" {
			t.Errorf("%s --json has not the shape of %s %s (-api +cli):\n%s", label, p.method, p.path, diff)
		}
		if !slices.ContainsFunc(cli, func(k string) bool { return !strings.Contains(k, "[]") }) {
			t.Errorf("%s --json has no keys", label)
		}
	}
	// An API token cannot create tokens (only a signed-in session can), so
	// the CLI's answer is held to the keys the server's createToken writes.
	local := runMain(nil, r.local.db, "", "--tenant", "acme", "--as", "admin", "--json", "token", "create", "shapes")
	if got := shapeOf(t, "token create --json", []byte(local.stdout)); !slices.Equal(got[:1], []string{"info"}) || !slices.Contains(got, "note") || !slices.Contains(got, "token") {
		t.Errorf("token create --json has keys %v, want info, note and token as POST /tokens", got)
	}
}
