package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// The migrations are hand-written SQL; the record kinds' descriptors
// (usermerge.Specs) are the truth the rest of the code derives from. This
// test fails when the two disagree: a kind whose table lacks a field, has a
// column no descriptor names, or stores a field with another type or
// nullability.
func TestMigrationsMatchKindDescriptors(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		db := storetest.Open(t)
		ctx := context.Background()
		// bookkeeping columns every record table has besides its fields,
		// and columns kept for search
		extra := map[string]string{"moved_by": "int null", "retired_by": "int null", "search": "text"}
		for _, spec := range usermerge.Specs {
			want := []string{"tenant_id text"}
			if spec.Shape != usermerge.ShapeLeave {
				want = append(want, "id text")
			}
			want = append(want, "account_id text")
			for _, f := range spec.Fields {
				want = append(want, f.Name+" "+sqlType(f.Type))
			}
			var got []string
			err := db.View(ctx, func(tx *store.Tx) error {
				cols, err := columns(ctx, tx, spec.Table)
				for _, c := range cols {
					name, typ, _ := strings.Cut(c, " ")
					if x, ok := extra[name]; ok {
						if name == "search" { // PostgreSQL computes it: a generated column is nullable
							typ = strings.TrimSuffix(typ, " null")
						}
						if x != typ {
							t.Errorf("%s.%s is %s, want %s", spec.Table, name, typ, x)
						}
						continue
					}
					got = append(got, c)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Errorf("kind %s: no table %s in the migrations", spec.Kind, spec.Table)
				continue
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("kind %s: table %s and descriptor disagree (-descriptor +migration):\n%s", spec.Kind, spec.Table, diff)
			}
		}
	})
}

func sqlType(t usermerge.FieldType) string {
	switch t {
	case usermerge.Text, usermerge.Answers:
		return "text"
	case usermerge.Real:
		return "real"
	case usermerge.TimeNull:
		return "int null"
	}
	return "int"
}

// columns lists a table's columns in order as "name type[ null]", the type
// one of text, int, real.
func columns(ctx context.Context, tx *store.Tx, table string) ([]string, error) {
	q := `SELECT name, type, "notnull" FROM pragma_table_info(?) ORDER BY cid`
	if tx.Dialect() == "postgres" {
		q = `SELECT column_name, data_type, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	rows, err := tx.Query(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		var notNull int
		if err := rows.Scan(&name, &typ, &notNull); err != nil {
			return nil, err
		}
		switch strings.ToLower(typ) {
		case "text":
			typ = "text"
		case "integer", "bigint", "smallint":
			typ = "int"
		case "real", "double precision":
			typ = "real"
		}
		if notNull == 0 {
			typ += " null"
		}
		out = append(out, name+" "+typ)
	}
	return out, rows.Err()
}
