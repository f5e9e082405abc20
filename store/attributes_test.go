package store_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

func attrsOf(t *testing.T, db *store.DB, tenant, id string) map[string]string {
	t.Helper()
	var a usermerge.Account
	err := db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		a, err = tx.Account(context.Background(), tenant, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.Attributes
}

// Attributes are stored, read back whole (known and free keys), replaced by
// the next write, and a write with bad attributes is refused unwritten.
func TestAccountAttributesStored(t *testing.T) { storetest.Each(t, testAccountAttributesStored) }

func testAccountAttributesStored(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	put := func(attrs map[string]string) error {
		return db.Transact(ctx, func(tx *store.Tx) error {
			a, err := tx.Account(ctx, "acme", "u-1001")
			if err != nil {
				return err
			}
			a.Attributes = attrs
			return tx.PutAccount(ctx, a)
		})
	}
	if got := attrsOf(t, db, "acme", "u-1001"); got != nil {
		t.Fatalf("an account imported without attributes has %v", got)
	}
	all := map[string]string{"given_name": "María", "family_name": "García", "birth_date": "1990-04-23",
		"phone": "+34 600 000 000", "employee_number": "E-77", "postcode": "28001", "locker": "B-12", "shoe_size": "39"}
	if err := put(all); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, attrsOf(t, db, "acme", "u-1001")); diff != "" {
		t.Errorf("attributes (-put +read):\n%s", diff)
	}
	// Another account of the tenant is untouched.
	if got := attrsOf(t, db, "acme", "u-1002"); got != nil {
		t.Errorf("u-1002 got attributes %v", got)
	}
	some := map[string]string{"birth_date": "1990-04-23", "shoe_size": "40", "phone": ""}
	if err := put(some); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"birth_date": "1990-04-23", "shoe_size": "40"}, attrsOf(t, db, "acme", "u-1001")); diff != "" {
		t.Errorf("attributes after a replace (-want +got):\n%s", diff)
	}
	for _, bad := range []map[string]string{
		{"birth_date": "1990-02-30"},
		{"Bad-Key": "x"},
		{"note": "a\nb"},
	} {
		err := put(bad)
		if usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("put %v: %v, want invalid", bad, err)
		}
	}
	if diff := cmp.Diff(map[string]string{"birth_date": "1990-04-23", "shoe_size": "40"}, attrsOf(t, db, "acme", "u-1001")); diff != "" {
		t.Errorf("a refused write changed the attributes (-want +got):\n%s", diff)
	}
	// The known keys are columns a duplicate search can block on.
	if got := ieQuery(t, db, `SELECT id FROM accounts WHERE tenant_id = 'acme' AND birth_date = '1990-04-23'`); got != "u-1001" {
		t.Errorf("birth_date column: %q", got)
	}
}

const attrAccount = `{"kind":"account","tenant":"acme","id":"u-1001","login":"mgarcia","created_at":"2023-02-01T08:00:00Z"`

// An import line sets the attributes it names, empties those it gives as
// "", and keeps those it leaves out; a line without attributes keeps all.
func TestImportAttributesKeepOmitted(t *testing.T) {
	storetest.Each(t, testImportAttributesKeepOmitted)
}

func testImportAttributesKeepOmitted(t *testing.T) {
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	steps := []struct {
		line string
		want map[string]string
	}{
		{attrAccount + `,"attributes":{"given_name":"Maria","birth_date":"1990-04-23","locker":"B-12"}}`,
			map[string]string{"given_name": "Maria", "birth_date": "1990-04-23", "locker": "B-12"}},
		{attrAccount + `}`,
			map[string]string{"given_name": "Maria", "birth_date": "1990-04-23", "locker": "B-12"}},
		{attrAccount + `,"attributes":{}}`,
			map[string]string{"given_name": "Maria", "birth_date": "1990-04-23", "locker": "B-12"}},
		{attrAccount + `,"attributes":{"phone":"+34 600","locker":""}}`,
			map[string]string{"given_name": "Maria", "birth_date": "1990-04-23", "phone": "+34 600"}},
		{attrAccount + `,"attributes":{"given_name":"","birth_date":"","phone":""}}`, nil},
	}
	for i, s := range steps {
		ieImport(t, db, s.line+"\n")
		if diff := cmp.Diff(s.want, attrsOf(t, db, "acme", "u-1001")); diff != "" {
			t.Errorf("step %d: attributes (-want +got):\n%s", i, diff)
		}
	}
}

// A bad attribute fails the import naming its line and field, and
// nothing of the file is written.
func TestImportAttributesBadLine(t *testing.T) { storetest.Each(t, testImportAttributesBadLine) }

func testImportAttributesBadLine(t *testing.T) {
	good := `{"kind":"account","tenant":"acme","id":"u-2001","login":"new1","created_at":"2024-01-01T00:00:00Z","attributes":{"birth_date":"2000-01-01"}}`
	long := strings.Repeat("é", usermerge.MaxAttributeValue+1)
	var many strings.Builder
	for i := range usermerge.MaxAttributes + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"k%d":"v"`, i)
	}
	cases := []struct{ name, attrs, want string }{
		{"not an object", `"given_name=Maria"`, `attributes must be an object, not a string`},
		{"value not a string", `{"employee_number":42}`, `attributes.employee_number must be a string, not a number 42`},
		{"no such day", `{"birth_date":"1990-02-30"}`, `birth_date must be a date written YYYY-MM-DD`},
		{"month 13", `{"birth_date":"1990-13-01"}`, `birth_date must be a date written YYYY-MM-DD`},
		{"other date form", `{"birth_date":"23/04/1990"}`, `birth_date must be a date written YYYY-MM-DD`},
		{"date with time", `{"birth_date":"1990-04-23T00:00:00Z"}`, `birth_date must be a date written YYYY-MM-DD`},
		{"upper-case key", `{"Locker":"1"}`, `attribute key "Locker" must be lower-case letters`},
		{"key with dash", `{"shoe-size":"1"}`, `attribute key "shoe-size" must be lower-case letters`},
		{"key starting with digit", `{"1st":"1"}`, `attribute key "1st" must be lower-case letters`},
		{"empty key", `{"":"1"}`, `attribute key "" must not be empty`},
		{"long key", `{"` + strings.Repeat("k", usermerge.MaxAttributeKey+1) + `":"1"}`, `is longer than 40 characters`},
		{"long value", `{"note":"` + long + `"}`, `attribute note is longer than 200 characters`},
		{"newline", `{"note":"a\nb"}`, `attribute note must not contain control characters`},
		{"NUL", `{"note":"a\u0000b"}`, `must not contain the NUL character`},
		{"duplicate key", `{"note":"a","note":"b"}`, `field "attributes.note" appears twice`},
		{"too many", `{` + many.String() + `}`, `at most 50 attributes`},
	}
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	before := ieSnapshot(t, db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := good + "\n" + `{"kind":"account","tenant":"acme","id":"u-2002","login":"new2","created_at":"2024-01-01T00:00:00Z","attributes":` + tc.attrs + "}\n"
			_, err := db.Import(context.Background(), strings.NewReader(in))
			ieCheckBadLine(t, err, 2, tc.want)
			if after := ieSnapshot(t, db); after != before {
				t.Errorf("a failed import changed the database:\n%s", cmp.Diff(before, after))
			}
		})
	}
}

// CSV carries the known attributes as columns of their names and free keys
// as attr:KEY; export → import → export gives the same file and the same
// attributes, and only columns some account uses are exported.
func TestAccountsCSVAttributes(t *testing.T) { storetest.Each(t, testAccountsCSVAttributes) }

func testAccountsCSVAttributes(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	ieImport(t, db, ieExample(t))
	in := "id,login,given_name,family_name,birth_date,attr:locker,Attr:Shoe_Size\n" +
		"u-1001,mgarcia,María,García,1990-04-23,=B12,\n" +
		"u-1002,maria.garcia,Maria,,1990-04-23,,39\n"
	if _, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"given_name": "María", "family_name": "García", "birth_date": "1990-04-23", "locker": "=B12"},
		attrsOf(t, db, "acme", "u-1001")); diff != "" {
		t.Errorf("u-1001 (-want +got):\n%s", diff)
	}
	// A file without a column keeps that attribute; an empty cell empties it.
	if _, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader("id,login,attr:locker\nu-1002,maria.garcia,L-2\nu-1001,mgarcia,\n")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"given_name": "María", "family_name": "García", "birth_date": "1990-04-23"},
		attrsOf(t, db, "acme", "u-1001")); diff != "" {
		t.Errorf("u-1001 after a partial file (-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	if err := db.ExportAccountsCSV(ctx, &out, "acme"); err != nil {
		t.Fatal(err)
	}
	want := `id,login,email,name,status,created_at,groups,jobs,given_name,family_name,birth_date,attr:locker,attr:shoe_size
u-1001,mgarcia,maria@acme.test,Maria Garcia,active,2023-02-01T08:00:00.000Z,g-sales,j-rep,María,García,1990-04-23,,
u-1002,maria.garcia,maria.garcia@acme.test,María García,active,2024-03-15T10:30:00.000Z,g-sales,,Maria,,1990-04-23,L-2,39
u-1003,jchen,jun@acme.test,Jun Chen,active,2022-11-20T09:00:00.000Z,g-support,j-agent,,,,,
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("CSV export (-want +got):\n%s", diff)
	}
	// Into an empty tenant and out again: the same file, the same NDJSON accounts.
	db2 := ieOpen(t)
	ieImport(t, db2, ieKeep(ieExample(t), func(l string) bool {
		k := ieKind(l)
		return k == "tenant" || k == "group" || k == "job"
	}))
	if _, err := db2.ImportAccountsCSV(ctx, "acme", strings.NewReader(out.String())); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := db2.ExportAccountsCSV(ctx, &again, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.String(), again.String()); diff != "" {
		t.Errorf("CSV export → import → export (-first +second):\n%s", diff)
	}
	accounts := func(l string) bool { return ieKind(l) == "account" }
	if diff := cmp.Diff(ieKeep(ieExport(t, db, "acme", ""), accounts), ieKeep(ieExport(t, db2, "acme", ""), accounts)); diff != "" {
		t.Errorf("accounts after the CSV round trip (-want +got):\n%s", diff)
	}
	// The formula guard applies to attribute cells too.
	if !strings.Contains(ieExport(t, db, "acme", ""), `"locker":"L-2"`) {
		t.Errorf("NDJSON export lacks the free key:\n%s", ieExport(t, db, "acme", ""))
	}
	db3 := ieOpen(t)
	ieImport(t, db3, ieExample(t))
	if _, err := db3.ImportAccountsCSV(ctx, "acme", strings.NewReader("id,login,attr:locker\nu-1001,mgarcia,=B12\n")); err != nil {
		t.Fatal(err)
	}
	var esc bytes.Buffer
	if err := db3.ExportAccountsCSV(ctx, &esc, "acme"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(esc.String(), ",'=B12\n") {
		t.Errorf("an attribute that starts a formula is not escaped:\n%s", esc.String())
	}
}

func TestAccountsCSVAttributesBadRow(t *testing.T) {
	storetest.Each(t, testAccountsCSVAttributesBadRow)
}

func testAccountsCSVAttributesBadRow(t *testing.T) {
	const header = "id,login,birth_date,attr:note\n"
	const good = "u-2001,n1,2000-01-01,ok\n"
	cases := []struct {
		name, in string
		line     int
		want     string
	}{
		{"bad free key", "id,login,attr:Shoe-Size\n", 1, `attribute key "shoe-size" must be lower-case letters`},
		{"empty free key", "id,login,attr:\n", 1, `attribute key "" must not be empty`},
		{"known key as free", "id,login,attr:birth_date\n", 1, `birth_date is a known attribute, its column is "birth_date"`},
		{"unknown column", "id,login,birthdate\n", 1, `unknown column "birthdate"`},
		{"bad date", header + good + "u-2002,n2,2001-02-29,\n", 3, `birth_date must be a date written YYYY-MM-DD`},
		{"control character", header + good + "u-2002,n2,,\"a\nb\"\n", 3, `attribute note must not contain control characters`},
		{"long value", header + good + "u-2002,n2,," + strings.Repeat("x", 201) + "\n", 3, `attribute note is longer than 200 characters`},
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
}
