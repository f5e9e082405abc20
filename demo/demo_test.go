package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"usermerge/demo"
	"usermerge/store"
)

var testNow = time.Date(2025, 11, 21, 9, 30, 15, 123456789, time.UTC)

func write(t *testing.T, o demo.Options) ([]byte, demo.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := demo.Write(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

func TestWriteIsDeterministic(t *testing.T) {
	a, _ := write(t, demo.Options{Seed: 7, Now: testNow})
	b, _ := write(t, demo.Options{Seed: 7, Now: testNow})
	if !bytes.Equal(a, b) {
		t.Error("two writes with the same options differ")
	}
	c, _ := write(t, demo.Options{Seed: 8, Now: testNow})
	if bytes.Equal(a, c) {
		t.Error("a different seed gives the same output")
	}
	if _, err := demo.Write(&bytes.Buffer{}, demo.Options{Seed: 7}); err == nil {
		t.Error("Write without Now: no error")
	}
}

// timeFields are the fields of the import format that hold times.
var timeFields = []string{"created_at", "at", "started_at", "finished_at", "acquired_at", "awarded_at", "issued_at",
	"enrolled_at", "completed_at", "last_access", "last_studied_at", "graded_at", "answered_at", "registered_at"}

// TestWriteTimes checks every line is one object with "kind" first and every
// time is in export form, before Now and not before its account exists.
func TestWriteTimes(t *testing.T) {
	out, _ := write(t, demo.Options{Seed: 1, Now: testNow})
	checkTimes(t, out, testNow)
}

func checkTimes(t *testing.T, out []byte, now time.Time) {
	created := map[string]time.Time{} // tenant/account → created_at
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if !strings.HasPrefix(text, `{"kind":"`) {
			t.Fatalf("line %d does not start with kind: %s", n, text)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		times := map[string]time.Time{}
		for _, f := range timeFields {
			v, ok := m[f]
			if !ok {
				continue
			}
			s, _ := v.(string)
			tm, err := time.Parse("2006-01-02T15:04:05.000Z", s)
			if err != nil || tm.Format("2006-01-02T15:04:05.000Z") != s {
				t.Fatalf("line %d: %s = %v is not a UTC millisecond time", n, f, v)
			}
			if !tm.Before(now) {
				t.Errorf("line %d: %s = %s is not before Now", n, f, s)
			}
			times[f] = tm
		}
		key := fmt.Sprint(m["tenant"], "/", m["account"])
		switch m["kind"] {
		case "account":
			created[fmt.Sprint(m["tenant"], "/", m["id"])] = times["created_at"]
		case "tenant", "group", "job", "title", "membership", "account_job", "admin":
		default:
			c, ok := created[key]
			if !ok {
				t.Fatalf("line %d: record of unknown account %s", n, key)
			}
			for f, tm := range times {
				if tm.Before(c) {
					t.Errorf("line %d: %s %s is before the account was created (%s)", n, f, tm, c)
				}
			}
			if e, c := times["enrolled_at"], times["completed_at"]; !c.IsZero() && c.Before(e) {
				t.Errorf("line %d: completed before enrolled", n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, o demo.Options) (*store.DB, demo.Summary) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sum, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	return db, sum
}

func accountID(t *testing.T, q *sql.DB, tenant, login string) string {
	t.Helper()
	var id string
	if err := q.QueryRow(`SELECT id FROM accounts WHERE tenant_id = ? AND login = ?`, tenant, login).Scan(&id); err != nil {
		t.Fatalf("%s: account %q: %v", tenant, login, err)
	}
	return id
}

func count(t *testing.T, q *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := q.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// shared are, per kind, the table and the item column on which a kept and a
// merged account must both hold a record for the kind's rule to fire.
var shared = []struct{ kind, table, key, where string }{
	{"badge", "badges", "badge_id", ""},
	{"course_progress", "course_progress", "course_id", ""},
	{"lecture_progress", "lecture_progress", "lecture_id", ""},
	{"path_progress", "path_progress", "path_id", ""},
	{"quiz_session", "quiz_sessions", "quiz_id", "AND k.graded_at IS NULL AND s.graded_at IS NULL"},
	{"master_state", "master_states", "quiz_id", ""},
	{"poll_response", "poll_responses", "poll_id", "AND k.answer <> s.answer"},
	{"event_registration", "event_registrations", "event_id", "AND k.attended <> s.attended"},
	{"attempt", "attempts", "content_id", ""},
}

func TestLoad(t *testing.T) {
	for _, o := range []demo.Options{
		{Seed: 1, Now: testNow},
		{Seed: 42, Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))},
	} {
		t.Run(fmt.Sprint(o.Seed), func(t *testing.T) {
			db, sum := load(t, o)
			checkDemo(t, db, sum, o.Now)
		})
	}
}

// checkDemo checks a loaded demo gives every merge rule something to do.
func checkDemo(t *testing.T, db *store.DB, sum demo.Summary, now time.Time) {
	q := db.SQL()
	nowMs := now.UnixMilli()

	if len(sum.Tenants) != 2 || sum.Tenants[0].ID != "acme" || sum.Tenants[1].ID != "globex" {
		t.Fatalf("tenants = %+v", sum.Tenants)
	}
	for _, ten := range sum.Tenants {
		t.Run(ten.ID, func(t *testing.T) {
			err := db.View(context.Background(), func(tx *store.Tx) error {
				got, err := tx.Tenant(context.Background(), ten.ID)
				if err == nil && got.Preset() != ten.Preset {
					t.Errorf("policy %+v is not preset %s", got.Policy, ten.Preset)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, q, `SELECT COUNT(*) FROM accounts WHERE tenant_id = ?`, ten.ID); n != ten.Accounts || n < 250 || n > 350 {
				t.Errorf("%d accounts, summary says %d, want about 300", n, ten.Accounts)
			}
			for _, k := range store.RecordKinds() {
				if n := count(t, q, `SELECT COUNT(*) FROM `+store.RecordTable(k)+` WHERE tenant_id = ?`, ten.ID); n == 0 {
					t.Errorf("no %s records", k)
				}
			}
			if len(ten.Duplicates) != 13 {
				t.Errorf("%d duplicate groups, want 13", len(ten.Duplicates))
			}
			recent, activeSource, inactiveSource := false, false, false
			for _, logins := range ten.Duplicates {
				keep := accountID(t, q, ten.ID, logins[0])
				for _, login := range logins[1:] {
					src := accountID(t, q, ten.ID, login)
					for _, s := range shared {
						n := count(t, q, `SELECT COUNT(*) FROM `+s.table+` k JOIN `+s.table+` s
							ON s.tenant_id = k.tenant_id AND s.`+s.key+` = k.`+s.key+`
							WHERE k.tenant_id = ? AND k.account_id = ? AND s.account_id = ? `+s.where, ten.ID, keep, src)
						if n == 0 {
							t.Errorf("%s and %s share no %s", logins[0], login, s.kind)
						}
					}
					for _, c := range []struct{ what, where string }{
						{"completed by one only", `k.status = 'completed' AND s.status <> 'completed' OR k.status <> 'completed' AND s.status = 'completed'`},
						{"completed by both at different times", `k.status = 'completed' AND s.status = 'completed' AND k.completed_at <> s.completed_at`},
						{"completed by neither, different percents", `k.status <> 'completed' AND s.status <> 'completed' AND k.percent <> s.percent`},
					} {
						n := count(t, q, `SELECT COUNT(*) FROM course_progress k JOIN course_progress s
							ON s.tenant_id = k.tenant_id AND s.course_id = k.course_id
							WHERE k.tenant_id = ? AND k.account_id = ? AND s.account_id = ? AND (`+c.where+`)`, ten.ID, keep, src)
						if n == 0 {
							t.Errorf("%s and %s share no course %s", logins[0], login, c.what)
						}
					}
					// Numbering the shared attempts in time order across both
					// accounts must change some numbers.
					n := count(t, q, `SELECT COUNT(*) FROM (
						SELECT attempt_no, ROW_NUMBER() OVER (PARTITION BY content_id ORDER BY started_at) AS renumbered
						FROM attempts WHERE tenant_id = ? AND account_id IN (?, ?)
						AND content_id IN (SELECT content_id FROM attempts WHERE tenant_id = ? AND account_id = ?
							INTERSECT SELECT content_id FROM attempts WHERE tenant_id = ? AND account_id = ?)
						) WHERE attempt_no <> renumbered`, ten.ID, keep, src, ten.ID, keep, ten.ID, src)
					if n == 0 {
						t.Errorf("%s and %s: renumbering attempts would change nothing", logins[0], login)
					}
					for _, table := range []string{"credits", "certificates", "external_ids", "financial_records", "signins"} {
						for _, id := range []string{keep, src} {
							if count(t, q, `SELECT COUNT(*) FROM `+table+` WHERE tenant_id = ? AND account_id = ?`, ten.ID, id) == 0 {
								t.Errorf("%s: no %s", id, table)
							}
						}
					}
					if count(t, q, `SELECT COUNT(*) FROM badges WHERE tenant_id = ? AND account_id = ?
						AND badge_id NOT IN (SELECT badge_id FROM badges WHERE tenant_id = ? AND account_id = ?)`, ten.ID, src, ten.ID, keep) == 0 {
						t.Errorf("%s holds no badge of its own", login)
					}
					var status string
					var created, keepCreated, lastSignIn int64
					for _, r := range []struct {
						row  *sql.Row
						dest []any
					}{
						{q.QueryRow(`SELECT status, created_at FROM accounts WHERE tenant_id = ? AND id = ?`, ten.ID, src), []any{&status, &created}},
						{q.QueryRow(`SELECT created_at FROM accounts WHERE tenant_id = ? AND id = ?`, ten.ID, keep), []any{&keepCreated}},
						{q.QueryRow(`SELECT MAX(at) FROM signins WHERE tenant_id = ? AND account_id = ?`, ten.ID, src), []any{&lastSignIn}},
					} {
						if err := r.row.Scan(r.dest...); err != nil {
							t.Fatal(err)
						}
					}
					if created <= keepCreated {
						t.Errorf("%s was created before the account kept, %s", login, logins[0])
					}
					recent = recent || lastSignIn >= nowMs-30*24*3600*1000
					activeSource = activeSource || status == "active"
					inactiveSource = inactiveSource || status == "inactive"
				}
			}
			if !recent || !activeSource || !inactiveSource {
				t.Errorf("sources: one signed in within 30 days %v, one active %v, one inactive %v; want all", recent, activeSource, inactiveSource)
			}

			// The sales editor can merge some groups (all accounts in Sales)
			// but not all.
			inSales, outside := 0, 0
			for _, logins := range ten.Duplicates {
				all := true
				for _, login := range logins {
					id := accountID(t, q, ten.ID, login)
					n := count(t, q, `SELECT COUNT(*) FROM memberships m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
						WHERE m.tenant_id = ? AND m.account_id = ? AND (g.id = 'g-sales' OR g.parent_id = 'g-sales')`, ten.ID, id)
					all = all && n > 0
				}
				if all {
					inSales++
				} else {
					outside++
				}
			}
			if inSales < 3 || outside < 1 {
				t.Errorf("%d duplicate groups inside Sales, %d outside; want some of each", inSales, outside)
			}

			// Admins: the tenant admin is a learner who is no one's duplicate.
			if len(ten.Admins) != 4 {
				t.Errorf("admins = %+v", ten.Admins)
			}
			var adminAccount string
			if err := q.QueryRow(`SELECT account_id FROM admins WHERE tenant_id = ? AND login = 'admin' AND role = 'tenant_admin'`, ten.ID).Scan(&adminAccount); err != nil {
				t.Fatal(err)
			}
			for _, logins := range ten.Duplicates {
				for _, login := range logins {
					if accountID(t, q, ten.ID, login) == adminAccount {
						t.Errorf("the admin's account %s is a duplicate", login)
					}
				}
			}
			for _, a := range []struct{ login, group, right string }{
				{"sales-editor", "g-sales", "edit"}, {"eng-viewer", "g-eng", "view"}, {"support-editor", "g-support", "edit"},
			} {
				if count(t, q, `SELECT COUNT(*) FROM admins a JOIN admin_scopes s ON s.tenant_id = a.tenant_id AND s.admin_id = a.id
					WHERE a.tenant_id = ? AND a.login = ? AND a.role = 'group_manager' AND s.group_id = ? AND s.right_ = ?`,
					ten.ID, a.login, a.group, a.right) != 1 {
					t.Errorf("admin %s: no %s right over %s", a.login, a.right, a.group)
				}
			}
		})
	}
}

var passwordHash = regexp.MustCompile(`,"password_hash":"[^"]*"`)

// TestExportGivesBackTheDemo: the demo is written in export order and form,
// so exporting a freshly loaded tenant gives back its part of the file.
func TestExportGivesBackTheDemo(t *testing.T) {
	o := demo.Options{Seed: 3, Now: testNow}
	want, sum := write(t, o)
	db, _ := load(t, o)
	var got bytes.Buffer
	for _, ten := range sum.Tenants {
		if err := db.Export(context.Background(), &got, ten.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Load gives every admin the demo password; its hash has a random salt
	// and is not part of the written file.
	exported := passwordHash.ReplaceAll(got.Bytes(), nil)
	if !bytes.Equal(exported, want) {
		gl, wl := strings.Split(string(exported), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("export differs from the demo at line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("export has %d lines, the demo %d", len(gl), len(wl))
	}
}
