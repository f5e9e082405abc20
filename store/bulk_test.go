package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestBulkInsertFillsSearchLikeTriggers: accounts and external IDs loaded
// by BulkInsert (which on SQLite drops the search triggers during its
// transactions and fills the search text and grams in set-based
// statements) get the same search text and grams as the same rows
// inserted one by one through the triggers, and the triggers are back
// after the load: a row inserted after it is indexed too.
func TestBulkInsertFillsSearchLikeTriggers(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		accounts := [][]string{
			{"a1", "jmueller", "Jürgen.Müller@example.org", "Jürgen Müller"},
			{"a2", "odysseus", "ODYSSEUS@example.gr", "ΟΔΥΣΣΕΥΣ Ithaca"},
			{"a3", "nguyen", "", "Nguyễn Văn An"},
			{"a4", "istanbul", "i@example.tr", "İstanbul Öztürk"},
			{"a5", "late", "late@example.org", "Siobhan O'Brien"},
		}
		ext := [][]string{{"x1", "a1", "hr", "HR-Ärger-7"}, {"x2", "a2", "sis", "S 1234"}, {"x3", "a5", "hr", "HR-Œuvre"}}
		err := db.Transact(ctx, func(tx *store.Tx) error {
			for _, id := range []string{"bulk", "plain"} {
				if err := tx.PutTenant(ctx, usermerge.Tenant{ID: id, Name: id, Policy: usermerge.Presets["schoox"]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		insertAccount := func(tx *store.Tx, tenant string, a []string) error {
			_, err := tx.Exec(ctx, `INSERT INTO accounts (tenant_id, id, login, email, name, created_at) VALUES (?, ?, ?, ?, ?, 0)`, tenant, a[0], a[1], a[2], a[3])
			return err
		}
		insertExt := func(tx *store.Tx, tenant string, x []string) error {
			_, err := tx.Exec(ctx, `INSERT INTO external_ids (tenant_id, id, account_id, system, value) VALUES (?, ?, ?, ?, ?)`, tenant, x[0], x[1], x[2], x[3])
			return err
		}
		// The bulk tenant: two loads of accounts (each its own
		// transaction), one of external IDs, then one account and one
		// external ID inserted as the product does, through the triggers.
		bulk := func(table string, cols []string, rows [][]string) {
			t.Helper()
			n, err := db.BulkInsert(ctx, table, cols, func(yield func([]any) bool) {
				for _, r := range rows {
					row := []any{"bulk"}
					for _, v := range r {
						row = append(row, v)
					}
					if table == "accounts" {
						row = append(row, 0)
					}
					if !yield(row) {
						return
					}
				}
			}, nil)
			if err != nil || n != int64(len(rows)) {
				t.Fatalf("bulk insert into %s: %d rows, %v", table, n, err)
			}
		}
		accCols := []string{"tenant_id", "id", "login", "email", "name", "created_at"}
		bulk("accounts", accCols, accounts[:2])
		bulk("accounts", accCols, accounts[2:4])
		bulk("external_ids", []string{"tenant_id", "id", "account_id", "system", "value"}, ext[:2])
		err = db.Transact(ctx, func(tx *store.Tx) error {
			if err := insertAccount(tx, "bulk", accounts[4]); err != nil {
				return err
			}
			if err := insertExt(tx, "bulk", ext[2]); err != nil {
				return err
			}
			for _, a := range accounts {
				if err := insertAccount(tx, "plain", a); err != nil {
					return err
				}
			}
			for _, x := range ext {
				if err := insertExt(tx, "plain", x); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		queries := map[string]string{
			"accounts.search":   `SELECT id || ' ' || search FROM accounts WHERE tenant_id = ? ORDER BY id`,
			"external_ids":      `SELECT id || ' ' || search FROM external_ids WHERE tenant_id = ? ORDER BY id`,
			"account_grams":     `SELECT account_id || ' ' || gram FROM account_grams WHERE tenant_id = ? ORDER BY account_id, gram`,
			"external_id_grams": `SELECT external_id || ' ' || gram FROM external_id_grams WHERE tenant_id = ? ORDER BY external_id, gram`,
		}
		err = db.View(ctx, func(tx *store.Tx) error {
			for name, q := range queries {
				if name == "account_grams" || name == "external_id_grams" {
					if storetest.IsPostgres(t) {
						continue // PostgreSQL searches by a trigram index, with no gram table
					}
				}
				got, err := storetest.Lines(ctx, tx, q, "bulk")
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				want, err := storetest.Lines(ctx, tx, q, "plain")
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if len(want) == 0 {
					t.Errorf("%s: the triggers filled nothing", name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s after a bulk load:\n got %q\nwant %q", name, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
