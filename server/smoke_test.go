package server

import (
	"net/http"
	"testing"

	"usermerge/store/storetest"
)

func TestSignInMergeRevertOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.signIn("admin")
		var merged struct {
			Merges []struct {
				ID int64 `json:"id"`
			} `json:"merges"`
		}
		if st := c.call("POST", "/api/v1/tenants/acme/merges", map[string]any{"target": "T", "sources": []string{"S"}}, &merged); st != http.StatusCreated || len(merged.Merges) != 1 {
			t.Fatalf("merge: status %d, %+v", st, merged)
		}
		if st := c.call("POST", "/api/v1/tenants/acme/merges/revert", map[string]any{"merges": []int64{merged.Merges[0].ID}}, nil); st != http.StatusOK {
			t.Fatalf("revert: status %d", st)
		}
	})
}
