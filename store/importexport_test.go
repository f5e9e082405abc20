package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// ieOpen opens an empty database of the running test's kind (storetest.Each).
func ieOpen(t testing.TB) *store.DB {
	t.Helper()
	return storetest.Open(t)
}

func ieImport(t testing.TB, db *store.DB, data string) store.ImportStats {
	t.Helper()
	st, err := db.Import(context.Background(), strings.NewReader(data))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return st
}

func ieExport(t testing.TB, db *store.DB, tenant, account string) string {
	t.Helper()
	var b bytes.Buffer
	if err := db.Export(context.Background(), &b, tenant, account); err != nil {
		t.Fatalf("export %s/%s: %v", tenant, account, err)
	}
	return b.String()
}

func ieExample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../docs/example.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ieRichFile covers every line kind and field in canonical export form:
// nested groups whose id order differs from their depth order, a merged and
// a deleted account (merged_into pointing forward), admins with and without
// scopes and accounts, retired records, optional fields present and absent,
// escapes, non-ASCII text, odd numbers and a time before 1970.
const ieRichFile = `{"kind":"tenant","id":"beta","name":"Beta Learning","policy":{"merge_enabled":true,"revert_allowed":false,"badges":"stay","credits":"stay","certificates":"transfer","move_external_ids":true}}
{"kind":"group","tenant":"beta","id":"c-other","name":"Other"}
{"kind":"group","tenant":"beta","id":"z-root","name":"Root"}
{"kind":"group","tenant":"beta","id":"a-sub","name":"Sub of other","parent":"c-other"}
{"kind":"group","tenant":"beta","id":"m-mid","parent":"z-root"}
{"kind":"group","tenant":"beta","id":"b-leaf","name":"Leaf","parent":"m-mid"}
{"kind":"job","tenant":"beta","id":"J-3","title":"Upper case sorts first: ids compare byte by byte"}
{"kind":"job","tenant":"beta","id":"j-1","title":"Trainer"}
{"kind":"job","tenant":"beta","id":"j-2"}
{"kind":"account","tenant":"beta","id":"u-1","login":"one","email":"one@beta.test","name":"One","status":"active","created_at":"2020-01-01T00:00:00.000Z","attributes":{"given_name":"Öne","family_name":"O'Neil \"Junior\"","birth_date":"1990-02-28","phone":"+44 20 7946 0000","employee_number":"E-1","postcode":"SW1A 1AA","a_key":"x","locker":"<7> & \\"}}
{"kind":"account","tenant":"beta","id":"u-2","login":"two","email":"two@beta.test","name":"Two","status":"inactive","created_at":"2021-06-30T23:59:59.999Z","merged_into":"u-3"}
{"kind":"account","tenant":"beta","id":"u-3","login":"three","name":"Three","status":"active","created_at":"2019-02-28T12:00:00.001Z","attributes":{"birth_date":"1990-02-28"}}
{"kind":"account","tenant":"beta","id":"u-4","login":"four","status":"inactive","created_at":"2018-01-01T00:00:00.000Z","deleted_at":"2024-02-29T00:00:00.000Z"}
{"kind":"account","tenant":"beta","id":"u-5","login":"zoë","name":"Zoë \"Z\" <z&co> \\ \u0001","status":"active","created_at":"2000-01-01T00:00:00.000Z"}
{"kind":"membership","tenant":"beta","account":"u-1","group":"b-leaf"}
{"kind":"membership","tenant":"beta","account":"u-1","group":"c-other"}
{"kind":"membership","tenant":"beta","account":"u-2","group":"m-mid"}
{"kind":"membership","tenant":"beta","account":"u-3","group":"a-sub"}
{"kind":"account_job","tenant":"beta","account":"u-1","job":"j-1"}
{"kind":"account_job","tenant":"beta","account":"u-1","job":"j-2"}
{"kind":"account_job","tenant":"beta","account":"u-3","job":"j-1"}
{"kind":"admin","tenant":"beta","id":"adm-a","login":"root","name":"Root Admin","role":"tenant_admin","password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
{"kind":"admin","tenant":"beta","id":"adm-b","login":"mgr","name":"Manager","role":"group_manager","account":"u-2","scopes":[{"group":"b-leaf","right":"edit"},{"group":"c-other","right":"view"}]}
{"kind":"admin","tenant":"beta","id":"adm-c","login":"viewer","role":"group_manager","scopes":[{"group":"z-root","right":"view"}]}
{"kind":"signin","tenant":"beta","id":"s1","account":"u-1","at":"1969-12-31T23:59:59.999Z"}
{"kind":"signin","tenant":"beta","id":"s2","account":"u-2","at":"2024-01-01T00:00:00.000Z","ip":"::1","client":"curl/8 \"quoted\" \\ back"}
{"kind":"attempt","tenant":"beta","id":"at1","account":"u-2","content_id":"c1","content_type":"test","attempt_no":1,"score":0.1,"max_score":1e-7,"passed":false,"started_at":"2024-01-01T10:00:00.000Z"}
{"kind":"attempt","tenant":"beta","id":"at2","account":"u-2","content_id":"c1","content_type":"vignette","attempt_no":2,"score":-3.25,"max_score":1e+21,"passed":true,"started_at":"2024-01-02T10:00:00.000Z","finished_at":"2024-01-02T10:30:00.000Z"}
{"kind":"attempt","tenant":"beta","id":"at3","account":"u-3","content_id":"c1","content_type":"exam","attempt_no":7,"score":100,"max_score":100,"passed":true,"started_at":"2024-01-03T10:00:00.000Z","retired":true}
{"kind":"badge","tenant":"beta","id":"bd1","account":"u-2","badge_id":"x","acquired_at":"2023-01-01T00:00:00.000Z","retired":true}
{"kind":"badge","tenant":"beta","id":"bd2","account":"u-2","badge_id":"x","acquired_at":"2023-02-01T00:00:00.000Z"}
{"kind":"badge","tenant":"beta","id":"bd3","account":"u-3","badge_id":"x","acquired_at":"2023-03-01T00:00:00.000Z"}
{"kind":"credit","tenant":"beta","id":"cr1","account":"u-2","points":-20,"awarded_at":"2023-04-01T00:00:00.000Z"}
{"kind":"certificate","tenant":"beta","id":"ce1","account":"u-3","subject_type":"path","subject_id":"p-1","issued_at":"2023-05-01T00:00:00.000Z"}
{"kind":"course_progress","tenant":"beta","id":"cp1","account":"u-2","course_id":"k1","status":"enrolled","percent":0,"enrolled_at":"2023-06-01T00:00:00.000Z"}
{"kind":"course_progress","tenant":"beta","id":"cp2","account":"u-3","course_id":"k1","status":"completed","percent":100,"enrolled_at":"2023-06-02T00:00:00.000Z","completed_at":"2023-06-03T00:00:00.000Z"}
{"kind":"course_progress","tenant":"beta","id":"cp3","account":"u-2","course_id":"k1","status":"in_progress","percent":55,"enrolled_at":"2023-05-01T00:00:00.000Z","retired":true}
{"kind":"lecture_progress","tenant":"beta","id":"lp1","account":"u-2","lecture_id":"l1","course_id":"k1","percent":30,"last_access":"2023-06-04T00:00:00.000Z"}
{"kind":"path_progress","tenant":"beta","id":"pp1","account":"u-3","path_id":"p-1","status":"completed","percent":100,"enrolled_at":"2023-01-01T00:00:00.000Z","completed_at":"2023-04-30T00:00:00.000Z"}
{"kind":"quiz_session","tenant":"beta","id":"qs1","account":"u-2","quiz_id":"q1","answers":"[1,2]","last_studied_at":"2023-07-01T00:00:00.000Z","graded_at":"2023-07-02T00:00:00.000Z"}
{"kind":"quiz_session","tenant":"beta","id":"qs2","account":"u-2","quiz_id":"q1","last_studied_at":"2023-07-03T00:00:00.000Z"}
{"kind":"quiz_session","tenant":"beta","id":"qs3","account":"u-3","quiz_id":"q1","answers":"{}","last_studied_at":"2023-07-04T00:00:00.000Z","retired":true}
{"kind":"master_state","tenant":"beta","id":"ms1","account":"u-2","quiz_id":"q2","last_studied_at":"2023-08-01T00:00:00.000Z"}
{"kind":"poll_response","tenant":"beta","id":"po1","account":"u-2","poll_id":"pl","answer":"ja\nnein\t✓","answered_at":"2023-09-01T00:00:00.000Z"}
{"kind":"poll_response","tenant":"beta","id":"po2","account":"u-3","poll_id":"pl","answer":"nein","answered_at":"2023-09-02T00:00:00.000Z","retired":true}
{"kind":"event_registration","tenant":"beta","id":"ev1","account":"u-2","event_id":"e1","registered_at":"2023-10-01T00:00:00.000Z","attended":false}
{"kind":"event_registration","tenant":"beta","id":"ev2","account":"u-3","event_id":"e1","registered_at":"2023-10-02T00:00:00.000Z","attended":true,"retired":true}
{"kind":"external_id","tenant":"beta","id":"ex1","account":"u-2","system":"lms","value":"42"}
{"kind":"external_id","tenant":"beta","id":"ex2","account":"u-3","system":"lms","value":"43","retired":true}
{"kind":"financial_record","tenant":"beta","id":"fr1","account":"u-2","type":"refund","amount_cents":-4900,"currency":"USD","at":"2023-11-01T00:00:00.000Z"}
{"kind":"financial_record","tenant":"beta","id":"fr2","account":"u-3","type":"invoice","amount_cents":0,"currency":"JPY","reference":"INV 1","at":"2023-11-02T00:00:00.000Z"}
`

func ieKind(line string) string {
	const p = `{"kind":"`
	if !strings.HasPrefix(line, p) {
		return ""
	}
	rest := line[len(p):]
	return rest[:strings.IndexByte(rest, '"')]
}

func ieCountKinds(file string) map[string]int {
	m := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(file, "\n"), "\n") {
		m[ieKind(l)]++
	}
	return m
}

func TestImportExample(t *testing.T) { storetest.Each(t, testImportExample) }

func testImportExample(t *testing.T) {
	db := ieOpen(t)
	file := ieExample(t)
	got := ieImport(t, db, file)
	want := store.ImportStats{Lines: 36, PerKind: map[string]int{
		"tenant": 1, "group": 3, "job": 2, "account": 3, "membership": 3, "account_job": 2, "admin": 2,
		"signin": 2, "attempt": 3, "badge": 2, "credit": 1, "certificate": 1, "course_progress": 2,
		"lecture_progress": 1, "path_progress": 1, "quiz_session": 1, "master_state": 1, "poll_response": 1,
		"event_registration": 1, "external_id": 2, "financial_record": 1,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	// Every line kind appears in the example.
	for _, k := range store.RecordKinds() {
		if got.PerKind[string(k)] == 0 {
			t.Errorf("example has no %s line", k)
		}
	}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		a, err := tx.Account(context.Background(), "acme", "u-1002")
		if err != nil {
			return err
		}
		if a.Name != "María García" || !a.CreatedAt.Equal(time.Date(2024, 3, 15, 10, 30, 0, 0, time.UTC)) {
			t.Errorf("u-1002 = %+v", a)
		}
		counts, err := tx.RecordCounts(context.Background(), "acme", "u-1002")
		if err != nil {
			return err
		}
		if counts[usermerge.KindAttempts] != 2 || counts[usermerge.KindMemberships] != 1 {
			t.Errorf("u-1002 counts = %v", counts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestExportRoundTrip(t *testing.T) { storetest.Each(t, testExportRoundTrip) }

func testExportRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, tenant, file string }{
		{"example", "acme", ieExample(t)},
		{"rich", "beta", ieRichFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db1 := ieOpen(t)
			st := ieImport(t, db1, tc.file)
			if diff := cmp.Diff(ieCountKinds(tc.file), st.PerKind); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			first := ieExport(t, db1, tc.tenant, "")
			if diff := cmp.Diff(tc.file, first); diff != "" {
				t.Errorf("export of canonical input differs from it (-input +export):\n%s", diff)
			}
			db2 := ieOpen(t)
			ieImport(t, db2, first)
			if second := ieExport(t, db2, tc.tenant, ""); second != first {
				t.Errorf("export → import → export changed the output:\n%s", cmp.Diff(first, second))
			}
		})
	}
}

// TestImportAcceptsNonCanonicalInput: any key order, RFC 3339 offsets and
// nanoseconds, numbers written differently, null for absent optional fields,
// a preset instead of a policy, CRLF line endings and a missing final newline
// all import, and export writes the canonical form.
func TestImportAcceptsNonCanonicalInput(t *testing.T) {
	storetest.Each(t, testImportAcceptsNonCanonicalInput)
}

func testImportAcceptsNonCanonicalInput(t *testing.T) {
	in := strings.Join([]string{
		`{"policy":{"credits":"transfer"},"id":"t","kind":"tenant","preset":"schoox"}`,
		`{"kind":"group","tenant":"t","id":"g1","name":"One"}`,
		`{"kind":"group" , "tenant":"t","id":"g2","parent":"g1",  "name":"Two"}`,
		`{"created_at":"2024-05-01T11:30:00.123456789+02:00","login":"x","tenant":"t","kind":"account","id":"u","email":null}`,
		`{"kind":"attempt","tenant":"t","id":"a","account":"u","content_id":"c","content_type":"quiz","attempt_no":1,"score":8.50,"max_score":1E1,"passed":true,"started_at":"2024-05-01T00:00:00Z","finished_at":null}`,
		`{"kind":"admin","tenant":"t","id":"ad","login":"m","role":"group_manager","scopes":[{"right":"view","group":"g2"},{"group":"g1","right":"edit"}]}`,
		`{"kind":"course_progress","tenant":"t","id":"c","account":"u","course_id":"k","status":"completed","percent":100,"enrolled_at":"2024-01-01T00:00:00-05:00","completed_at":"2024-01-02T00:00:00.9999Z","retired":false}`,
	}, "\r\n")
	want := `{"kind":"tenant","id":"t","policy":{"merge_enabled":true,"revert_allowed":false,"badges":"stay","credits":"transfer","certificates":"transfer","move_external_ids":false}}
{"kind":"group","tenant":"t","id":"g1","name":"One"}
{"kind":"group","tenant":"t","id":"g2","name":"Two","parent":"g1"}
{"kind":"account","tenant":"t","id":"u","login":"x","status":"active","created_at":"2024-05-01T09:30:00.123Z"}
{"kind":"admin","tenant":"t","id":"ad","login":"m","role":"group_manager","scopes":[{"group":"g1","right":"edit"},{"group":"g2","right":"view"}]}
{"kind":"attempt","tenant":"t","id":"a","account":"u","content_id":"c","content_type":"quiz","attempt_no":1,"score":8.5,"max_score":10,"passed":true,"started_at":"2024-05-01T00:00:00.000Z"}
{"kind":"course_progress","tenant":"t","id":"c","account":"u","course_id":"k","status":"completed","percent":100,"enrolled_at":"2024-01-01T05:00:00.000Z","completed_at":"2024-01-02T00:00:00.999Z"}
`
	db := ieOpen(t)
	if st := ieImport(t, db, in); st.Lines != 7 {
		t.Errorf("lines = %d, want 7", st.Lines)
	}
	if diff := cmp.Diff(want, ieExport(t, db, "t", "")); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
}

// keep returns the lines of file for which f holds.
func ieKeep(file string, f func(line string) bool) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(file, "\n") {
		if l != "" && f(l) {
			b.WriteString(l)
		}
	}
	return b.String()
}

func TestExportOneAccount(t *testing.T) { storetest.Each(t, testExportOneAccount) }

func testExportOneAccount(t *testing.T) {
	db := ieOpen(t)
	ieImport(t, db, ieRichFile)
	got := ieExport(t, db, "beta", "u-2")
	// u-2: its groups (m-mid) and ancestors (z-root), its admin's scope
	// groups (b-leaf, c-other), the account it is merged into (u-3, line
	// only), its memberships, its admin and all its records.
	want := ieKeep(ieRichFile, func(l string) bool {
		switch ieKind(l) {
		case "tenant":
			return true
		case "group":
			return !strings.Contains(l, `"id":"a-sub"`)
		case "job", "account_job":
			return false
		case "account":
			return strings.Contains(l, `"id":"u-2"`) || strings.Contains(l, `"id":"u-3"`)
		case "membership":
			return strings.Contains(l, `"account":"u-2"`)
		case "admin":
			return strings.Contains(l, `"id":"adm-b"`)
		}
		return strings.Contains(l, `"account":"u-2"`)
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export of u-2 (-want +got):\n%s", diff)
	}
	for _, account := range []string{"u-1", "u-2", "u-3", "u-4", "u-5"} {
		one := ieExport(t, db, "beta", account)
		fresh := ieOpen(t)
		ieImport(t, fresh, one)
		if again := ieExport(t, fresh, "beta", account); again != one {
			t.Errorf("%s: export → import into an empty database → export differs:\n%s", account, cmp.Diff(one, again))
		}
	}
}

// TestDocSamplesImport keeps docs/import-format.md honest: its JSON and CSV
// samples import on top of the example.
func TestDocSamplesImport(t *testing.T) { storetest.Each(t, testDocSamplesImport) }

func testDocSamplesImport(t *testing.T) {
	doc, err := os.ReadFile("../docs/import-format.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{}
	lang := ""
	for _, l := range strings.Split(string(doc), "\n") {
		switch {
		case lang == "" && (l == "```json" || l == "```csv"):
			lang = l[3:]
		case lang != "" && l == "```":
			lang = ""
		case lang != "":
			blocks[lang] = append(blocks[lang], l)
		}
	}
	if len(blocks["json"]) < 10 || len(blocks["csv"]) < 2 {
		t.Fatalf("found %d JSON and %d CSV sample lines", len(blocks["json"]), len(blocks["csv"]))
	}
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	ieImport(t, db, strings.Join(blocks["json"], "\n"))
	if _, err := db.ImportAccountsCSV(context.Background(), "acme", strings.NewReader(strings.Join(blocks["csv"], "\n"))); err != nil {
		t.Fatal(err)
	}
}

func TestExportNotFound(t *testing.T) { storetest.Each(t, testExportNotFound) }

func testExportNotFound(t *testing.T) {
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	ctx := context.Background()
	for _, tc := range []struct{ tenant, account string }{{"nope", ""}, {"acme", "u-404"}} {
		var b bytes.Buffer
		err := db.Export(ctx, &b, tc.tenant, tc.account)
		if usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("Export(%q, %q) = %v, want not found", tc.tenant, tc.account, err)
		}
		if err := db.ExportAccountsCSV(ctx, &b, tc.tenant); tc.account == "" && usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("ExportAccountsCSV(%q) = %v, want not found", tc.tenant, err)
		}
	}
}

// snapshot is every table's row count plus the whole export of acme: what a
// failed import must leave unchanged.
func ieSnapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if db.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tb := range tables {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+tb+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d\n", tb, n)
	}
	return b.String() + ieExport(t, db, "acme", "")
}

func ieCheckBadLine(t *testing.T, err error, line int, want string) {
	t.Helper()
	var e *usermerge.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *usermerge.Error", err, err)
	}
	prefix := fmt.Sprintf("line %d: ", line)
	if e.Code != usermerge.Invalid || e.Reason != "bad_line" || !strings.HasPrefix(e.Message, prefix) || !strings.Contains(e.Message, want) {
		t.Errorf("error = %s/%s %q, want invalid/bad_line %q…%q", e.Code, e.Reason, e.Message, prefix, want)
	}
}

func TestImportBadLine(t *testing.T) { storetest.Each(t, testImportBadLine) }

func testImportBadLine(t *testing.T) {
	good := []string{
		`{"kind":"account","tenant":"acme","id":"u-2001","login":"new1","created_at":"2024-01-01T00:00:00Z"}`,
		`{"kind":"external_id","tenant":"acme","id":"x-new","account":"u-2001","system":"sis","value":"dup-1"}`,
		`{"kind":"badge","tenant":"acme","id":"b-new","account":"u-1001","badge_id":"new-badge","acquired_at":"2024-01-01T00:00:00Z"}`,
	}
	const (
		signin = `{"kind":"signin","tenant":"acme","id":"s-9","account":"u-1001","at":"2024-01-01T00:00:00Z"`
		course = `{"kind":"course_progress","tenant":"acme","id":"cp-9","account":"u-1003","course_id":"k","enrolled_at":"2024-01-01T00:00:00Z"`
		attmpt = `{"kind":"attempt","tenant":"acme","id":"a-9","account":"u-1003","content_id":"c","content_type":"quiz","score":1,"max_score":2,"passed":true,"started_at":"2024-01-01T00:00:00Z"`
		admin  = `{"kind":"admin","tenant":"acme","id":"adm-9","login":"boss","role":"group_manager"`
		tenant = `{"kind":"tenant","id":"acme","name":"Acme Academy"`
	)
	cases := []struct {
		name string
		bad  string
		at   int // number of good lines before the bad one
		want string
	}{
		{"unknown kind", `{"kind":"sigin","tenant":"acme","id":"s-9"}`, 2, `unknown kind "sigin"`},
		{"missing kind", `{"tenant":"acme","id":"s-9"}`, 2, `missing required field "kind"`},
		{"kind not a string", `{"kind":5}`, 2, `kind must be a string, not a number 5`},
		{"unknown field", `{"kind":"account","tenant":"acme","id":"u-2002","login":"n2","emial":"a@b","created_at":"2024-01-01T00:00:00Z"}`, 2, `unknown field "emial"`},
		{"missing id", `{"kind":"signin","tenant":"acme","account":"u-1001","at":"2024-01-01T00:00:00Z"}`, 2, `missing required field "id"`},
		{"empty id", `{"kind":"job","tenant":"acme","id":""}`, 0, `id must not be empty`},
		{"string for int", attmpt + `,"attempt_no":"3"}`, 2, `attempt_no must be an integer, not a string "3"`},
		{"fraction for int", attmpt + `,"attempt_no":1.5}`, 2, `attempt_no must be an integer, not 1.5`},
		{"huge int", `{"kind":"credit","tenant":"acme","id":"c-9","account":"u-1001","points":99999999999999999999,"awarded_at":"2024-01-01T00:00:00Z"}`, 2, `points is out of range`},
		{"huge float", strings.Replace(attmpt, `"score":1`, `"score":1e400`, 1) + `,"attempt_no":1}`, 2, `score is out of range`},
		{"bad time", strings.Replace(signin, `"2024-01-01T00:00:00Z"`, `"2024-13-01T00:00:00Z"`, 1) + `}`, 2, `at must be an RFC 3339 time`},
		{"time as number", strings.Replace(signin, `"2024-01-01T00:00:00Z"`, `1704067200`, 1) + `}`, 2, `at must be an RFC 3339 time string, not a number`},
		{"null required", strings.Replace(signin, `"2024-01-01T00:00:00Z"`, `null`, 1) + `}`, 2, `missing required field "at"`},
		{"attempt_no 0", attmpt + `,"attempt_no":0}`, 2, `attempt_no must be >= 1`},
		{"percent 101", course + `,"status":"in_progress","percent":101}`, 2, `percent must be between 0 and 100, not 101`},
		{"status bogus", course + `,"status":"done","percent":1}`, 2, `status must be "enrolled", "in_progress" or "completed", not "done"`},
		{"account status bogus", `{"kind":"account","tenant":"acme","id":"u-2002","login":"n2","status":"gone","created_at":"2024-01-01T00:00:00Z"}`, 1, `status must be "active" or "inactive", not "gone"`},
		{"completed without completed_at", course + `,"status":"completed","percent":100}`, 2, `completed_at is required when status is "completed"`},
		{"completed_at without completed", course + `,"status":"enrolled","percent":0,"completed_at":"2024-01-02T00:00:00Z"}`, 2, `completed_at must be omitted`},
		{"bool as string", strings.Replace(attmpt, `"passed":true`, `"passed":"yes"`, 1) + `,"attempt_no":1}`, 2, `passed must be true or false, not a string "yes"`},
		{"retired not a bool", signin + `,"retired":1}`, 2, `retired must be true or false`},
		{"missing item key", `{"kind":"badge","tenant":"acme","id":"b-9","account":"u-1001","acquired_at":"2024-01-01T00:00:00Z"}`, 2, `missing required field "badge_id"`},
		{"bad content_type", strings.Replace(attmpt, `"quiz"`, `"survey"`, 1) + `,"attempt_no":1}`, 2, `content_type must be "quiz", "test", "exam" or "vignette"`},
		{"bad currency", `{"kind":"financial_record","tenant":"acme","id":"f-9","account":"u-1001","type":"order","amount_cents":1,"currency":"eur","at":"2024-01-01T00:00:00Z"}`, 2, `currency must be 3 upper-case letters`},
		{"missing account", `{"kind":"signin","tenant":"acme","id":"s-9","account":"u-9","at":"2024-01-01T00:00:00Z"}`, 2, `account "u-9" does not exist in tenant "acme"`},
		{"missing tenant", `{"kind":"signin","tenant":"nope","id":"s-9","account":"u-1001","at":"2024-01-01T00:00:00Z"}`, 2, `tenant "nope" does not exist`},
		{"missing group", `{"kind":"membership","tenant":"acme","account":"u-1001","group":"g-none"}`, 1, `group "g-none" does not exist in tenant "acme"`},
		{"missing job", `{"kind":"account_job","tenant":"acme","account":"u-1001","job":"j-none"}`, 1, `job "j-none" does not exist in tenant "acme"`},
		{"membership of missing account", `{"kind":"membership","tenant":"acme","account":"u-2001","group":"g-sales"}`, 0, `account "u-2001" does not exist in tenant "acme"`},
		{"duplicate external id in database", `{"kind":"external_id","tenant":"acme","id":"x-9","account":"u-1003","system":"sis","value":"100-1001"}`, 2, `external ID value "100-1001" of system "sis" is already used in tenant "acme"`},
		{"duplicate external id in file", `{"kind":"external_id","tenant":"acme","id":"x-9","account":"u-1003","system":"sis","value":"dup-1"}`, 2, `external ID value "dup-1" of system "sis" is already used`},
		{"second live badge", `{"kind":"badge","tenant":"acme","id":"b-9","account":"u-1001","badge_id":"badge-safety","acquired_at":"2024-01-01T00:00:00Z"}`, 2, `account "u-1001" already has a live badge record for badge_id "badge-safety"`},
		{"second suspended quiz session", `{"kind":"quiz_session","tenant":"acme","id":"qs-9","account":"u-1001","quiz_id":"q-final","last_studied_at":"2024-01-01T00:00:00Z"}`, 2, `already has a suspended session of quiz_id "q-final"`},
		{"duplicate login", `{"kind":"account","tenant":"acme","id":"u-2002","login":"mgarcia","created_at":"2024-01-01T00:00:00Z"}`, 2, `login "mgarcia" is already used by account "u-1001"`},
		{"duplicate admin login", `{"kind":"admin","tenant":"acme","id":"adm-9","login":"admin","role":"tenant_admin"}`, 2, `login "admin" is already used by administrator "adm-1"`},
		{"merged into missing account", `{"kind":"account","tenant":"acme","id":"u-2002","login":"n2","created_at":"2024-01-01T00:00:00Z","merged_into":"u-9"}`, 1, `merged_into: account "u-9" does not exist`},
		{"merged into itself", `{"kind":"account","tenant":"acme","id":"u-2002","login":"n2","created_at":"2024-01-01T00:00:00Z","merged_into":"u-2002"}`, 1, `cannot be merged into itself`},
		{"not JSON", `{"kind":"signin",`, 2, `not valid JSON: unexpected end of line`},
		{"trailing text", signin + `} x`, 2, `invalid character 'x' after top-level value`},
		{"two objects", signin + `}{}`, 2, `not valid JSON`},
		{"duplicate key", signin + `,"id":"s-10"}`, 2, `field "id" appears twice`},
		{"non-UTF-8 bytes", strings.Replace(signin, "s-9", "s-\xff\xfe", 1) + `}`, 2, `not valid UTF-8`},
		{"JSON array", `[{"kind":"signin"}]`, 2, `must be a JSON object, not an array`},
		{"JSON string", `"hello"`, 0, `must be a JSON object, not a string`},
		{"empty line", ``, 1, `empty line`},
		{"blank line", `   `, 1, `empty line`},
		{"comment line", `# a comment`, 0, `not valid JSON`},
		{"group parent missing", `{"kind":"group","tenant":"acme","id":"g-x","parent":"g-none"}`, 1, `parent group "g-none" does not exist`},
		{"group own parent", `{"kind":"group","tenant":"acme","id":"g-x","parent":"g-x"}`, 1, `cannot be its own parent`},
		{"group cycle", `{"kind":"group","tenant":"acme","id":"g-root","name":"Acme","parent":"g-sales"}`, 1, `would make group "g-root" its own ancestor`},
		{"group manager without scopes", admin + `}`, 2, `a group_manager needs at least one scope`},
		{"scope of missing group", admin + `,"scopes":[{"group":"g-none","right":"edit"}]}`, 2, `group "g-none" does not exist`},
		{"scope bad right", admin + `,"scopes":[{"group":"g-sales","right":"admin"}]}`, 2, `scopes[0].right must be "edit" or "view", not "admin"`},
		{"scope unknown field", admin + `,"scopes":[{"group":"g-sales","right":"edit","depth":1}]}`, 2, `unknown field "scopes[0].depth"`},
		{"scope named twice", admin + `,"scopes":[{"group":"g-sales","right":"edit"},{"group":"g-sales","right":"view"}]}`, 2, `scopes[1]: group "g-sales" is named twice`},
		{"scopes not an array", admin + `,"scopes":{"group":"g-sales"}}`, 2, `scopes must be an array, not an object`},
		{"bad role", `{"kind":"admin","tenant":"acme","id":"adm-9","login":"boss","role":"root"}`, 2, `role must be "tenant_admin" or "group_manager"`},
		{"a costly password hash", `{"kind":"admin","tenant":"acme","id":"adm-9","login":"boss","role":"tenant_admin","password_hash":"$argon2id$v=19$m=1048576,t=10,p=255$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, 2,
			`password_hash must be an Argon2id hash "$argon2id$v=19$m=M,t=T,p=P$salt$key" with m at most 19456, t at most 2 and p at most 1`},
		{"a bcrypt password hash", `{"kind":"admin","tenant":"acme","id":"adm-9","login":"boss","role":"tenant_admin","password_hash":"$2a$10$abcdefghijklmnopqrstuu"}`, 2, `password_hash must be an Argon2id hash`},
		{"admin of missing account", `{"kind":"admin","tenant":"acme","id":"adm-9","login":"boss","role":"tenant_admin","account":"u-9"}`, 2, `account "u-9" does not exist`},
		{"bad policy value", tenant + `,"policy":{"badges":"keep"}}`, 0, `policy.badges must be "transfer" or "stay", not "keep"`},
		{"unknown policy field", tenant + `,"policy":{"badge":"stay"}}`, 0, `unknown field "policy.badge"`},
		{"policy not an object", tenant + `,"policy":[]}`, 0, `policy must be an object, not an array`},
		{"unknown preset", tenant + `,"preset":"moodle"}`, 0, `preset must be "learningbox" or "schoox", not "moodle"`},
		{"deep nesting", `{"kind":"signin","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 2, `not valid JSON`},
	}
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	before := ieSnapshot(t, db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := append(append(append([]string{}, good[:tc.at]...), tc.bad), good[tc.at:]...)
			st, err := db.Import(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"))
			ieCheckBadLine(t, err, tc.at+1, tc.want)
			if st.Lines != 0 || len(st.PerKind) != 0 {
				t.Errorf("stats of a failed import = %+v, want zero", st)
			}
			if after := ieSnapshot(t, db); after != before {
				t.Errorf("a failed import changed the database:\n%s", cmp.Diff(before, after))
			}
		})
	}
	// The good lines alone import: each case failed only because of its bad line.
	ieImport(t, db, strings.Join(good, "\n"))
}

func TestImportLineTooLong(t *testing.T) { storetest.Each(t, testImportLineTooLong) }

func testImportLineTooLong(t *testing.T) {
	db := ieOpen(t)
	long := `{"kind":"tenant","id":"t","name":"` + strings.Repeat("x", 16<<20) + `"}`
	_, err := db.Import(context.Background(), strings.NewReader(`{"kind":"tenant","id":"a"}`+"\n"+long+"\n"))
	ieCheckBadLine(t, err, 2, "longer than 16 MiB")
	// A line of several MiB is fine.
	ieImport(t, db, `{"kind":"tenant","id":"t","name":"`+strings.Repeat("y", 5<<20)+`"}`)
}

// TestImportNeverPanics feeds mangled lines of the example: each either
// imports or fails as a bad line, never as an internal error.
func TestImportNeverPanics(t *testing.T) { storetest.Each(t, testImportNeverPanics) }

func testImportNeverPanics(t *testing.T) {
	db := ieOpen(t)
	file := ieExample(t)
	ieImport(t, db, file)
	lines := strings.Split(strings.TrimSuffix(file, "\n"), "\n")
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 400; i++ {
		b := []byte(lines[rng.Intn(len(lines))])
		for k := 1 + rng.Intn(3); k > 0; k-- {
			p := rng.Intn(len(b))
			switch rng.Intn(5) {
			case 0:
				b = append(b[:p], b[p+1:]...)
			case 1:
				b[p] = byte(rng.Intn(256))
			case 2:
				b = append(b[:p], append([]byte{`"{}[],:0e-9tn\`[rng.Intn(14)]}, b[p:]...)...)
			case 3:
				b = b[:p]
			case 4:
				b = append(b[:p], append([]byte(`"x":1e999999,`), b[p:]...)...)
			}
			if len(b) == 0 {
				b = []byte{'{'}
			}
		}
		_, err := db.Import(context.Background(), bytes.NewReader(b))
		if err != nil && (usermerge.ErrorCode(err) != usermerge.Invalid || !strings.HasPrefix(usermerge.ErrorMessage(err), "line 1: ")) {
			t.Errorf("input %q: error %v (code %s), want a bad line 1", b, err, usermerge.ErrorCode(err))
		}
	}
}

// ieQuery runs a raw query (no parameters, so it runs on both databases)
// returning one text value.
func ieQuery(t *testing.T, db *store.DB, q string) string {
	t.Helper()
	var s string
	if err := db.SQL().QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestImportUpsertKeepsBookkeeping(t *testing.T) {
	storetest.Each(t, testImportUpsertKeepsBookkeeping)
}

func testImportUpsertKeepsBookkeeping(t *testing.T) {
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	exec := func(q string) {
		t.Helper()
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	state := func(table, id string) string {
		return ieQuery(t, db, `SELECT account_id || ' moved=' || COALESCE(CAST(moved_by AS TEXT), '-') || ' retired=' || COALESCE(CAST(retired_by AS TEXT), '-')
			FROM `+table+` WHERE tenant_id = 'acme' AND id = '`+id+`'`)
	}

	// "retired":true retires a record (by a merge not in this database: 0).
	ieImport(t, db, `{"kind":"badge","tenant":"acme","id":"b-1","account":"u-1001","badge_id":"badge-safety","acquired_at":"2024-05-02T08:12:30Z","retired":true}`)
	if got := state("badges", "b-1"); got != "u-1001 moved=- retired=0" {
		t.Errorf("b-1 after retiring import: %s", got)
	}
	// A merge moved b-1 to u-1003 and a merge 42 retired a-1.
	exec(`UPDATE badges SET moved_by = 7, account_id = 'u-1003' WHERE id = 'b-1'`)
	exec(`UPDATE attempts SET retired_by = 42 WHERE id = 'a-1'`)

	// Re-importing changed lines updates values and keeps the bookkeeping:
	// no "retired" does not un-retire, "retired":true keeps the retiring
	// merge, and a moved record stays on the account the merge moved it to.
	ieImport(t, db, strings.Join([]string{
		`{"kind":"badge","tenant":"acme","id":"b-1","account":"u-1001","badge_id":"badge-safety","acquired_at":"2020-01-01T00:00:00Z"}`,
		`{"kind":"attempt","tenant":"acme","id":"a-1","account":"u-1001","content_id":"q-safety","content_type":"quiz","attempt_no":1,"score":7,"max_score":10,"passed":false,"started_at":"2024-05-02T08:00:00Z","retired":true}`,
		`{"kind":"signin","tenant":"acme","id":"s-1","account":"u-1003","at":"2024-05-02T07:45:12Z","client":"changed"}`,
	}, "\n"))
	for _, c := range []struct{ table, id, want string }{
		{"badges", "b-1", "u-1003 moved=7 retired=0"},
		{"attempts", "a-1", "u-1001 moved=- retired=42"},
		{"signins", "s-1", "u-1003 moved=- retired=-"}, // not moved by a merge: the import may reassign it
	} {
		if got := state(c.table, c.id); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.table, c.id, got, c.want)
		}
	}
	if got := ieQuery(t, db, `SELECT CAST(acquired_at AS TEXT) FROM badges WHERE id = 'b-1'`); got != "1577836800000" {
		t.Errorf("b-1 acquired_at = %s, want the imported value", got)
	}
	if got := ieQuery(t, db, `SELECT CASE WHEN score = 7 AND finished_at IS NULL THEN 'updated' ELSE 'old' END FROM attempts WHERE id = 'a-1'`); got != "updated" {
		t.Errorf("a-1 score/finished_at = %s, want updated", got)
	}
	if got := ieQuery(t, db, `SELECT client || '|' || ip FROM signins WHERE id = 's-1'`); got != "changed|" {
		t.Errorf("s-1 = %q: absent optional text must be stored empty", got)
	}

	// Accounts keep their merge and deletion markers and status unless the
	// line sets them; an admin keeps its password hash unless given.
	exec(`UPDATE accounts SET merged_into = 'u-1002', merged_by = 5, status = 'inactive', deleted_at = 1 WHERE id = 'u-1001'`)
	exec(`UPDATE admins SET password_hash = 'h1' WHERE id = 'adm-1'`)
	account := `{"kind":"account","tenant":"acme","id":"u-1001","login":"mgarcia","name":"Renamed","created_at":"2023-02-01T08:00:00Z"`
	acct := func() string {
		return ieQuery(t, db, `SELECT name || '|' || email || '|' || status || '|' || COALESCE(merged_into, '-') || '|' || COALESCE(CAST(merged_by AS TEXT), '-') || '|' || COALESCE(CAST(deleted_at AS TEXT), '-') FROM accounts WHERE id = 'u-1001'`)
	}
	ieImport(t, db, account+"}\n"+`{"kind":"admin","tenant":"acme","id":"adm-1","login":"admin","name":"Ada","role":"tenant_admin"}`)
	if got := acct(); got != "Renamed|maria@acme.test|inactive|u-1002|5|1" {
		t.Errorf("u-1001 after re-import = %q", got)
	}
	if got := ieQuery(t, db, `SELECT name || '|' || password_hash FROM admins WHERE id = 'adm-1'`); got != "Ada|h1" {
		t.Errorf("adm-1 = %q, want the new name and the kept hash", got)
	}
	ieImport(t, db, account+`,"merged_into":"u-1002"}`)
	if got := acct(); got != "Renamed|maria@acme.test|inactive|u-1002|5|1" {
		t.Errorf("same merged_into must keep merged_by: %q", got)
	}
	ieImport(t, db, account+`,"merged_into":"u-1003","status":"active","deleted_at":"1970-01-01T00:00:00.002Z"}`)
	if got := acct(); got != "Renamed|maria@acme.test|active|u-1003|0|1" { // a tombstone stays as it is
		t.Errorf("new merged_into: %q", got)
	}
}

const ieExampleCSV = `id,login,email,name,status,created_at,groups,jobs
u-1001,mgarcia,maria@acme.test,Maria Garcia,active,2023-02-01T08:00:00.000Z,g-sales,j-rep
u-1002,maria.garcia,maria.garcia@acme.test,María García,active,2024-03-15T10:30:00.000Z,g-sales,
u-1003,jchen,jun@acme.test,Jun Chen,active,2022-11-20T09:00:00.000Z,g-support,j-agent
`

func TestAccountsCSVRoundTrip(t *testing.T) { storetest.Each(t, testAccountsCSVRoundTrip) }

func testAccountsCSVRoundTrip(t *testing.T) {
	ctx := context.Background()
	db1 := ieOpen(t)
	ieImport(t, db1, ieExample(t))
	var out bytes.Buffer
	if err := db1.ExportAccountsCSV(ctx, &out, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ieExampleCSV, out.String()); diff != "" {
		t.Errorf("CSV export (-want +got):\n%s", diff)
	}

	db2 := ieOpen(t)
	ieImport(t, db2, ieKeep(ieExample(t), func(l string) bool {
		k := ieKind(l)
		return k == "tenant" || k == "group" || k == "job"
	}))
	st, err := db2.ImportAccountsCSV(ctx, "acme", strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := store.ImportStats{Lines: 3, PerKind: map[string]int{"account": 3, "membership": 3, "account_job": 2}}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	var again bytes.Buffer
	if err := db2.ExportAccountsCSV(ctx, &again, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.String(), again.String()); diff != "" {
		t.Errorf("CSV export → import → export (-first +second):\n%s", diff)
	}
	// The accounts, memberships and jobs equal the NDJSON original's.
	org := func(l string) bool { k := ieKind(l); return k == "account" || k == "membership" || k == "account_job" }
	if diff := cmp.Diff(ieKeep(ieExample(t), org), ieKeep(ieExport(t, db2, "acme", ""), org)); diff != "" {
		t.Errorf("accounts after CSV import (-want +got):\n%s", diff)
	}
}

func TestAccountsCSVImportForms(t *testing.T) { storetest.Each(t, testAccountsCSVImportForms) }

func testAccountsCSVImportForms(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	db.Now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC) }
	ieImport(t, db, ieExample(t))
	if _, err := db.SQL().Exec(`UPDATE accounts SET merged_into = 'u-1002', merged_by = 3, status = 'inactive' WHERE id = 'u-1001'`); err != nil {
		t.Fatal(err)
	}
	// Byte-order mark, any column order and case, no email/status/created_at
	// columns, a quoted name with a newline, spaces around cells.
	in := "\ufeffGroups, Login ,ID,name\n" +
		"g-support;g-root ;,jchen2,u-2001,\"Line\nbreak\"\n" +
		",mgarcia,u-1001,Maria G.\n"
	st, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.ImportStats{Lines: 2, PerKind: map[string]int{"account": 2, "membership": 2}}); !cmp.Equal(want, st) {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	var out bytes.Buffer
	if err := db.ExportAccountsCSV(ctx, &out, "acme"); err != nil {
		t.Fatal(err)
	}
	want := `id,login,email,name,status,created_at,groups,jobs
u-1001,mgarcia,maria@acme.test,Maria G.,inactive,2023-02-01T08:00:00.000Z,g-sales,j-rep
u-1002,maria.garcia,maria.garcia@acme.test,María García,active,2024-03-15T10:30:00.000Z,g-sales,
u-1003,jchen,jun@acme.test,Jun Chen,active,2022-11-20T09:00:00.000Z,g-support,j-agent
u-2001,jchen2,,"Line
break",active,2025-01-02T03:04:05.006Z,g-root;g-support,
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("CSV export (-want +got):\n%s", diff)
	}
	if got := ieQuery(t, db, `SELECT merged_into || CAST(merged_by AS TEXT) FROM accounts WHERE id = 'u-1001'`); got != "u-10023" {
		t.Errorf("CSV import touched merge markers: %q", got)
	}
}

func TestAccountsCSVBadRow(t *testing.T) { storetest.Each(t, testAccountsCSVBadRow) }

func testAccountsCSVBadRow(t *testing.T) {
	const header = "id,login,email,name,status,created_at,groups,jobs\n"
	const good = "u-2001,n1,,\"Multi\nline\",,,,\n" // lines 2-3
	cases := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty file", "", 1, "the file is empty"},
		{"unknown column", "id,login,emial\n", 1, `unknown column "emial"`},
		{"missing login column", "id,email\n", 1, `missing column "login"`},
		{"column twice", "id,login,id\n", 1, `column "id" appears twice`},
		{"missing id", header + good + ",n2,,,,,,\n", 4, "id must not be empty"},
		{"missing login", header + good + "u-2002,,,,,,,\n", 4, "login must not be empty"},
		{"bad status", header + good + "u-2002,n2,,,gone,,,\n", 4, `status must be "active" or "inactive", not "gone"`},
		{"bad created_at", header + good + "u-2002,n2,,,,yesterday,,\n", 4, `created_at must be an RFC 3339 time`},
		{"unknown group", header + good + "u-2002,n2,,,,,g-sales;g-none,\n", 4, `group "g-none" does not exist in tenant "acme"`},
		{"unknown job", header + good + "u-2002,n2,,,,,,j-none\n", 4, `job "j-none" does not exist in tenant "acme"`},
		{"duplicate login", header + good + "u-2002,mgarcia,,,,,,\n", 4, `login "mgarcia" is already used by account "u-1001"`},
		{"wrong field count", header + good + "u-2002,n2\n", 4, "wrong number of fields"},
		{"bare quote", header + good + "u-2002,n\"2,,,,,,\n", 4, `bare "`},
		{"non-UTF-8", header + good + "u-2002,n\xff,,,,,,\n", 4, "not valid UTF-8"},
	}
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	before := ieSnapshot(t, db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.ImportAccountsCSV(context.Background(), "acme", strings.NewReader(tc.in))
			ieCheckBadLine(t, err, tc.line, tc.want)
			if after := ieSnapshot(t, db); after != before {
				t.Errorf("a failed import changed the database:\n%s", cmp.Diff(before, after))
			}
		})
	}
	_, err := db.ImportAccountsCSV(context.Background(), "nope", strings.NewReader(header))
	if usermerge.ErrorCode(err) != usermerge.NotFound {
		t.Errorf("import into a missing tenant: %v, want not found", err)
	}
}

// ieGenFile builds a tenant with accounts and n sign-ins and n attempts.
func ieGenFile(accounts, n int) string {
	var b strings.Builder
	b.WriteString(`{"kind":"tenant","id":"big","name":"Big","policy":{"merge_enabled":true,"revert_allowed":true,"badges":"transfer","credits":"stay","certificates":"not_merged","move_external_ids":false}}` + "\n")
	for i := 0; i < accounts; i++ {
		fmt.Fprintf(&b, `{"kind":"account","tenant":"big","id":"u%06d","login":"l%06d","status":"active","created_at":"2024-01-01T00:00:00.000Z"}`+"\n", i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"kind":"signin","tenant":"big","id":"s%08d","account":"u%06d","at":"2024-01-01T00:00:%02d.000Z","ip":"10.0.0.1","client":"bench"}`+"\n", i, i%accounts, i%60)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"kind":"attempt","tenant":"big","id":"a%08d","account":"u%06d","content_id":"c%d","content_type":"quiz","attempt_no":%d,"score":%d.5,"max_score":100,"passed":true,"started_at":"2024-01-01T00:00:00.000Z"}`+"\n", i, i%accounts, i%7, 1+i/accounts, i%100)
	}
	return b.String()
}

func TestImportGeneratedRoundTrip(t *testing.T) { storetest.Each(t, testImportGeneratedRoundTrip) }

func testImportGeneratedRoundTrip(t *testing.T) {
	file := ieGenFile(50, 2000)
	db := ieOpen(t)
	if st := ieImport(t, db, file); st.Lines != 4051 {
		t.Errorf("lines = %d", st.Lines)
	}
	if got := ieExport(t, db, "big", ""); got != file {
		t.Errorf("generated file does not export back to itself:\n%s", cmp.Diff(file, got))
	}
}

func BenchmarkImport(b *testing.B) {
	file := ieGenFile(1000, 50000)
	b.SetBytes(int64(len(file)))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := ieOpen(b)
		b.StartTimer()
		ieImport(b, db, file)
	}
}

func BenchmarkExport(b *testing.B) {
	file := ieGenFile(1000, 50000)
	db := ieOpen(b)
	ieImport(b, db, file)
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.Export(context.Background(), io.Discard, "big", ""); err != nil {
			b.Fatal(err)
		}
	}
}
