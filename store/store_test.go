package store_test

import (
	"context"
	"testing"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

func TestOpenMigratesAndReopens(t *testing.T) {
	storetest.Each(t, testOpenMigratesAndReopens)
}

func testOpenMigratesAndReopens(t *testing.T) {
	ctx := context.Background()
	path := storetest.URL(t)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Transact(ctx, func(tx *store.Tx) error {
		return tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "T", Policy: usermerge.Presets["schoox"]})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, path) // migrations must not run twice
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Tenant(ctx, "t1")
		if err != nil {
			return err
		}
		if got.Preset() != "schoox" {
			t.Errorf("preset = %q, want schoox", got.Preset())
		}
		_, err = tx.Tenant(ctx, "nope")
		if usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("missing tenant: got %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
