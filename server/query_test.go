package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge/store/storetest"
)

// TestAPIUnknownQueryParameters: every API route refuses a query
// parameter it does not take with 400 unknown_parameter, naming it and
// what the route takes, and changes nothing; the parameters it takes pass.
func TestAPIUnknownQueryParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		fx := authzSetup(t, e)
		fill := strings.NewReplacer("{m1}", fmt.Sprint(fx.m1), "{tok}", fx.tok)
		admin := e.signIn("admin")
		before := apiState(e)
		seen := map[string]bool{}
		for _, r := range authzRoutes() {
			route := r.method + " " + r.route
			if seen[route] {
				continue
			}
			seen[route] = true
			path := apiAcme + fill.Replace(r.path)
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			st, body := admin.raw(r.method, path+sep+"bogus=1&limitt=5", r.ctype, []byte(fill.Replace(r.body)))
			if !apiExpect(t, route+" with bogus and limitt", st, body, "400 unknown_parameter") {
				continue
			}
			msg := errorOf(t, body).Error.Message
			want := `unknown query parameters "bogus" and "limitt"; this endpoint takes no query parameters`
			if takes := queryParams[route]; len(takes) > 0 {
				want = `unknown query parameters "bogus" and "limitt"; this endpoint takes ` + strings.Join(takes, ", ")
			}
			if msg != want {
				t.Errorf("%s: message %q, want %q", route, msg, want)
			}
		}
		apiUnchanged(t, e, "requests with unknown parameters", before)

		for _, path := range []string{"/api/v1/session?x=1", "/api/v1/openapi.json?x=1"} {
			st, body := admin.raw("GET", path, "", nil)
			if apiExpect(t, path, st, body, "400 unknown_parameter") && !strings.Contains(errorOf(t, body).Error.Message, `unknown query parameter "x"`) {
				t.Errorf("%s: %s", path, body)
			}
		}
		// The other side: parameters a route takes are not refused.
		for _, path := range []string{"/accounts?q=s&status=active&limit=5&offset=0", "/merges?source=s&target=t&state=all&from=2020-01-01&to=2030-01-01&page=1&per_page=5",
			fmt.Sprintf("/merges/%d?limit=5", fx.m1), "/export?account=S&format=ndjson"} {
			st, body := admin.raw("GET", apiAcme+path, "", nil)
			apiExpect(t, path, st, body, "200")
		}
	})
}

// TestQueryParametersAreDocumented: the parameters checkQuery accepts are
// the ones openapi.json documents, route by route.
func TestQueryParametersAreDocumented(t *testing.T) {
	doc := openAPIDoc(t)
	e := newEnv(t)
	for _, route := range New(Config{Engine: e.eng}).Routes() {
		op, ok := openAPIOperation(doc, route)
		if !ok {
			continue // TestOpenAPI... reports undocumented routes
		}
		var documented []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				v, _ := openAPIResolve(doc, ref)
				pm, _ = v.(map[string]any)
			}
			if pm["in"] == "query" {
				documented = append(documented, pm["name"].(string))
			}
		}
		takes := slices.Clone(queryParams[route])
		slices.Sort(documented)
		slices.Sort(takes)
		if diff := cmp.Diff(documented, takes); diff != "" {
			t.Errorf("%s: query parameters (-openapi.json +queryParams):\n%s", route, diff)
		}
	}
}
