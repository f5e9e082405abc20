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
