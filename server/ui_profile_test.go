package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"usermerge/store/storetest"
)

// TestMergeStateProfileChoice: the choice of profile values lives in the
// merge screen's URL, and a choice naming an account that is no longer to
// be merged (removed, or swapped to be kept) is dropped.
func TestMergeStateProfileChoice(t *testing.T) {
	q, _ := url.ParseQuery("keep=T&src=S&src=S2&pf_email=S&pf_name=S2&pf_phone=S")
	st := parseMergeState(q, false)
	if diff := cmp.Diff(map[string]string{"email": "S", "name": "S2"}, st.Profile); diff != "" {
		t.Errorf("parsed profile choice (-want +got):\n%s", diff)
	}
	if v := st.values(); v.Get("pf_email") != "S" || v.Get("pf_name") != "S2" || v.Has("pf_phone") {
		t.Errorf("state URL %s does not carry the profile choice exactly", v.Encode())
	}
	st.apply(url.Values{"remove": {"S2"}})
	if diff := cmp.Diff(map[string]string{"email": "S"}, st.Profile); diff != "" {
		t.Errorf("after removing S2 (-want +got):\n%s", diff)
	}
	st.apply(url.Values{"swap": {"S"}})
	if len(st.Profile) != 0 {
		t.Errorf("after keeping S instead: profile choice %v, want none", st.Profile)
	}
}

// TestUIMergeProfileRefused: a merge form naming a field or an account the
// merge cannot take a value from merges nothing and says why.
func TestUIMergeProfileRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		before := apiState(e)
		st, body := admin.raw("GET", "/ui/t/acme/merge?form=1&keep=T&src=S&pf_email=S3&step=preview", "", nil)
		if st != 422 || !strings.Contains(string(body), "not one of the accounts to merge") {
			t.Errorf("preview with the email of an account not merged: %d\n%s", st, body)
		}
		apiUnchanged(t, e, "a refused preview", before)
	})
}
