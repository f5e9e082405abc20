package main

import (
	"encoding/json"
	"strings"
	"testing"

	"usermerge"
)

// The feed, resolve and webhooks on the command line, on the database and
// through a server: the same output both ways.
func TestEventsResolveWebhooks(t *testing.T) {
	r := newRemote(t)
	keep, source, _ := pair(t)
	r.same("merge", "--yes", "--target", keep, source)

	out := r.same("events").stdout
	contains(t, "events", out, "1  ", "merge.completed", "kept "+keep+" (", "← merged "+source+" (", "operation 1, by admin")
	if got := r.same("events").stderr + out; !strings.Contains(got, "Next time: --after 1") {
		t.Errorf("events does not say the next cursor:\n%s", got)
	}
	if out := r.same("events", "--after", "1"); !strings.Contains(out.stdout, "No events after 1.") {
		t.Errorf("events --after 1: %+v", out)
	}
	if out := r.same("events", "--type", "merge.reverted,account.deleted"); !strings.Contains(out.stdout, "No events after 0.") {
		t.Errorf("events of other types: %+v", out)
	}
	res := r.same("--json", "events", "--type", "merge.completed")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var ev usermerge.Event
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.ID != 1 || ev.Type != usermerge.EventMergeCompleted {
		t.Errorf("events --json: %q", res.stdout)
	}
	if !strings.Contains(res.stderr, "Next time: --after 1") {
		t.Errorf("events --json says the cursor on stderr: %q", res.stderr)
	}
	if bad := r.same("events", "--type", "merge.deleted"); bad.code == 0 || !strings.Contains(bad.stderr, "merge.completed, merge.reverted") {
		t.Errorf("unknown type: %+v", bad)
	}
	if bad := r.same("events", "--after", "-3"); bad.code != exitUsage {
		t.Errorf("negative cursor: %+v", bad)
	}

	out = r.same("resolve", source, keep, "nobody").stdout
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 4 {
		t.Fatalf("resolve:\n%s", out)
	}
	contains(t, "resolve merged", rows[1], source, "merged", keep+" (", "merge 1")
	contains(t, "resolve kept", rows[2], keep, "active")
	contains(t, "resolve unknown", rows[3], "nobody", "not_found")
	fromFile := r.sameAs("admin", "# old ids\n\n"+source+"\n", "--json", "resolve", "--file", "-")
	var answer struct{ Resolutions []usermerge.Resolution }
	if err := json.Unmarshal([]byte(fromFile.stdout), &answer); err != nil || len(answer.Resolutions) != 1 ||
		answer.Resolutions[0].State != usermerge.ResolvedMerged || answer.Resolutions[0].Account.Login != keep || len(answer.Resolutions[0].Chain) != 1 {
		t.Errorf("resolve --file -: %v\n%s", err, fromFile.stdout)
	}
	if bad := r.same("resolve"); bad.code != exitUsage {
		t.Errorf("resolve without refs: %+v", bad)
	}

	// Webhooks: the secret is printed once, and differs between the two
	// databases; everything after is the same both ways.
	const hook = "https://203.0.113.10/hooks/usermerge"
	var local, remote struct {
		Webhook usermerge.Webhook
		Secret  string
	}
	r.local.json(&local, append(acme, "webhooks", "add", hook, "--type", "merge.completed", "--description", "LMS")...)
	rem := r.remoteRun("admin", "", "--json", "webhooks", "add", hook, "--type", "merge.completed", "--description", "LMS")
	if err := json.Unmarshal([]byte(rem.stdout), &remote); err != nil || rem.code != 0 {
		t.Fatalf("webhooks add through the server: %v %+v", err, rem)
	}
	for _, got := range []struct {
		Webhook usermerge.Webhook
		Secret  string
	}{local, remote} {
		if !strings.HasPrefix(got.Secret, "whsec_") || got.Webhook.ID != 1 || got.Webhook.URL != hook || len(got.Webhook.Types) != 1 {
			t.Errorf("webhooks add: %+v", got)
		}
	}
	if list := r.same("webhooks", "list").stdout; strings.Contains(list, local.Secret) || !strings.Contains(list, hook) || !strings.Contains(list, "enabled") {
		t.Errorf("webhooks list:\n%s", list)
	}
	if bad := r.same("webhooks", "add", "http://10.0.0.5/hooks"); bad.code == 0 || !strings.Contains(bad.stderr, "private address") {
		t.Errorf("private address: %+v", bad)
	}
	contains(t, "disable", r.same("webhooks", "update", "1", "--disable").stdout, "State", "disabled")
	if bad := r.same("webhooks", "test", "1"); bad.code == 0 || !strings.Contains(bad.stderr, "disabled") {
		t.Errorf("test to a disabled endpoint: %+v", bad)
	}
	r.same("webhooks", "update", "1", "--enable")
	contains(t, "test", r.same("webhooks", "test", "1").stdout, "Test delivery 1 queued", "msg_acme_test_1")
	contains(t, "deliveries", r.same("webhooks", "deliveries", "--status", "pending").stdout, "webhook.test", "pending", "1 delivery of 1")
	contains(t, "delivery", r.same("webhooks", "delivery", "1").stdout, "pending after 0 attempts", "No attempt yet.")
	contains(t, "rotate", r.local.acme("webhooks", "rotate", "1", "--overlap", "1h"), "new signing secret", "whsec_", "Until 2026-")
	contains(t, "rotate remotely", r.remoteRun("admin", "", "webhooks", "rotate", "1", "--overlap", "1h").stdout, "new signing secret", "whsec_")
	contains(t, "replay", r.same("webhooks", "replay", "1").stdout, "same webhook-id msg_acme_test_1")
	contains(t, "remove", r.same("webhooks", "remove", "1").stdout, "Webhook 1 removed")
	if out := r.same("webhooks", "deliveries", "--status", "failed").stdout; !strings.Contains(out, "removed by admin") {
		t.Errorf("a removed endpoint's pending delivery did not fail:\n%s", out)
	}
	for _, args := range [][]string{{"webhooks", "show", "x"}, {"webhooks", "frobnicate"}, {"webhooks", "rotate", "1", "--type", "merge.completed"},
		{"webhooks", "update", "1"}, {"webhooks", "add"}, {"webhooks", "deliveries", "--limit", "0"}} {
		if bad := r.same(args...); bad.code != exitUsage {
			t.Errorf("%v: exit %d, want usage error\n%s", args, bad.code, bad.stderr)
		}
	}
	if bad := r.sameAs("eng-viewer", "", "webhooks"); bad.code == 0 || !strings.Contains(bad.stderr, "tenant administrator") {
		t.Errorf("a group manager lists webhooks: %+v", bad)
	}
}
