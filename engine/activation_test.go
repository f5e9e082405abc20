package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store/storetest"
)

// TestActivationRefusalsMatchActivate: what the Accounts screen is told
// before the click is exactly what Activate answers after it, for the
// accounts it refuses and for those it activates.
func TestActivationRefusalsMatchActivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.account("I", "east") // inactive, may be activated
		f.account("D", "east") // deleted
		f.account("X", "eng")  // outside sales-editor's groups
		f.merge("T", "S")
		if _, err := f.e.Deactivate(f.ctx, f.as("admin"), "I"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "D", true); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"admin", "sales-editor"} {
			refs := []string{"S", "I", "D", "T", "X"}
			before := snapshot(t, f.db)
			got, err := f.e.ActivationRefusals(f.ctx, f.as(who), refs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
				t.Fatalf("ActivationRefusals changed the database (-before +after):\n%s", diff)
			}
			for _, ref := range []string{"S", "D", "X", "I"} {
				if who == "admin" && ref == "X" {
					continue
				}
				msg, refused := got[ref]
				if ref == "I" {
					if refused {
						t.Errorf("%s: I may be activated, but is refused: %s", who, msg)
					}
					continue
				}
				_, err := f.e.Activate(f.ctx, f.as(who), ref)
				if !refused || err == nil || usermerge.ErrorMessage(err) != msg {
					t.Errorf("%s, %s: told %q (refused %v) before, Activate answers %v", who, ref, msg, refused, err)
				}
			}
		}
		if got, _ := f.e.ActivationRefusals(f.ctx, f.as("admin"), []string{"S"}); got["S"] == "" {
			t.Errorf("S is merged: no refusal")
		}
	})
}
