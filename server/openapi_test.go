package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store/storetest"
)

// The OpenAPI document is kept by hand in openapi.json and embedded. These
// tests hold it to the code: every route documented and nothing more, the
// served bytes equal to the file, and real answers shaped as documented.

// -update rewrites golden files: openapi.json in canonical indentation and
// the fuzz seed corpus under testdata/fuzz. It is registered only if no
// other test file of the package registered it first (as a package-level
// variable), so that golden tests can share the one flag.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files (openapi.json indentation, fuzz seed corpus)")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const openAPIFile = "openapi.json"

// openAPIOutside are the routes New registers beside apiRoutes; the document
// describes them under their real paths.
var openAPIOutside = []string{"GET /healthz", "GET /metrics"}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIParsed is the embedded document, parsed once (numbers kept as json.Number).
var openAPIParsed = sync.OnceValues(func() (map[string]any, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(OpenAPI))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", openAPIFile, err)
	}
	return doc, nil
})

func openAPIDoc(t testing.TB) map[string]any {
	t.Helper()
	doc, err := openAPIParsed()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// operation returns the documented operation of a route ("GET /api/v1/...").
func openAPIOperation(doc map[string]any, route string) (map[string]any, bool) {
	method, path, _ := strings.Cut(route, " ")
	item, _ := openAPIDig(doc, "paths", path).(map[string]any)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	return op, ok
}

func openAPIDig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolve follows a local $ref ("#/components/schemas/Merge").
func openAPIResolve(doc map[string]any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var v any = doc
	for _, k := range strings.Split(p, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(k)]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	if v := openAPIDig(doc, "openapi"); v != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", v)
	}
	srv := New(Config{Engine: engine.New(storetest.Open(t), nil)})

	registered := map[string]bool{}
	for _, r := range append(srv.Routes(), openAPIOutside...) {
		registered[r] = true
	}
	documented := map[string]bool{}
	paths, _ := openAPIDig(doc, "paths").(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if slices.Contains(openAPIMethods, method) {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	var missing, extra []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			extra = append(extra, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes the server registers but %s does not document:\n\t%s", openAPIFile, strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations %s documents but the server does not register:\n\t%s", openAPIFile, strings.Join(extra, "\n\t"))
	}

	// The routes outside /api/v1 are not in Routes(); check they are served.
	for _, r := range openAPIOutside {
		method, path, _ := strings.Cut(r, " ")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s answers %d, want 200", r, rec.Code)
		}
	}

	ids := map[string]string{}
	params := regexp.MustCompile(`\{([^}]+)\}`)
	for r := range documented {
		op, _ := openAPIOperation(doc, r)
		for _, k := range []string{"summary", "description", "operationId"} {
			if s, _ := op[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s", r, k)
			}
		}
		if id, _ := op["operationId"].(string); ids[id] != "" {
			t.Errorf("%s: operationId %q is also used by %s", r, id, ids[id])
		} else {
			ids[id] = r
		}
		if _, ok := op["security"]; !ok {
			t.Errorf("%s: no security requirement (use [] for a public route)", r)
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", r)
		}
		success := false
		for status, resp := range responses {
			n, err := strconv.Atoi(status)
			if err != nil {
				t.Errorf("%s: response %q is not a status code", r, status)
				continue
			}
			success = success || n/100 == 2
			if n >= 400 && strings.HasPrefix(r[strings.Index(r, " ")+1:], "/api/v1/") {
				if ref := openAPIDig(resp, "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/ErrorBody" {
					t.Errorf("%s: the %d answer's schema is %v, want the ErrorBody $ref", r, n, ref)
				}
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", r)
		}
		// Every {name} in the path is a declared path parameter, and back.
		declared := map[string]bool{}
		plist, _ := op["parameters"].([]any)
		for _, p := range plist {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				v, _ := openAPIResolve(doc, ref)
				pm, _ = v.(map[string]any)
			}
			if pm["in"] == "path" {
				declared[fmt.Sprint(pm["name"])] = true
			}
		}
		for _, m := range params.FindAllStringSubmatch(r, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", r, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %q that the path lacks", r, name)
		}
	}

	// Every $ref resolves, and every component schema is used.
	used := map[string]bool{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := openAPIResolve(doc, ref); !ok {
					t.Errorf("%s: $ref %q does not resolve", where, ref)
				}
				used[ref] = true
			}
			for k, x := range v {
				walk(where+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(where+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)
	schemas, _ := openAPIDig(doc, "components", "schemas").(map[string]any)
	for name := range schemas {
		if !used["#/components/schemas/"+name] {
			t.Errorf("components/schemas/%s is never referenced", name)
		}
	}
}

// TestOpenAPIGolden checks that the server serves openapi.json byte for
// byte, and that the file is canonical: valid JSON without duplicate keys,
// indented with two spaces. With -update it rewrites the file canonically
// (key order is kept: the file is the source).
func TestOpenAPIGolden(t *testing.T) {
	file, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	resp, err := http.Get(e.base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(served, file) {
		t.Errorf("the served document (%d bytes) differs from %s (%d bytes); rebuild", len(served), openAPIFile, len(file))
	}

	if err := openAPINoDuplicateKeys(file); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	var compact, canon bytes.Buffer
	if err := json.Compact(&compact, file); err != nil {
		t.Fatalf("%s is not valid JSON: %v", openAPIFile, err)
	}
	json.Indent(&canon, compact.Bytes(), "", "  ")
	canon.WriteByte('\n')
	if bytes.Equal(file, canon.Bytes()) {
		return
	}
	if updateGolden() {
		if err := os.WriteFile(openAPIFile, canon.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", openAPIFile)
		return
	}
	fl, cl := strings.Split(string(file), "\n"), strings.Split(canon.String(), "\n")
	for i := range min(len(fl), len(cl)) {
		if fl[i] != cl[i] {
			t.Fatalf("%s is not canonically indented (line %d: %q, want %q); run go test ./server -run TestOpenAPIGolden -update", openAPIFile, i+1, fl[i], cl[i])
		}
	}
	t.Fatalf("%s is not canonically indented (%d lines, want %d); run go test ./server -run TestOpenAPIGolden -update", openAPIFile, len(fl), len(cl))
}

// noDuplicateKeys reports the first object key that appears twice in the
// same object (encoding/json would silently keep the last).
func openAPINoDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var check func(path string) error
	check = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if seen[key] {
					return fmt.Errorf("key %q appears twice in %s", key, path)
				}
				seen[key] = true
				if err := check(path + "/" + key); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := check(path + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	return check("#")
}

// TestOpenAPIAnswersMatchSchemas drives the main flows and checks each real
// answer against the schema documented for its route and status: every key
// declared (at every depth), every required key present, types, enums and
// times as documented. It catches drift between the Go types and the file.
func TestOpenAPIAnswersMatchSchemas(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		const T = "/api/v1/tenants/{tenant}"
		steps := []struct {
			c      *client
			route  string // documented route
			path   string // real path and query
			body   string
			status int
		}{
			{admin, "GET /api/v1/session", "/api/v1/session", "", 200},
			{admin, "GET " + T + "/accounts", "/api/v1/tenants/acme/accounts?q=learner&limit=3", "", 200},
			{admin, "GET " + T + "/accounts/{id}", "/api/v1/tenants/acme/accounts/S", "", 200},
			{admin, "GET " + T + "/accounts/{id}/deletion", "/api/v1/tenants/acme/accounts/T/deletion", "", 200},
			{admin, "POST " + T + "/merges/preview", "/api/v1/tenants/acme/merges/preview", `{"target":"T","sources":["S","S2"]}`, 200},
			{admin, "POST " + T + "/merges", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S"],"reason":"same person"}`, 201},
			{admin, "GET " + T + "/accounts/{id}/deletion", "/api/v1/tenants/acme/accounts/T/deletion", "", 200},
			{admin, "GET " + T + "/merges", "/api/v1/tenants/acme/merges?from=2026-01-01&state=active", "", 200},
			{admin, "GET " + T + "/merges/{id}", "/api/v1/tenants/acme/merges/1?limit=1", "", 200},
			{admin, "POST " + T + "/merges/revert", "/api/v1/tenants/acme/merges/revert", `{"merges":[1]}`, 200},
			{admin, "GET " + T + "/events", "/api/v1/tenants/acme/events?after=0&type=merge.completed&type=merge.reverted", "", 200},
			{admin, "GET " + T + "/resolve", "/api/v1/tenants/acme/resolve?ref=S&ref=nobody&ref=T", "", 200},
			{admin, "POST " + T + "/resolve", "/api/v1/tenants/acme/resolve", `{"refs":["S","T","S2"]}`, 200},
			{admin, "POST " + T + "/webhooks", "/api/v1/tenants/acme/webhooks", `{"url":"https://93.184.216.34/hooks","description":"LMS","types":["merge.completed"]}`, 201},
			{admin, "POST " + T + "/webhooks", "/api/v1/tenants/acme/webhooks", `{"url":"http://127.0.0.1/hooks"}`, 422},
			{admin, "GET " + T + "/webhooks", "/api/v1/tenants/acme/webhooks", "", 200},
			{admin, "PATCH " + T + "/webhooks/{id}", "/api/v1/tenants/acme/webhooks/1", `{"enabled":false}`, 200},
			{admin, "POST " + T + "/webhooks/{id}/test", "/api/v1/tenants/acme/webhooks/1/test", "", 409},
			{admin, "PATCH " + T + "/webhooks/{id}", "/api/v1/tenants/acme/webhooks/1", `{"enabled":true}`, 200},
			{admin, "POST " + T + "/webhooks/{id}/rotate-secret", "/api/v1/tenants/acme/webhooks/1/rotate-secret", `{}`, 200},
			{admin, "GET " + T + "/webhooks/{id}", "/api/v1/tenants/acme/webhooks/1", "", 200},
			{admin, "POST " + T + "/webhooks/{id}/test", "/api/v1/tenants/acme/webhooks/1/test", "", 202},
			{admin, "GET " + T + "/deliveries", "/api/v1/tenants/acme/deliveries?status=pending", "", 200},
			{admin, "GET " + T + "/deliveries/{id}", "/api/v1/tenants/acme/deliveries/1", "", 200},
			{admin, "POST " + T + "/deliveries/{id}/replay", "/api/v1/tenants/acme/deliveries/1/replay", "", 202},
			{admin, "GET " + T + "/deliveries/{id}", "/api/v1/tenants/acme/deliveries/9", "", 404},
			{admin, "DELETE " + T + "/webhooks/{id}", "/api/v1/tenants/acme/webhooks/1", "", 204},
			{admin, "GET " + T + "/merges/{id}", "/api/v1/tenants/acme/merges/1", "", 200},
			{admin, "POST " + T + "/accounts/{id}/deactivate", "/api/v1/tenants/acme/accounts/S2/deactivate", "", 200},
			{admin, "POST " + T + "/accounts/{id}/activate", "/api/v1/tenants/acme/accounts/S2/activate", "", 200},
			{admin, "GET " + T + "/settings", "/api/v1/tenants/acme/settings", "", 200},
			{admin, "PUT " + T + "/settings", "/api/v1/tenants/acme/settings", `{"preset":"schoox","set":{"badges":"transfer"}}`, 200},
			{admin, "POST " + T + "/tokens", "/api/v1/tenants/acme/tokens", `{"name":"nightly"}`, 201},
			{admin, "GET " + T + "/tokens", "/api/v1/tenants/acme/tokens", "", 200},
			{admin, "POST " + T + "/import", "/api/v1/tenants/acme/import", `{"kind":"account","tenant":"acme","id":"N1","login":"n1","email":"n1@example.test","name":"New","status":"active","created_at":"2026-01-01T00:00:00Z"}`, 200},
			{admin, "DELETE " + T + "/accounts/{id}", "/api/v1/tenants/acme/accounts/N1?confirm=true", "", 200},
			{admin, "GET " + T + "/merges", "/api/v1/tenants/acme/merges?state=bogus", "", 400},
			{admin, "GET " + T + "/merges", "/api/v1/tenants/acme/merges?from=2026-06-02&to=2026-06-01", "", 422},
			{admin, "POST " + T + "/merges", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S"],}`, 400},
			{admin, "GET " + T + "/merges/{id}", "/api/v1/tenants/acme/merges/999", "", 404},
			{e.anon(), "GET " + T + "/accounts", "/api/v1/tenants/acme/accounts", "", 401},
			{e.signIn("viewer"), "POST " + T + "/merges", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S2"]}`, 403},
			{admin, "POST " + T + "/merges", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S"]}`, 201},
			{admin, "POST " + T + "/merges", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S"]}`, 409},
			{admin, "POST " + T + "/batches/check", "/api/v1/tenants/acme/batches/check", "target,sources\nt.login,s2.login\n", 200},
			{admin, "POST " + T + "/batches/check", "/api/v1/tenants/acme/batches/check", "target,sources\nt.login,nobody\n", 422},
			{admin, "POST " + T + "/batches/dry-run", "/api/v1/tenants/acme/batches/dry-run", "target,sources\nt.login,s2.login\nt.login,nobody\n", 200},
			{admin, "POST " + T + "/batches", "/api/v1/tenants/acme/batches?name=x.csv", "target,sources\nt.login,s2.login\n", 201},
			{admin, "GET " + T + "/batches", "/api/v1/tenants/acme/batches", "", 200},
			{admin, "GET " + T + "/batches/{id}", "/api/v1/tenants/acme/batches/1", "", 200},
			{admin, "POST " + T + "/batches/{id}/start", "/api/v1/tenants/acme/batches/1/start", "", 200},
			{admin, "GET " + T + "/batches/{id}/rows", "/api/v1/tenants/acme/batches/1/rows", "", 200},
			{admin, "POST " + T + "/batches/{id}/pause", "/api/v1/tenants/acme/batches/1/pause", "", 200},
			{admin, "POST " + T + "/batches/{id}/resume", "/api/v1/tenants/acme/batches/1/resume", "", 200},
			{admin, "POST " + T + "/batches/{id}/cancel", "/api/v1/tenants/acme/batches/1/cancel", "", 200},
			{admin, "POST " + T + "/batches/{id}/revert", "/api/v1/tenants/acme/batches/1/revert", `{"partial":true}`, 403},
			{admin, "GET " + T + "/batches/{id}", "/api/v1/tenants/acme/batches/2", "", 404},
			{admin, "POST " + T + "/batches/from-suggestions", "/api/v1/tenants/acme/batches/from-suggestions", `{"grade":"certain"}`, 404},
			{admin, "POST " + T + "/operations/{op}/revert", "/api/v1/tenants/acme/operations/1/revert", "", 403},
			{admin, "GET " + T + "/merges", "/api/v1/tenants/acme/merges?batch=1", "", 200},
		}
		doc := openAPIDoc(t)
		for _, s := range steps {
			method := s.route[:strings.Index(s.route, " ")]
			var body []byte
			if s.body != "" {
				body = []byte(s.body)
			}
			ct := "application/json"
			if strings.HasSuffix(s.path, "/import") {
				ct = "application/x-ndjson"
			}
			if strings.HasPrefix(s.body, "target,") {
				ct = "text/csv"
			}
			st, got := s.c.raw(method, s.path, ct, body)
			if st != s.status {
				t.Errorf("%s %s: status %d, want %d: %s", method, s.path, st, s.status, got)
				continue
			}
			for _, p := range openAPICheckAnswer(doc, s.route, st, got) {
				t.Errorf("%s %s (%d): %s", method, s.path, st, p)
			}
		}
	})
}

// checkAnswer checks a JSON answer against the schema documented for the
// route and status, and returns what does not match.
func openAPICheckAnswer(doc map[string]any, route string, status int, body []byte) []string {
	op, ok := openAPIOperation(doc, route)
	if !ok {
		return []string{"the route is not documented"}
	}
	resp, ok := openAPIDig(op, "responses", strconv.Itoa(status)).(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("status %d is not documented for %s", status, route)}
	}
	schema, ok := openAPIDig(resp, "content", "application/json", "schema").(map[string]any)
	if !ok {
		if len(bytes.TrimSpace(body)) > 0 && resp["content"] == nil {
			return []string{fmt.Sprintf("status %d is documented without a body, but the answer has one", status)}
		}
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{fmt.Sprintf("the answer is not JSON: %v: %.200q", err, body)}
	}
	sv := openAPISchemaCheck{doc: doc}
	sv.check("$", schema, v)
	return sv.problems
}

type openAPISchemaCheck struct {
	doc      map[string]any
	problems []string
}

func (c *openAPISchemaCheck) fail(where, format string, args ...any) {
	if len(c.problems) < 20 {
		c.problems = append(c.problems, where+": "+fmt.Sprintf(format, args...))
	}
}

// flatten resolves $ref and merges allOf into one schema.
func (c *openAPISchemaCheck) flatten(s map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		r, _ := openAPIResolve(c.doc, ref)
		rm, ok := r.(map[string]any)
		if !ok {
			c.fail(ref, "does not resolve to a schema")
			return map[string]any{}
		}
		return c.flatten(rm)
	}
	all, ok := s["allOf"].([]any)
	if !ok {
		return s
	}
	out := map[string]any{}
	props := map[string]any{}
	var required []any
	for k, v := range s {
		if k != "allOf" {
			out[k] = v
		}
	}
	for _, sub := range all {
		f := c.flatten(sub.(map[string]any))
		for k, v := range f {
			switch k {
			case "properties":
				for pk, pv := range v.(map[string]any) {
					props[pk] = pv
				}
			case "required":
				required = append(required, v.([]any)...)
			default:
				out[k] = v
			}
		}
	}
	if p, ok := out["properties"].(map[string]any); ok {
		for k, v := range p {
			props[k] = v
		}
	}
	out["properties"], out["required"] = props, required
	if out["type"] == nil {
		out["type"] = "object"
	}
	return out
}

func (c *openAPISchemaCheck) check(where string, s map[string]any, v any) {
	s = c.flatten(s)
	if v == nil {
		if s["nullable"] != true {
			c.fail(where, "null, but the schema is not nullable")
		}
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		c.fail(where, "%v is not one of %v", v, enum)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(where, "want an object, got %T", v)
			return
		}
		props, _ := s["properties"].(map[string]any)
		addl, _ := s["additionalProperties"].(map[string]any)
		for k, x := range m {
			if ps, ok := props[k].(map[string]any); ok {
				c.check(where+"."+k, ps, x)
			} else if addl != nil {
				c.check(where+"["+k+"]", addl, x)
			} else {
				c.fail(where, "key %q is not declared in the schema", k)
			}
		}
		req, _ := s["required"].([]any)
		for _, k := range req {
			if _, ok := m[k.(string)]; !ok {
				c.fail(where, "required key %q is missing", k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail(where, "want an array, got %T", v)
			return
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range a {
			c.check(where+"["+strconv.Itoa(i)+"]", items, x)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			c.fail(where, "want a string, got %T", v)
			return
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				c.fail(where, "%q is not an RFC 3339 time", str)
			}
		}
	case "integer":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			c.fail(where, "want an integer, got %v", v)
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			c.fail(where, "want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(where, "want true or false, got %T", v)
		}
	case nil:
	default:
		c.fail(where, "the schema has an unknown type %v", s["type"])
	}
}

// The document's Kind enum is the kinds' descriptors (usermerge.Specs), in
// their order: a new kind cannot be left out of the API's contract.
func TestOpenAPIKindsAreTheDescriptors(t *testing.T) {
	doc, err := openAPIParsed()
	if err != nil {
		t.Fatal(err)
	}
	kind := doc["components"].(map[string]any)["schemas"].(map[string]any)["Kind"].(map[string]any)
	var got []string
	for _, v := range kind["enum"].([]any) {
		got = append(got, v.(string))
	}
	var want []string
	for _, k := range usermerge.Kinds {
		want = append(want, string(k))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("openapi.json Kind enum differs from the kinds' descriptors (-descriptors +document):\n%s", diff)
	}
}
