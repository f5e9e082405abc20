package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"usermerge"
)

// The feed and resolve over HTTP: bad input is refused before the engine
// is asked, a merge shows in the feed as a move (never a deletion), the
// cursor pages, and resolve follows the merge to the kept account.
func TestEventsAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.signIn("admin")
	const T = "/api/v1/tenants/acme"
	for _, c := range []struct{ label, method, path, body, want string }{
		{"after not a number", "GET", T + "/events?after=x", "", "400 bad_request"},
		{"after negative", "GET", T + "/events?after=-1", "", "400 bad_request"},
		{"limit zero", "GET", T + "/events?limit=0", "", "400 bad_request"},
		{"limit too big", "GET", T + "/events?limit=1001", "", "400 bad_request"},
		{"empty type", "GET", T + "/events?type=", "", "400 bad_request"},
		{"unknown type", "GET", T + "/events?type=merge.deleted", "", "422 unknown_event_type"},
		{"unknown parameter", "GET", T + "/events?afterr=1", "", "400 unknown_parameter"},
		{"resolve without ref", "GET", T + "/resolve", "", "400 bad_request"},
		{"resolve empty list", "POST", T + "/resolve", `{"refs":[]}`, "400 bad_request"},
		{"resolve empty ref", "POST", T + "/resolve", `{"refs":["S",""]}`, "422 empty_ref"},
		{"resolve unknown field", "POST", T + "/resolve", `{"ref":["S"]}`, "400 bad_request"},
	} {
		st, body := admin.raw(c.method, c.path, "application/json", []byte(c.body))
		apiExpect(t, c.label, st, body, c.want)
	}
	many := make([]string, usermerge.MaxResolveRefs+1)
	for i := range many {
		many[i] = fmt.Sprintf("ref%d", i)
	}
	st, body := apiSend(admin, "POST", T+"/resolve", ResolveBody{Refs: many})
	apiExpect(t, "too many refs", st, body, "400 bad_request")

	merges := apiMerge(t, admin, "T", "S")
	st, body = admin.raw("GET", T+"/events?type=merge.completed&limit=1", "", nil)
	if !apiExpect(t, "feed", st, body, "200") {
		return
	}
	page := apiDecode[usermerge.EventPage](t, body)
	if len(page.Events) != 1 || page.Events[0].Type != usermerge.EventMergeCompleted || page.Events[0].Version != usermerge.EventVersion {
		t.Fatalf("feed: %s", body)
	}
	var data usermerge.MergeCompletedData
	if err := json.Unmarshal(page.Events[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Kept.ID != "T" || !data.DataMoved || len(data.Merged) != 1 || data.Merged[0].Account.ID != "S" ||
		data.Merged[0].Merge != merges[0] || len(data.Merged[0].Account.ExternalIDs) != 1 || data.Merged[0].Account.ExternalIDs[0].Value != "SSO-S" {
		t.Errorf("merge.completed data: %s", page.Events[0].Data)
	}
	if strings.Contains(string(body), "deleted") {
		t.Errorf("a merge reads as a deletion: %s", body)
	}
	st, body = admin.raw("GET", fmt.Sprintf("%s/events?after=%d", T, page.Next), "", nil)
	if apiExpect(t, "next page", st, body, "200") {
		if p := apiDecode[usermerge.EventPage](t, body); len(p.Events) != 0 || p.More || p.Next != page.Next {
			t.Errorf("page after the last event: %s", body)
		}
	}

	st, body = admin.raw("GET", T+"/resolve?ref=s.login&ref=SSO-S&ref=sso:SSO-S&ref=nobody&ref=T", "", nil)
	if !apiExpect(t, "resolve", st, body, "200") {
		return
	}
	got := apiDecode[ResolveAnswer](t, body).Resolutions
	want := []string{"s.login merged T", "SSO-S not_found -", "sso:SSO-S merged T", "nobody not_found -", "T active T"}
	if len(got) != len(want) {
		t.Fatalf("resolve: %s", body)
	}
	for i, r := range got {
		holder := "-"
		if r.Account != nil {
			holder = r.Account.ID
		}
		if s := r.Ref + " " + r.State + " " + holder; s != want[i] {
			t.Errorf("resolution %d: %s, want %s", i, s, want[i])
		}
	}
}

// The webhook endpoints' refusals: ids, bodies, overlaps, filters, CSRF;
// and a secret that is answered once and never listed.
func TestWebhooksAPIInput(t *testing.T) {
	e := newEnv(t)
	admin := e.signIn("admin")
	const T = "/api/v1/tenants/acme"
	st, body := admin.raw("POST", T+"/webhooks", "application/json", []byte(`{"url":"https://93.184.216.34/hooks"}`))
	if !apiExpect(t, "create", st, body, "201") {
		return
	}
	created := apiDecode[WebhookSecret](t, body)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Webhook.ID != 1 {
		t.Fatalf("create answered %s", body)
	}
	for _, c := range []struct{ label, method, path, body, want string }{
		{"id not a number", "GET", T + "/webhooks/one", "", "400 bad_request"},
		{"id zero", "PATCH", T + "/webhooks/0", `{}`, "400 bad_request"},
		{"unknown field", "POST", T + "/webhooks", `{"url":"https://93.184.216.34/","secret":"mine"}`, "400 bad_request"},
		{"types not a list", "PATCH", T + "/webhooks/1", `{"types":"merge.completed"}`, "400 bad_request"},
		{"private", "POST", T + "/webhooks", `{"url":"http://10.0.0.8/hooks"}`, "422 private_address"},
		{"no url", "POST", T + "/webhooks", `{"description":"x"}`, "422 url_required"},
		{"unknown webhook", "GET", T + "/webhooks/77", "", "404 webhook_not_found"},
		{"overlap not a duration", "POST", T + "/webhooks/1/rotate-secret", `{"overlap":"a day"}`, "400 bad_request"},
		{"overlap too long", "POST", T + "/webhooks/1/rotate-secret", `{"overlap":"200h"}`, "422 bad_overlap"},
		{"deliveries webhook", "GET", T + "/deliveries?webhook=x", "", "400 bad_request"},
		{"deliveries status", "GET", T + "/deliveries?status=lost", "", "422 bad_status"},
		{"deliveries limit", "GET", T + "/deliveries?limit=5000", "", "400 bad_request"},
		{"deliveries unknown parameter", "GET", T + "/deliveries?state=failed", "", "400 unknown_parameter"},
		{"unknown delivery", "POST", T + "/deliveries/5/replay", "", "404 delivery_not_found"},
	} {
		st, body := admin.raw(c.method, c.path, "application/json", []byte(c.body))
		apiExpect(t, c.label, st, body, c.want)
	}
	noCSRF := *admin
	noCSRF.csrf = ""
	for _, c := range [][2]string{{"POST", "/webhooks"}, {"PATCH", "/webhooks/1"}, {"DELETE", "/webhooks/1"}, {"POST", "/webhooks/1/rotate-secret"},
		{"POST", "/webhooks/1/test"}, {"POST", "/deliveries/1/replay"}} {
		st, body := noCSRF.raw(c[0], T+c[1], "application/json", []byte(`{}`))
		apiExpect(t, "no CSRF: "+c[0]+" "+c[1], st, body, "403 csrf_failed")
	}
	st, body = admin.raw("GET", T+"/webhooks", "", nil)
	if apiExpect(t, "list", st, body, "200") && strings.Contains(string(body), created.Secret) {
		t.Errorf("the list shows the secret: %s", body)
	}
	st, body = admin.raw("POST", T+"/webhooks/1/rotate-secret", "application/json", nil)
	if apiExpect(t, "rotate without a body", st, body, "200") {
		r := apiDecode[WebhookSecret](t, body)
		if r.Secret == created.Secret || r.Webhook.PreviousSecretUntil == nil || !r.Webhook.PreviousSecretUntil.Equal(testNow.Add(24*time.Hour)) {
			t.Errorf("rotation answered %s", body)
		}
	}
}
