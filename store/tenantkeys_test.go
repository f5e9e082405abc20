package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"usermerge/store"
	"usermerge/store/storetest"
)

// tenantExempt are the tables whose keys need not lead with tenant_id, and
// why. Every other table must have a primary key, and its primary key, every
// index (unique or not) and every foreign key must lead with tenant_id, so
// that a deployment can distribute tenants over shards with tenant_id as
// the distribution column (PRODUCT.md §10).
var tenantExempt = map[string]string{
	"tenants":           "it is keyed by the tenant id itself (its id column)",
	"schema_migrations": "migration bookkeeping: one row per migration for the whole database, no tenant",
}

// keyPart is one primary key, index or foreign key and its first column.
type keyPart struct {
	table, kind, name, first string
}

// TestSchemaLeadsWithTenant reads the schema of both databases from their
// catalogs and fails on any primary key, index or foreign key that does not
// lead with tenant_id, outside the tables in tenantExempt.
func TestSchemaLeadsWithTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		var tables []string
		var keys []keyPart
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			if tx.Dialect() == "sqlite" {
				tables, keys, err = sqliteKeys(ctx, tx)
			} else {
				tables, keys, err = postgresKeys(ctx, tx)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"accounts", "merges", "signins", "sessions", "counters"} {
			if !slices.Contains(tables, want) {
				t.Fatalf("the catalog read found no table %s (found %v)", want, tables)
			}
		}
		for table := range tenantExempt {
			if !slices.Contains(tables, table) {
				t.Errorf("exempt table %s does not exist: remove it from tenantExempt", table)
			}
		}
		hasPK := map[string]bool{}
		for _, k := range keys {
			if k.kind == "primary key" {
				hasPK[k.table] = true
			}
			if _, ok := tenantExempt[k.table]; ok {
				continue
			}
			if k.first != "tenant_id" {
				t.Errorf("%s: %s %s leads with %q, not tenant_id", k.table, k.kind, k.name, k.first)
			}
		}
		for _, table := range tables {
			if _, ok := tenantExempt[table]; !ok && !hasPK[table] {
				t.Errorf("%s has no primary key", table)
			}
		}
		if len(keys) < 2*len(tables) {
			t.Errorf("only %d keys and indexes found for %d tables: the catalog read is broken", len(keys), len(tables))
		}
	})
}

func sqliteKeys(ctx context.Context, tx *store.Tx) (tables []string, keys []keyPart, err error) {
	tables, err = column(ctx, tx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	for _, table := range tables {
		// Primary key columns, in key order.
		rows, err := tx.Query(ctx, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
		if err != nil {
			return nil, nil, err
		}
		pk, err := scanStrings(rows)
		if err != nil {
			return nil, nil, err
		}
		if len(pk) > 0 {
			keys = append(keys, keyPart{table, "primary key", "", pk[0]})
		}
		idx, err := column(ctx, tx, `SELECT name FROM pragma_index_list(?) ORDER BY name`, table)
		if err != nil {
			return nil, nil, err
		}
		for _, name := range idx {
			var unique int
			var origin string
			if err := tx.QueryRow(ctx, `SELECT "unique", origin FROM pragma_index_list(?) WHERE name = ?`, table, name).Scan(&unique, &origin); err != nil {
				return nil, nil, err
			}
			// An expression column has no name: it cannot be tenant_id.
			cols, err := column(ctx, tx, `SELECT COALESCE(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, name)
			if err != nil {
				return nil, nil, err
			}
			kind := "index"
			switch {
			case origin == "pk":
				kind = "primary key index"
			case unique == 1:
				kind = "unique index"
			}
			keys = append(keys, keyPart{table, kind, name, first(cols)})
		}
		fks, err := column(ctx, tx, `SELECT "from" FROM pragma_foreign_key_list(?) WHERE seq = 0 ORDER BY id`, table)
		if err != nil {
			return nil, nil, err
		}
		for i, from := range fks {
			keys = append(keys, keyPart{table, "foreign key", fmt.Sprint(i), from})
		}
	}
	return tables, keys, nil
}

func postgresKeys(ctx context.Context, tx *store.Tx) (tables []string, keys []keyPart, err error) {
	tables, err = column(ctx, tx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, nil, err
	}
	// Every index of the schema's tables with its first key column (none
	// for an expression).
	rows, err := tx.Query(ctx, `SELECT t.relname, i.relname, x.indisprimary, x.indisunique, COALESCE(a.attname, '(expression)')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
		WHERE t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var k keyPart
		var primary, unique bool
		if err := rows.Scan(&k.table, &k.name, &primary, &unique, &k.first); err != nil {
			rows.Close()
			return nil, nil, err
		}
		k.kind = "index"
		switch {
		case primary:
			k.kind = "primary key"
		case unique:
			k.kind = "unique index"
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = tx.Query(ctx, `SELECT t.relname, c.conname, a.attname
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1]
		WHERE c.contype IN ('f', 'u', 'p') AND t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		k := keyPart{kind: "constraint"}
		if err := rows.Scan(&k.table, &k.name, &k.first); err != nil {
			rows.Close()
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	return tables, keys, rows.Err()
}

func column(ctx context.Context, tx *store.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

func scanStrings(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func first(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return strings.TrimSpace(cols[0])
}
