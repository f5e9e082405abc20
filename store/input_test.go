package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// What comes in from outside: ids and logins in one clean form, and CSV
// cells a spreadsheet could take for formulas.

const inTenant = `{"kind":"tenant","id":"acme","name":"Acme Academy"}
{"kind":"group","tenant":"acme","id":"g-1","name":"One"}
`

func inAccount(id, login string) string {
	return `{"kind":"account","tenant":"acme","id":"` + id + `","login":"` + login + `","name":"N","created_at":"2024-01-01T00:00:00Z"}` + "\n"
}

func TestImportCleansIDsAndLogins(t *testing.T) { storetest.Each(t, testImportCleansIDsAndLogins) }

func testImportCleansIDsAndLogins(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	// Surrounding spaces go; a decomposed é becomes the precomposed one.
	ieImport(t, db, inTenant+inAccount(" u-1 ", `Jose\u0301`)+
		`{"kind":"membership","tenant":"acme","account":"u-1\t","group":" g-1"}`+"\n")
	if got := ieQuery(t, db, `SELECT login FROM accounts WHERE id = 'u-1'`); got != "Jos\u00e9" {
		t.Errorf("stored login = %q, want the NFC form %q", got, "Jos\u00e9")
	}
	// Lookups take the same form: the decomposed login and a padded id
	// find the account.
	err := db.View(ctx, func(tx *store.Tx) error {
		for _, ref := range []string{"Jose\u0301", "  u-1 ", "Jos\u00e9"} {
			a, err := tx.AccountByRef(ctx, "acme", ref)
			if err != nil {
				return err
			}
			if a.ID != "u-1" {
				t.Errorf("AccountByRef(%q) = %q, want u-1", ref, a.ID)
			}
		}
		_, err := tx.AccountByRef(ctx, "acme", "u-\u200b1")
		if usermerge.ErrorReason(err) != "invalid_id" {
			t.Errorf("AccountByRef with a zero-width space: %v, want invalid_id", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second account whose login differs only by normalisation is the
	// same login, so it is refused as taken.
	_, err = db.Import(ctx, strings.NewReader(inAccount("u-2", "Jos\u00e9")))
	ieCheckBadLine(t, err, 1, `login "José" is already used by account "u-1"`)

	before := ieSnapshot(t, db)
	for _, c := range []struct{ line, want string }{
		{inAccount("u-3", `mgar\u200bcia`), `login "mgar\u200bcia" holds an invisible or control character (U+200B`},
		{inAccount("u-3", `\u202eaicragm`), "U+202E"},
		{inAccount("u-3", `m\u00a0garcia`), "U+00A0"},
		{inAccount("u-3", `mg\u00adarcia`), "U+00AD"},
		{inAccount("u-3", `mgarcia\u200e`), "U+200E"},
		{inAccount(`u-\ufeff3`, "x"), `id "u-\ufeff3" holds an invisible`},
		{`{"kind":"group","tenant":"acme","id":"g-2","parent":"g-\u200d1"}`, "parent"},
		{`{"kind":"admin","tenant":"acme","id":"a-1","login":"ad\u2060min","role":"tenant_admin"}`, "U+2060"},
		{`{"kind":"signin","tenant":"acme","id":"s\u200c1","account":"u-1","at":"2024-01-01T00:00:00Z"}`, "U+200C"},
	} {
		_, err := db.Import(ctx, strings.NewReader(c.line))
		ieCheckBadLine(t, err, 1, c.want)
	}
	// Accounts CSV: the same rules.
	for _, c := range []struct{ file, want string }{
		{"id,login\nu-4,mg\u200barcia\n", "U+200B"},
		{"id,login\nu\u2066-4\u2069,x\n", "U+2066"},
		{"id,login,groups\nu-4,x,g-1;g\u200b-1\n", "groups"},
	} {
		_, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader(c.file))
		ieCheckBadLine(t, err, 2, c.want)
	}
	if after := ieSnapshot(t, db); after != before {
		t.Errorf("refused imports changed the database:\n%s", cmp.Diff(before, after))
	}
	if _, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader("id,login\n u-5 ,Rene\u0301\n")); err != nil {
		t.Fatal(err)
	}
	if got := ieQuery(t, db, `SELECT login FROM accounts WHERE id = 'u-5'`); got != "Ren\u00e9" {
		t.Errorf("CSV login stored as %q, want %q", got, "Ren\u00e9")
	}
}

// The CSV export neutralises cells a spreadsheet would run as formulas
// (OWASP): a leading quote. Importing the file gives the values back.
func TestAccountsCSVFormulaInjection(t *testing.T) {
	storetest.Each(t, testAccountsCSVFormulaInjection)
}

func testAccountsCSVFormulaInjection(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	names := map[string]string{
		"u-1": `=HYPERLINK("http://evil.test","x")`,
		"u-2": "+1+cmd|' /C calc'!A0",
		"u-3": "-2+3",
		"u-4": "@SUM(A1:A2)",
		"u-5": "\tTab",
		"u-6": "\rCR",
		"u-7": "'=already quoted",
		"u-8": "'Tis Sally",
		"u-9": "Plain = name",
	}
	file := inTenant + `{"kind":"group","tenant":"acme","id":"=g","name":"eq"}` + "\n"
	for id, name := range names {
		file += `{"kind":"account","tenant":"acme","id":"` + id + `","login":"l` + id + `","email":"` + id + `@x.test","name":` + jsonString(name) + `,"created_at":"2024-01-01T00:00:00Z"}` + "\n"
	}
	file += `{"kind":"account","tenant":"acme","id":"-u-10","login":"@u10","email":"=u10@x.test","created_at":"2024-01-01T00:00:00Z"}` + "\n"
	file += `{"kind":"membership","tenant":"acme","account":"-u-10","group":"=g"}` + "\n"
	ieImport(t, db, file)
	var out bytes.Buffer
	if err := db.ExportAccountsCSV(ctx, &out, "acme"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("exported cell %q starts a formula", cell)
			}
		}
	}
	wantName := map[string]string{
		"u-1": `'=HYPERLINK("http://evil.test","x")`, "u-2": "'+1+cmd|' /C calc'!A0", "u-3": "'-2+3", "u-4": "'@SUM(A1:A2)",
		"u-5": "'\tTab", "u-6": "'\rCR", "u-7": "''=already quoted", "u-8": "'Tis Sally", "u-9": "Plain = name",
	}
	for id, want := range wantName {
		if r := got[id]; r == nil || r[3] != want {
			t.Errorf("%s: exported name %q, want %q", id, r, want)
		}
	}
	if r := got["'-u-10"]; r == nil || r[1] != "'@u10" || r[2] != "'=u10@x.test" || r[6] != "'=g" {
		t.Errorf("-u-10 exported as %q, want every cell quoted", r)
	}

	// Round trip: the file imports back into a tenant with the same group,
	// and the accounts hold the original values.
	db2 := ieOpen(t)
	ieImport(t, db2, inTenant+`{"kind":"group","tenant":"acme","id":"=g","name":"eq"}`+"\n")
	if _, err := db2.ImportAccountsCSV(ctx, "acme", strings.NewReader(out.String())); err != nil {
		t.Fatal(err)
	}
	for id, name := range names {
		if got := ieQuery(t, db2, `SELECT name FROM accounts WHERE id = '`+id+`'`); got != name {
			t.Errorf("%s: name after CSV round trip %q, want %q", id, got, name)
		}
	}
	if got := ieQuery(t, db2, `SELECT login || ' ' || email FROM accounts WHERE id = '-u-10'`); got != "@u10 =u10@x.test" {
		t.Errorf("-u-10 after round trip: %q", got)
	}
	if got := ieQuery(t, db2, `SELECT group_id FROM memberships WHERE account_id = '-u-10'`); got != "=g" {
		t.Errorf("-u-10's group after round trip: %q", got)
	}
	var again bytes.Buffer
	if err := db2.ExportAccountsCSV(ctx, &again, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.String(), again.String()); diff != "" {
		t.Errorf("CSV export → import → export (-first +second):\n%s", diff)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// An import line keeps what it leaves out, and an import never deletes an
// account behind the engine's back.
func TestImportKeepsWhatALineOmits(t *testing.T) { storetest.Each(t, testImportKeepsWhatALineOmits) }

func testImportKeepsWhatALineOmits(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	ieImport(t, db, strings.Join([]string{
		`{"kind":"tenant","id":"acme","policy":{"badges":"stay"}}`,
		`{"kind":"group","tenant":"acme","id":"g-sales"}`,
		`{"kind":"job","tenant":"acme","id":"j-rep"}`,
		`{"kind":"account","tenant":"acme","id":"u-1001","login":"mgarcia","created_at":"2023-02-01T08:00:00Z"}`,
		`{"kind":"admin","tenant":"acme","id":"adm-2","login":"jun.manager","role":"group_manager"}`,
	}, "\n"))
	for _, c := range []struct{ q, want string }{
		{`SELECT name || '|' || badges FROM tenants WHERE id = 'acme'`, "Acme Academy|stay"},
		{`SELECT name || '|' || COALESCE(parent_id, '-') FROM groups WHERE id = 'g-sales'`, "Sales|g-root"},
		{`SELECT title FROM jobs WHERE id = 'j-rep'`, "Sales representative"},
		{`SELECT name || '|' || email FROM accounts WHERE id = 'u-1001'`, "Maria Garcia|maria@acme.test"},
		{`SELECT name || '|' || COALESCE(account_id, '-') FROM admins WHERE id = 'adm-2'`, "Jun Chen|u-1003"},
		{`SELECT CAST(COUNT(*) AS TEXT) FROM admin_scopes WHERE admin_id = 'adm-2'`, "2"},
	} {
		if got := ieQuery(t, db, c.q); got != c.want {
			t.Errorf("%s = %q, want %q (kept)", c.q, got, c.want)
		}
	}
	// Fields given empty do empty them; "parent":"" makes a group top-level.
	ieImport(t, db, strings.Join([]string{
		`{"kind":"tenant","id":"acme","name":""}`,
		`{"kind":"group","tenant":"acme","id":"g-sales","name":"","parent":""}`,
		`{"kind":"account","tenant":"acme","id":"u-1001","login":"mgarcia","email":"","created_at":"2023-02-01T08:00:00Z"}`,
	}, "\n"))
	for _, c := range []struct{ q, want string }{
		{`SELECT '[' || name || ']' FROM tenants WHERE id = 'acme'`, "[]"},
		{`SELECT '[' || name || ']' || COALESCE(parent_id, '-') FROM groups WHERE id = 'g-sales'`, "[]-"},
		{`SELECT name || '|[' || email || ']' FROM accounts WHERE id = 'u-1001'`, "Maria Garcia|[]"},
	} {
		if got := ieQuery(t, db, c.q); got != c.want {
			t.Errorf("%s = %q, want %q", c.q, got, c.want)
		}
	}

	// deleted_at on a live account is refused: deletion has effects on
	// merges that only the delete command applies. Nothing is written.
	before := ieSnapshot(t, db)
	_, err := db.Import(ctx, strings.NewReader(`{"kind":"tenant","id":"acme","name":"Changed"}`+"\n"+
		`{"kind":"account","tenant":"acme","id":"u-1002","login":"maria.garcia","created_at":"2024-03-15T10:30:00Z","deleted_at":"2025-01-01T00:00:00Z"}`))
	ieCheckBadLine(t, err, 2, `account "u-1002" exists and is not deleted; an import does not delete accounts: delete it with "usermerge --tenant acme --as ADMIN delete u-1002"`)
	if after := ieSnapshot(t, db); after != before {
		t.Errorf("a refused import changed the database:\n%s", cmp.Diff(before, after))
	}
	// A new account may come as a tombstone (deleted on the platform), and
	// a tombstone keeps its time when a line names another.
	ieImport(t, db, `{"kind":"account","tenant":"acme","id":"u-9","login":"gone","created_at":"2020-01-01T00:00:00Z","deleted_at":"2021-01-01T00:00:00Z"}`)
	ieImport(t, db, `{"kind":"account","tenant":"acme","id":"u-9","login":"gone","created_at":"2020-01-01T00:00:00Z","deleted_at":"2022-01-01T00:00:00Z"}`)
	ieImport(t, db, `{"kind":"account","tenant":"acme","id":"u-9","login":"gone","created_at":"2020-01-01T00:00:00Z"}`)
	if got := ieQuery(t, db, `SELECT CAST(deleted_at AS TEXT) FROM accounts WHERE id = 'u-9'`); got != "1609459200000" {
		t.Errorf("u-9 deleted_at = %s, want the first tombstone's time", got)
	}
}
