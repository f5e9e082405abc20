package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// The fuzz targets send arbitrary bodies and parameters to the write
// endpoints and hold the server to three promises: it never answers 5xx;
// every refusal is a JSON error whose code matches its status, with the
// status and shape documented in openapi.json; and a refused request (or a
// read-only one) changes nothing in the database.
//
// Each target builds one server per process on a temporary SQLite copy of
// the HTTP fixture (plus a few merges, so reverts have something to work
// on). Every input starts from that clean copy: an input that changed the
// database gets a fresh copy afterwards, so a failing input reproduces alone.
//
//	go test ./server -run '^$' -fuzz '^FuzzMerge$' -fuzztime 60s
//
// The seed corpus (f.Add below, and testdata/fuzz/FuzzXxx, which -update
// rewrites from the same seeds) runs in every plain go test.

// fuzzCallers are the credentials an input may pick (by a byte, modulo).
var fuzzCallers = []struct {
	tenant, login string
	how           string // "session", "nocsrf" (session without the CSRF header), "token", "badtoken", "none"
}{
	{"acme", "admin", "session"},
	{"acme", "admin", "token"},
	{"acme", "admin", "nocsrf"},
	{"acme", "", "none"},
	{"acme", "editor", "session"},
	{"acme", "viewer", "session"},
	{"globex", "gadmin", "session"},
	{"globex", "admin", "session"}, // not an administrator of globex
	{"globex", "admin", "token"},   // acme's token
	{"acme", "", "badtoken"},
}

type fuzzCred struct{ secret, csrf, token string }

type fuzzEnv struct {
	dir string
	// signIn marks the sign-in target: a refused sign-in counts the failure
	// on the administrator and a successful one adds a session, by design,
	// so those are left out of the database fingerprint.
	signIn bool

	once     sync.Once
	ready    bool
	template string
	creds    map[string]fuzzCred // by login
	token    string              // acme admin's API token

	n     int
	db    *store.DB
	h     http.Handler
	log   bytes.Buffer
	clean map[string]fuzzTable
}

func newFuzzEnv(f *testing.F, signIn bool) *fuzzEnv {
	fe := &fuzzEnv{dir: f.TempDir(), signIn: signIn}
	f.Cleanup(func() {
		if fe.db != nil {
			fe.db.Close()
		}
	})
	return fe
}

// start builds the fixture on the first input (seedHTTPFixture wants a
// *testing.T) and fails every input if that did not work.
func (fe *fuzzEnv) start(t *testing.T) {
	t.Helper()
	fe.once.Do(func() {
		fe.build(t)
		fe.fresh(t)
		fe.ready = true
	})
	if !fe.ready {
		t.Fatal("the fuzz fixture could not be built")
	}
}

func (fe *fuzzEnv) build(t *testing.T) {
	ctx := context.Background()
	fe.template = filepath.Join(fe.dir, "template.db")
	db, err := store.Open(ctx, fe.template)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Now = func() time.Time { return testNow }
	seedHTTPFixture(t, db)
	eng := engine.New(db, nil)
	acme := engine.Caller{Tenant: "acme", Admin: "admin"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// acme merge 1: S3 into T (active, revertable); merge 2: E2 into E1,
	// then E2 deleted (permanent). globex merge 1: G2 into G1 (irreversible).
	_, err = eng.Merge(ctx, acme, usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S3"}})
	must(err)
	_, err = eng.Merge(ctx, acme, usermerge.MergeRequest{TenantID: "acme", Target: "E1", Sources: []string{"E2"}})
	must(err)
	_, err = eng.Delete(ctx, acme, "E2", false)
	must(err)
	_, err = eng.Merge(ctx, engine.Caller{Tenant: "globex", Admin: "gadmin"}, usermerge.MergeRequest{TenantID: "globex", Target: "G1", Sources: []string{"G2"}})
	must(err)
	fe.creds = map[string]fuzzCred{}
	for _, login := range []string{"admin", "editor", "viewer", "gadmin"} {
		out, err := eng.SignIn(ctx, engine.SignInRequest{Tenant: fixtureTenantOf(login), Login: login, Password: testPassword})
		must(err)
		fe.creds[login] = fuzzCred{secret: out.Secret, csrf: out.CSRF}
	}
	fe.token, _, err = eng.CreateToken(ctx, acme, "fuzz", nil)
	must(err)
}

// fresh replaces the database with a new copy of the template and the
// server with one on it.
func (fe *fuzzEnv) fresh(t testing.TB) {
	t.Helper()
	if fe.db != nil {
		old := filepath.Join(fe.dir, fmt.Sprintf("run%d.db", fe.n))
		fe.db.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(old + suffix)
		}
	}
	fe.n++
	file := filepath.Join(fe.dir, fmt.Sprintf("run%d.db", fe.n))
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(fe.template + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return testNow }
	log := slog.New(slog.NewTextHandler(&fe.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fe.db = db
	// The per-address budget of failed sign-ins would soon refuse every
	// sign-in of the fuzzer (one address, a stopped clock); TestSignInPerAddress
	// tests it.
	fe.h = New(Config{Engine: engine.New(db, log), Logger: log, SignInLimit: AddressLimit{Burst: 1 << 30, Every: time.Second}}).Handler()
	if fe.clean == nil {
		fe.clean = fe.fingerprint(t)
	}
}

// send makes one request as caller who and returns the answer.
func (fe *fuzzEnv) send(t *testing.T, who uint8, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	c := fuzzCallers[int(who)%len(fuzzCallers)]
	target = strings.ReplaceAll(target, "{tenant}", c.tenant)
	req, err := http.NewRequest(method, "http://usermerge.test"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch c.how {
	case "session", "nocsrf":
		cr := fe.creds[c.login]
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cr.secret})
		if c.how == "session" {
			req.Header.Set(CSRFHeader, cr.csrf)
		}
	case "token":
		req.Header.Set("Authorization", "Bearer "+fe.token)
	case "badtoken":
		req.Header.Set("Authorization", "Bearer umt_nothing.nothing")
	}
	fe.log.Reset()
	rec := httptest.NewRecorder()
	fe.h.ServeHTTP(rec, req)
	return rec
}

// check holds one answer of route to the promises above (the database is
// checked by settle).
func (fe *fuzzEnv) check(t *testing.T, route string, rec *httptest.ResponseRecorder) {
	t.Helper()
	st, body := rec.Code, rec.Body.Bytes()
	if st >= 500 {
		t.Fatalf("%s answered %d: %s\nserver log:\n%s", route, st, body, fe.log.String())
	}
	if st/100 != 2 {
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s answered %d with Content-Type %q: %.300q", route, st, ct, body)
		}
		var e ErrorBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Reason == "" || e.Error.Message == "" {
			t.Fatalf("%s answered %d without a complete JSON error (%v): %.300q", route, st, err, body)
		}
		if want := statusOf[usermerge.Code(e.Error.Code)]; want != st {
			t.Fatalf("%s answered %d with error code %q, which maps to %d", route, st, e.Error.Code, want)
		}
	}
	doc, err := openAPIParsed()
	if err != nil {
		t.Fatal(err)
	}
	if problems := openAPICheckAnswer(doc, route, st, body); len(problems) > 0 {
		t.Fatalf("%s answered %d unlike openapi.json documents it:\n\t%s\nanswer: %.500s", route, st, strings.Join(problems, "\n\t"), body)
	}
}

// settle checks what the input did to the database and starts the next
// input from a clean copy if it changed anything. Only a successful write
// may change the database.
func (fe *fuzzEnv) settle(t *testing.T, route string, status int, readOnly bool) {
	t.Helper()
	diff := fuzzDiff(fe.clean, fe.fingerprint(t))
	if diff == "" {
		return
	}
	if status/100 != 2 || readOnly {
		t.Errorf("%s answered %d, but changed the database:\n%s", route, status, diff)
	}
	fe.fresh(t)
}

// exchange is send, check and settle for one request.
func (fe *fuzzEnv) exchange(t *testing.T, who uint8, route, target, contentType string, body []byte, readOnly bool) int {
	t.Helper()
	method, _, _ := strings.Cut(route, " ")
	rec := fe.send(t, who, method, target, contentType, body)
	fe.check(t, route, rec)
	fe.settle(t, route, rec.Code, readOnly)
	return rec.Code
}

// fuzzTable is one table's fingerprint.
type fuzzTable struct {
	rows int
	sum  [sha256.Size]byte
}

// fingerprint hashes every table (rows sorted), leaving out what changes by
// design without a change of data: a token's last use, and for the sign-in
// target the sessions and the failed sign-in counters.
func (fe *fuzzEnv) fingerprint(t testing.TB) map[string]fuzzTable {
	t.Helper()
	skipCols := map[string]bool{"api_tokens.last_used_at": true}
	if fe.signIn {
		skipCols["signin_throttle.failures"], skipCols["signin_throttle.locked_until"] = true, true
	}
	out := map[string]fuzzTable{}
	ctx := context.Background()
	err := fe.db.View(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
		if err != nil {
			return err
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			if !(fe.signIn && (name == "sessions" || name == "signin_throttle")) {
				tables = append(tables, name)
			}
		}
		rows.Close()
		for _, table := range tables {
			rows, err := tx.Query(ctx, `SELECT * FROM "`+table+`"`)
			if err != nil {
				return err
			}
			cols, _ := rows.Columns()
			var lines []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				var b strings.Builder
				for i, v := range vals {
					if skipCols[table+"."+cols[i]] {
						continue
					}
					if bs, ok := v.([]byte); ok {
						v = string(bs)
					}
					fmt.Fprintf(&b, "%s=%q|", cols[i], fmt.Sprint(v))
				}
				lines = append(lines, b.String())
			}
			rows.Close()
			slices.Sort(lines)
			out[table] = fuzzTable{rows: len(lines), sum: sha256.Sum256([]byte(strings.Join(lines, "\n")))}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fuzzDiff(before, after map[string]fuzzTable) string {
	var out []string
	for table, a := range after {
		b, ok := before[table]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("\ttable %s is new (%d rows)", table, a.rows))
		case a.rows != b.rows:
			out = append(out, fmt.Sprintf("\t%s: %d rows, were %d", table, a.rows, b.rows))
		case a.sum != b.sum:
			out = append(out, fmt.Sprintf("\t%s: rows changed", table))
		}
	}
	for table := range before {
		if _, ok := after[table]; !ok {
			out = append(out, fmt.Sprintf("\ttable %s is gone", table))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// --- seeds ---

// fuzzSeed is one seed input; its name names its corpus file.
type fuzzSeed struct {
	name string
	args []any
}

// fuzzAddSeeds adds the seeds and, with -update, rewrites the target's
// corpus directory from them (seeds over 32 KiB stay in code only).
func fuzzAddSeeds(f *testing.F, seeds []fuzzSeed) {
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if updateGolden() {
		if err := os.RemoveAll(dir); err != nil {
			f.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, s := range seeds {
		if names[s.name] {
			f.Fatalf("seed name %q is used twice", s.name)
		}
		names[s.name] = true
		f.Add(s.args...)
		if !updateGolden() {
			continue
		}
		file := fuzzCorpusFile(f, s.args)
		if len(file) > 32<<10 {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, s.name), file, 0o644); err != nil {
			f.Fatal(err)
		}
	}
}

// fuzzCorpusFile writes values in the "go test fuzz v1" format.
func fuzzCorpusFile(f *testing.F, args []any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		default:
			f.Fatalf("no corpus encoding for %T", a)
		}
	}
	return b.Bytes()
}

// fuzzBadJSON are bodies no JSON endpoint may accept, or must treat
// as empty: malformed, wrong top-level types, not UTF-8, nested deeply,
// oversized.
var fuzzBadJSON = []struct{ name, body string }{
	{"empty", ""},
	{"blank", " \r\n\t "},
	{"null", "null"},
	{"true", "true"},
	{"number-overflow", "1e309"},
	{"string", `"text"`},
	{"array", `[]`},
	{"object-empty", `{}`},
	{"unterminated", `{`},
	{"unterminated-string", `{"a":"`},
	{"trailing-comma", `{"a":1,}`},
	{"single-quotes", `{'a':1}`},
	{"two-objects", `{}{}`},
	{"trailing-garbage", `{} x`},
	{"bom", "\xef\xbb\xbf{}"},
	{"not-utf8", "\xff\xfe"},
	{"not-utf8-key", "{\"\xff\xfe\":1}"},
	{"nul-byte", "{\x00}"},
	{"deep-arrays", strings.Repeat("[", 10001) + strings.Repeat("]", 10001)}, // encoding/json's limit is 10000
	{"deep-objects", strings.Repeat(`{"a":`, 3000) + "1" + strings.Repeat("}", 3000)},
	{"comment", `{/* c */}`},
	{"nan", `{"a":NaN}`},
}

// fuzzHuge is a body just over the 1 MiB limit (in code only).
var fuzzHuge = `{"a":"` + strings.Repeat("x", maxJSONBody) + `"}`

func fuzzJSONSeeds(args func(body string) []any) []fuzzSeed {
	var out []fuzzSeed
	for _, b := range fuzzBadJSON {
		out = append(out, fuzzSeed{"bad-" + b.name, args(b.body)})
	}
	return append(out, fuzzSeed{"huge-body", args(fuzzHuge)})
}

const fuzzT = "/api/v1/tenants/{tenant}"

// --- targets ---

func FuzzMerge(f *testing.F) {
	fe := newFuzzEnv(f, false)
	long := strings.Repeat("é", 3000)
	eleven := `["S","S2","S3","E1","E2","x1","x2","x3","x4","x5","x6"]`
	seed := func(body string, preview bool, who uint8) []any { return []any{[]byte(body), preview, who} }
	seeds := fuzzJSONSeeds(func(b string) []any { return seed(b, false, 0) })
	for _, s := range []struct {
		name, body string
		who        uint8
	}{
		{"ok", `{"target":"T","sources":["S"]}`, 0},
		{"ok-two-sources", `{"target":"T","sources":["S","S2"],"move_external_ids":true,"reason":"same person"}`, 0},
		{"ok-by-login", `{"target":"t.login","sources":["s.login"]}`, 1},
		{"ok-editor", `{"target":"T","sources":["S2"]}`, 4},
		{"no-csrf", `{"target":"T","sources":["S"]}`, 2},
		{"anonymous", `{"target":"T","sources":["S"]}`, 3},
		{"viewer", `{"target":"T","sources":["S"]}`, 5},
		{"editor-out-of-scope", `{"target":"E1","sources":["S"]}`, 4},
		{"schoox-tenant", `{"target":"G1","sources":["G2"]}`, 6},
		{"other-tenant-session", `{"target":"G1","sources":["G2"]}`, 7},
		{"other-tenant-token", `{"target":"G1","sources":["G2"]}`, 8},
		{"bad-token", `{"target":"T","sources":["S"]}`, 9},
		{"target-number", `{"target":1,"sources":["S"]}`, 0},
		{"target-negative", `{"target":-1,"sources":["S"]}`, 0},
		{"target-int64-overflow", `{"target":9223372036854775808,"sources":["S"]}`, 0},
		{"target-array", `{"target":["T"],"sources":["S"]}`, 0},
		{"target-object", `{"target":{"id":"T"},"sources":["S"]}`, 0},
		{"sources-string", `{"target":"T","sources":"S"}`, 0},
		{"sources-numbers", `{"target":"T","sources":[1,2]}`, 0},
		{"sources-nested", `{"target":"T","sources":[["S"]]}`, 0},
		{"nulls", `{"target":null,"sources":null,"move_external_ids":null,"reason":null}`, 0},
		{"null-source", `{"target":"T","sources":[null]}`, 0},
		{"move-ids-string", `{"target":"T","sources":["S"],"move_external_ids":"yes"}`, 0},
		{"move-ids-huge", `{"target":"T","sources":["S"],"move_external_ids":1e309}`, 0},
		{"unknown-field", `{"target":"T","sources":["S"],"force":true}`, 0},
		{"capitalised-fields", `{"Target":"T","SOURCES":["S"]}`, 0},
		{"duplicate-keys", `{"target":"T","target":"S2","sources":["S"]}`, 0},
		{"no-target", `{"sources":["S"]}`, 0},
		{"blank-target", `{"target":"  ","sources":["S"]}`, 0},
		{"no-sources", `{"target":"T","sources":[]}`, 0},
		{"empty-source", `{"target":"T","sources":[""]}`, 0},
		{"eleven-sources", `{"target":"T","sources":` + eleven + `}`, 0},
		{"source-is-target", `{"target":"T","sources":["T"]}`, 0},
		{"source-twice", `{"target":"T","sources":["S","s.login"]}`, 0},
		{"source-merged", `{"target":"T","sources":["S3"]}`, 0},
		{"target-merged", `{"target":"S3","sources":["S"]}`, 0},
		{"source-deleted", `{"target":"E1","sources":["E2"]}`, 0},
		{"unknown-account", `{"target":"T","sources":["nobody"]}`, 0},
		{"other-tenant-account", `{"target":"T","sources":["G1"]}`, 0},
		{"reason-too-long", `{"target":"T","sources":["S"],"reason":"` + long + `"}`, 0},
		{"target-long", `{"target":"` + strings.Repeat("T", 5000) + `","sources":["S"]}`, 0},
		{"target-not-utf8", "{\"target\":\"\xff\xfe\",\"sources\":[\"S\"]}", 0},
		{"target-nul", `{"target":"T\u0000","sources":["S"]}`, 0},
		{"reason-lone-surrogate", `{"target":"T","sources":["S"],"reason":"\ud800"}`, 0},
		{"sql-quote", `{"target":"T' OR '1'='1","sources":["S%"]}`, 0},
	} {
		seeds = append(seeds, fuzzSeed{"merge-" + s.name, seed(s.body, false, s.who)}, fuzzSeed{"preview-" + s.name, seed(s.body, true, s.who)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, body []byte, preview bool, who uint8) {
		fe.start(t)
		route := "POST " + fuzzT + "/merges"
		if preview {
			route += "/preview"
		}
		fe.exchange(t, who, route, strings.TrimPrefix(route, "POST "), "application/json", body, preview)
	})
}

func FuzzRevert(f *testing.F) {
	fe := newFuzzEnv(f, false)
	seed := func(body string, who uint8) []any { return []any{[]byte(body), who} }
	seeds := fuzzJSONSeeds(func(b string) []any { return seed(b, 0) })
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	for _, s := range []struct {
		name, body string
		who        uint8
	}{
		{"ok", `{"merges":[1]}`, 0},
		{"ok-token", `{"merges":[1]}`, 1},
		{"ok-editor", `{"merges":[1]}`, 4},
		{"no-csrf", `{"merges":[1]}`, 2},
		{"viewer", `{"merges":[1]}`, 5},
		{"schoox-irreversible", `{"merges":[1]}`, 6},
		{"other-tenant", `{"merges":[1]}`, 7},
		{"permanent", `{"merges":[2]}`, 0},
		{"editor-out-of-scope", `{"merges":[2]}`, 4},
		{"one-of-two-refused", `{"merges":[1,2]}`, 0},
		{"unknown", `{"merges":[3]}`, 0},
		{"twice", `{"merges":[1,1]}`, 0},
		{"empty-list", `{"merges":[]}`, 0},
		{"null-list", `{"merges":null}`, 0},
		{"no-field", `{"merge":[1]}`, 0},
		{"zero", `{"merges":[0]}`, 0},
		{"negative", `{"merges":[-1]}`, 0},
		{"negative-zero", `{"merges":[-0]}`, 0},
		{"int64-max", `{"merges":[9223372036854775807]}`, 0},
		{"int64-overflow", `{"merges":[9223372036854775808]}`, 0},
		{"float-overflow", `{"merges":[1e309]}`, 0},
		{"fraction", `{"merges":[1.5]}`, 0},
		{"exponent", `{"merges":[1e0]}`, 0},
		{"string-id", `{"merges":["1"]}`, 0},
		{"scalar", `{"merges":1}`, 0},
		{"nested", `{"merges":[[1]]}`, 0},
		{"null-id", `{"merges":[null]}`, 0},
		{"too-many", `{"merges":[` + strings.Join(ids, ",") + `]}`, 0},
		{"duplicate-keys", `{"merges":[2],"merges":[1]}`, 0},
		{"unknown-field", `{"merges":[1],"force":true}`, 0},
	} {
		seeds = append(seeds, fuzzSeed{s.name, seed(s.body, s.who)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, body []byte, who uint8) {
		fe.start(t)
		fe.exchange(t, who, "POST "+fuzzT+"/merges/revert", fuzzT+"/merges/revert", "application/json", body, false)
	})
}

func FuzzSettings(f *testing.F) {
	fe := newFuzzEnv(f, false)
	seed := func(body string, who uint8) []any { return []any{[]byte(body), who} }
	seeds := fuzzJSONSeeds(func(b string) []any { return seed(b, 0) })
	for _, s := range []struct {
		name, body string
		who        uint8
	}{
		{"preset", `{"preset":"schoox"}`, 0},
		{"preset-same", `{"preset":"learningbox"}`, 1},
		{"preset-and-set", `{"preset":"schoox","set":{"badges":"transfer","revert_allowed":"yes"}}`, 0},
		{"set-each", `{"set":{"merge_enabled":"off","revert_allowed":"0","badges":"stay","credits":"transfer","certificates":"transfer","move_external_ids":"on"}}`, 0},
		{"no-csrf", `{"preset":"schoox"}`, 2},
		{"editor", `{"preset":"schoox"}`, 4},
		{"viewer", `{"preset":"schoox"}`, 5},
		{"other-tenant", `{"preset":"schoox"}`, 7},
		{"unknown-preset", `{"preset":"moodle"}`, 0},
		{"preset-case", `{"preset":"SCHOOX"}`, 0},
		{"preset-empty", `{"preset":""}`, 0},
		{"preset-number", `{"preset":1}`, 0},
		{"preset-nul", `{"preset":"schoox\u0000"}`, 0},
		{"set-empty", `{"set":{}}`, 0},
		{"set-null", `{"set":null}`, 0},
		{"set-array", `{"set":[]}`, 0},
		{"set-bool", `{"set":{"merge_enabled":true}}`, 0},
		{"set-null-value", `{"set":{"badges":null}}`, 0},
		{"set-bad-value", `{"set":{"badges":"gold"}}`, 0},
		{"set-bad-bool", `{"set":{"merge_enabled":"maybe"}}`, 0},
		{"set-unknown", `{"set":{"colour":"blue"}}`, 0},
		{"set-long-name", `{"set":{"` + strings.Repeat("n", 5000) + `":"1"}}`, 0},
		{"set-not-utf8", "{\"set\":{\"badges\":\"\xff\"}}", 0},
		{"duplicate-keys", `{"preset":"schoox","preset":"learningbox"}`, 0},
		{"unknown-field", `{"preset":"schoox","policy":{}}`, 0},
	} {
		seeds = append(seeds, fuzzSeed{s.name, seed(s.body, s.who)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, body []byte, who uint8) {
		fe.start(t)
		fe.exchange(t, who, "PUT "+fuzzT+"/settings", fuzzT+"/settings", "application/json", body, false)
	})
}

func FuzzSignIn(f *testing.F) {
	fe := newFuzzEnv(f, true)
	seed := func(body string, repeat uint8) []any { return []any{[]byte(body), repeat} }
	seeds := fuzzJSONSeeds(func(b string) []any { return seed(b, 0) })
	for _, s := range []struct {
		name, body string
		repeat     uint8
	}{
		{"ok", `{"tenant":"acme","login":"admin","password":"` + testPassword + `"}`, 0},
		{"ok-twice", `{"tenant":"globex","login":"gadmin","password":"` + testPassword + `"}`, 1},
		{"wrong-tenant", `{"tenant":"globex","login":"admin","password":"` + testPassword + `"}`, 0},
		{"unknown-tenant", `{"tenant":"nowhere","login":"admin","password":"` + testPassword + `"}`, 1},
		{"no-tenant", `{"login":"admin","password":"` + testPassword + `"}`, 0},
		{"tenant-number", `{"tenant":7,"login":"admin","password":"x"}`, 0},
		{"wrong-password", `{"tenant":"acme","login":"admin","password":"wrong"}`, 0},
		{"locked-out", `{"tenant":"acme","login":"admin","password":"wrong"}`, 3},
		{"unknown-login", `{"tenant":"acme","login":"nobody","password":"x"}`, 0},
		{"unknown-login-locked", `{"tenant":"acme","login":"nobody","password":"x"}`, 3},
		{"empty-fields", `{"tenant":"","login":"","password":""}`, 0},
		{"no-password", `{"tenant":"acme","login":"admin"}`, 0},
		{"null-password", `{"tenant":"acme","login":"admin","password":null}`, 0},
		{"login-number", `{"tenant":"acme","login":1,"password":"x"}`, 0},
		{"password-object", `{"tenant":"acme","login":"admin","password":{}}`, 0},
		{"login-long", `{"tenant":"acme","login":"` + strings.Repeat("a", 300) + `","password":"x"}`, 0},
		{"tenant-long", `{"tenant":"` + strings.Repeat("t", 300) + `","login":"admin","password":"x"}`, 0},
		{"password-long", `{"tenant":"acme","login":"admin","password":"` + strings.Repeat("p", 2000) + `"}`, 0},
		{"login-nul", `{"tenant":"acme","login":"admin\u0000","password":"x"}`, 0},
		{"login-not-utf8", "{\"tenant\":\"acme\",\"login\":\"\xff\xfe\",\"password\":\"x\"}", 0},
		{"duplicate-keys", `{"tenant":"acme","login":"viewer","login":"admin","password":"` + testPassword + `"}`, 0},
		{"unknown-field", `{"tenant":"acme","login":"admin","password":"x","remember":true}`, 0},
	} {
		seeds = append(seeds, fuzzSeed{s.name, seed(s.body, s.repeat)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, body []byte, repeat uint8) {
		fe.start(t)
		const route = "POST /api/v1/session"
		// Repeats reach the lock-out (429) from the third failure on.
		for range 1 + int(repeat)%4 {
			rec := fe.send(t, 3, "POST", "/api/v1/session", "application/json", body)
			fe.check(t, route, rec)
			fe.settle(t, route, rec.Code, false)
		}
		// Clear the failure counters, so the next input starts unlocked.
		if err := fe.db.Transact(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Exec(context.Background(), `DELETE FROM signin_throttle`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzImport(f *testing.F) {
	fe := newFuzzEnv(f, false)
	seed := func(body, ct string, who uint8) []any { return []any{[]byte(body), ct, who} }
	const nd = "application/x-ndjson"
	account := `{"kind":"account","tenant":"acme","id":"N1","login":"n1","email":"n1@example.test","name":"New","status":"active","created_at":"2026-01-01T00:00:00Z"}`
	var seeds []fuzzSeed
	for _, b := range fuzzBadJSON {
		seeds = append(seeds, fuzzSeed{"bad-" + b.name, seed(b.body, nd, 0)})
	}
	for _, s := range []struct {
		name, body, ct string
		who            uint8
	}{
		{"ok-account", account + "\n", nd, 0},
		{"ok-no-content-type", account, "", 1},
		{"ok-crlf", account + "\r\n" + `{"kind":"membership","tenant":"acme","account":"N1","group":"east"}` + "\r\n", "application/jsonl", 0},
		{"ok-csv", "id,login,email,name,status,created_at,groups,jobs\nN1,n1,n1@example.test,New,active,2026-01-01T00:00:00.000Z,east,\n", "text/csv", 0},
		{"ok-csv-bom", "\xef\xbb\xbfID,Login\nN1,n1\n", "text/csv; charset=utf-8", 0},
		{"ok-merged-marker", account + "\n" + `{"kind":"account","tenant":"acme","id":"N2","login":"n2","name":"Old","created_at":"2026-01-01T00:00:00Z","merged_into":"N1"}` + "\n", nd, 0},
		{"ok-group-tree", `{"kind":"group","tenant":"acme","id":"g1","name":"G1","parent":"root"}` + "\n" + `{"kind":"group","tenant":"acme","id":"g2","name":"G2","parent":"g1"}` + "\n", nd, 0},
		{"ok-update-in-place", `{"kind":"account","tenant":"acme","id":"S","login":"s.login","name":"Renamed","created_at":"2026-01-01T00:00:00Z"}`, nd, 0},
		{"group-own-parent", `{"kind":"group","tenant":"acme","id":"loop","name":"Loop","parent":"loop"}`, nd, 0},
		{"group-cycle", `{"kind":"group","tenant":"acme","id":"root","name":"Company","parent":"east"}`, nd, 0},
		{"merged-into-itself", `{"kind":"account","tenant":"acme","id":"N1","login":"n1","name":"New","created_at":"2026-01-01T00:00:00Z","merged_into":"N1"}`, nd, 0},
		{"merged-into-unknown", `{"kind":"account","tenant":"acme","id":"N1","login":"n1","name":"New","created_at":"2026-01-01T00:00:00Z","merged_into":"nobody"}`, nd, 0},
		{"other-tenant-line", strings.Replace(account, `"acme"`, `"globex"`, 1), nd, 0},
		{"tenant-line", `{"kind":"tenant","id":"acme","name":"Acme","preset":"schoox"}`, nd, 0},
		{"tenant-line-bad-policy", `{"kind":"tenant","id":"acme","name":"Acme","policy":{"badges":"gold"}}`, nd, 0},
		{"admin-line", `{"kind":"admin","tenant":"acme","id":"a9","login":"new.admin","name":"New","role":"tenant_admin"}`, nd, 0},
		{"login-taken", `{"kind":"account","tenant":"acme","id":"N1","login":"t.login","name":"New","created_at":"2026-01-01T00:00:00Z"}`, nd, 0},
		{"unknown-kind", `{"kind":"nope"}`, nd, 0},
		{"no-kind", `{"id":"N1"}`, nd, 0},
		{"unknown-field", strings.Replace(account, `"kind"`, `"extra":1,"kind"`, 1), nd, 0},
		{"duplicate-field", strings.Replace(account, `"kind":"account"`, `"kind":"account","kind":"account"`, 1), nd, 0},
		{"bad-time", strings.Replace(account, "2026-01-01T00:00:00Z", "yesterday", 1), nd, 0},
		{"bad-status", strings.Replace(account, `"active"`, `"banned"`, 1), nd, 0},
		{"id-nul", strings.Replace(account, `"N1"`, `"N\u0000"`, 1), nd, 0},
		{"id-not-utf8", strings.Replace(account, `"N1"`, "\"N\xff\"", 1), nd, 0},
		{"blank-line", account + "\n\n" + account, nd, 0},
		{"comment-line", "# accounts\n" + account, nd, 0},
		{"record-unknown-account", `{"kind":"signin","tenant":"acme","id":"si9","account":"nobody","at":"2026-01-01T00:00:00Z","ip":"10.0.0.9","client":"web"}`, nd, 0},
		{"attempt-huge-numbers", `{"kind":"attempt","tenant":"acme","id":"at9","account":"S","content_id":"q9","content_type":"quiz","attempt_no":9223372036854775808,"score":1e309,"max_score":-1,"passed":false,"started_at":"2026-01-01T00:00:00Z"}`, nd, 0},
		{"attempt-negative", `{"kind":"attempt","tenant":"acme","id":"at9","account":"S","content_id":"q9","content_type":"quiz","attempt_no":-1,"score":-5,"max_score":10,"passed":false,"started_at":"2026-01-01T00:00:00Z"}`, nd, 0},
		{"csv-no-login", "id,email\nN1,n1@example.test\n", "text/csv", 0},
		{"csv-unknown-column", "id,login,colour\nN1,n1,blue\n", "text/csv", 0},
		{"csv-unknown-group", "id,login,groups\nN1,n1,nowhere\n", "text/csv", 0},
		{"csv-bad-quote", "id,login\n\"N1,n1\n", "text/csv", 0},
		{"csv-empty", "", "text/csv", 0},
		{"xml", "<accounts/>", "application/xml", 0},
		{"content-type-garbage", account, ";;;\xff", 0},
		{"no-csrf", account, nd, 2},
		{"editor", account, nd, 4},
		{"other-tenant", account, nd, 7},
	} {
		seeds = append(seeds, fuzzSeed{s.name, seed(s.body, s.ct, s.who)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, body []byte, contentType string, who uint8) {
		fe.start(t)
		if strings.ContainsAny(contentType, "\r\n\x00") {
			return // not a header value a client can send
		}
		const route = "POST " + fuzzT + "/import"
		rec := fe.send(t, who, "POST", fuzzT+"/import", contentType, body)
		fe.check(t, route, rec)
		if rec.Code/100 == 2 {
			// What an import accepts, the rest of the API must handle.
			for _, r := range []struct{ route, target string }{
				{"GET " + fuzzT + "/accounts", fuzzT + "/accounts?limit=500"},
				{"GET " + fuzzT + "/accounts/{id}", fuzzT + "/accounts/N1"},
				{"GET " + fuzzT + "/merges", fuzzT + "/merges?state=all"},
				{"GET " + fuzzT + "/settings", fuzzT + "/settings"},
				{"GET " + fuzzT + "/export", fuzzT + "/export"},
				{"GET " + fuzzT + "/export", fuzzT + "/export?format=csv"},
				{"POST " + fuzzT + "/merges/preview", fuzzT + "/merges/preview"},
			} {
				method, _, _ := strings.Cut(r.route, " ")
				var b []byte
				if method == "POST" {
					b = []byte(`{"target":"T","sources":["N1","N2"]}`)
				}
				fe.check(t, r.route, fe.send(t, 0, method, r.target, "application/json", b))
			}
		}
		fe.settle(t, route, rec.Code, false)
	})
}

// fuzzAccountActions are the account routes FuzzAccountActions picks from.
var fuzzAccountActions = []struct {
	method, suffix string // suffix after /accounts/{id}
	readOnly       bool
}{
	{"POST", "/activate", false},
	{"POST", "/deactivate", false},
	{"DELETE", "", false},
	{"GET", "/deletion", true},
	{"GET", "", true},
	{"GET", "search", true}, // GET /accounts?query; the id is not used
}

func FuzzAccountActions(f *testing.F) {
	fe := newFuzzEnv(f, false)
	seed := func(action uint8, id, query string, who uint8) []any { return []any{action, id, query, who} }
	var seeds []fuzzSeed
	for _, s := range []struct {
		name      string
		action    uint8
		id, query string
		who       uint8
	}{
		{"activate", 0, "S", "", 0},
		{"activate-merged", 0, "S3", "", 0},
		{"activate-deleted", 0, "E2", "", 0},
		{"activate-by-login", 0, "s2.login", "", 1},
		{"activate-viewer", 0, "S", "", 5},
		{"activate-no-csrf", 0, "S", "", 2},
		{"deactivate", 1, "S", "", 0},
		{"deactivate-editor", 1, "S2", "", 4},
		{"deactivate-editor-out-of-scope", 1, "E1", "", 4},
		{"deactivate-other-tenant", 1, "G1", "", 0},
		{"delete", 2, "S2", "", 0},
		{"delete-confirmed", 2, "S", "confirm=true", 0},
		{"delete-holder", 2, "E1", "", 0},
		{"delete-holder-confirmed", 2, "E1", "confirm=true", 0},
		{"delete-target-of-active", 2, "T", "confirm=true", 0},
		{"delete-deleted", 2, "E2", "confirm=true", 0},
		{"delete-confirm-bad", 2, "S", "confirm=yes", 0},
		{"delete-confirm-twice", 2, "S", "confirm=false&confirm=true", 0},
		{"delete-confirm-escaped", 2, "S", "confirm=%74rue", 0},
		{"delete-confirm-bad-escape", 2, "S", "confirm=%zz", 0},
		{"deletion", 3, "E1", "", 0},
		{"deletion-viewer", 3, "S", "", 5},
		{"account", 4, "S", "", 0},
		{"account-viewer-eng", 4, "E1", "", 5},
		{"account-unknown", 4, "nobody", "", 0},
		{"id-not-utf8", 0, "\xff\xfe", "", 0},
		{"id-nul", 4, "S\x00", "", 0},
		{"id-slash", 1, "S/deactivate", "", 0},
		{"id-percent", 1, "%", "", 0},
		{"id-dotdot", 1, "..", "", 0},
		{"id-empty", 1, "", "", 0},
		{"id-long", 4, strings.Repeat("x", 5000), "", 0},
		{"id-sql", 1, "S' OR '1'='1", "", 0},
		{"search", 5, "", "q=learner&limit=2&offset=1", 0},
		{"search-status", 5, "", "status=deleted", 0},
		{"search-status-bad", 5, "", "status=gone", 0},
		{"search-limit-zero", 5, "", "limit=0", 0},
		{"search-limit-max", 5, "", "limit=500", 0},
		{"search-limit-over", 5, "", "limit=501", 0},
		{"search-limit-huge", 5, "", "limit=9223372036854775808", 0},
		{"search-limit-exponent", 5, "", "limit=1e3", 0},
		{"search-offset-negative", 5, "", "offset=-1", 0},
		{"search-offset-huge", 5, "", "offset=1000000000", 0},
		{"search-q-long", 5, "", "q=" + strings.Repeat("q", 300), 0},
		{"search-q-wildcards", 5, "", "q=%25_%5C", 0},
		{"search-q-not-utf8", 5, "", "q=%FF%FE", 0},
		{"search-q-nul", 5, "", "q=%00", 0},
		{"search-viewer", 5, "", "", 5},
		{"search-anonymous", 5, "", "", 3},
	} {
		seeds = append(seeds, fuzzSeed{s.name, seed(s.action, s.id, s.query, s.who)})
	}
	fuzzAddSeeds(f, seeds)
	f.Fuzz(func(t *testing.T, action uint8, id, query string, who uint8) {
		fe.start(t)
		a := fuzzAccountActions[int(action)%len(fuzzAccountActions)]
		route := a.method + " " + fuzzT + "/accounts/{id}" + a.suffix
		target := fuzzT + "/accounts/" + url.PathEscape(id) + a.suffix
		if a.suffix == "search" {
			route, target = "GET "+fuzzT+"/accounts", fuzzT+"/accounts"
		} else if id == "" || id == "." || id == ".." {
			return // not this route: the router redirects or answers another one
		}
		if query != "" {
			target += "?" + query
		}
		u, err := url.Parse("http://usermerge.test" + target)
		if err != nil || u.Path != path.Clean(u.Path) || fuzzControl.MatchString(target) {
			return // not a request a client can send to this route
		}
		fe.exchange(t, who, route, target, "", nil, a.readOnly)
	})
}

var fuzzControl = regexp.MustCompile(`[\x00-\x20\x7f]`)
