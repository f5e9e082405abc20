package server

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store/storetest"
)

// TestAPIMergeProfile: the preview and the merge take a profile field from
// the source named in "profile"; the details show it and a revert gives it
// back; a field or account the request may not name is a 422 with nothing
// written.
func TestAPIMergeProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		before := apiState(e)
		for _, tc := range []struct {
			name    string
			profile map[string]string
			want    string
		}{
			{"an unknown field", map[string]string{"phone": "s.login"}, "422 unknown_profile_field"},
			{"an account not merged", map[string]string{"email": "s2.login"}, "422 profile_source_not_merged"},
			{"the target", map[string]string{"name": "T"}, "422 profile_source_not_merged"},
		} {
			for _, op := range []string{"/merges/preview", "/merges"} {
				st, body := apiSend(admin, "POST", apiAcme+op, MergeBody{Target: "T", Sources: []string{"S"}, Profile: tc.profile})
				apiExpect(t, op+" with "+tc.name, st, body, tc.want)
				apiUnchanged(t, e, op+" with "+tc.name, before)
			}
		}
		want := []usermerge.ProfileChange{{Field: "email", Label: "Email", Before: "t@example.test", After: "s@example.test", Source: "s.login"}}
		req := MergeBody{Target: "T", Sources: []string{"S"}, Profile: map[string]string{"email": "s.login"}}
		st, body := apiSend(admin, "POST", apiAcme+"/merges/preview", req)
		if apiExpect(t, "preview", st, body, "200") {
			if diff := cmp.Diff(want, apiDecode[usermerge.Preview](t, body).Profile); diff != "" {
				t.Errorf("preview profile (-want +got):\n%s", diff)
			}
		}
		st, body = apiSend(admin, "POST", apiAcme+"/merges", req)
		if !apiExpect(t, "merge", st, body, "201") {
			return
		}
		m := apiDecode[apiMergeAnswer](t, body).Merges
		if len(m) != 1 {
			t.Fatalf("merge: %s", body)
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/T", "", nil)
		if apiExpect(t, "GET the target", st, body, "200") {
			if a := apiDecode[usermerge.AccountSummary](t, body); a.Email != "s@example.test" || a.Name != "Learner T" {
				t.Errorf("target after the merge: %s <%s>, want Learner T <s@example.test>", a.Name, a.Email)
			}
		}
		st, body = admin.raw("GET", apiAcme+"/merges/"+strconv.FormatInt(m[0].ID, 10), "", nil)
		if apiExpect(t, "details", st, body, "200") {
			if diff := cmp.Diff(want, apiDecode[usermerge.MergeDetails](t, body).Merge.Profile); diff != "" {
				t.Errorf("details profile (-want +got):\n%s", diff)
			}
		}
		st, body = apiSend(admin, "POST", apiAcme+"/merges/revert", RevertBody{Merges: []int64{m[0].ID}})
		apiExpect(t, "revert", st, body, "200")
		st, body = admin.raw("GET", apiAcme+"/accounts/T", "", nil)
		if apiExpect(t, "GET the target after the revert", st, body, "200") {
			if a := apiDecode[usermerge.AccountSummary](t, body); a.Email != "t@example.test" {
				t.Errorf("target after the revert: <%s>, want its own email back", a.Email)
			}
		}
	})
}

// TestOpenAPIProfileFieldsAreTheList: the document names the profile fields
// of usermerge.ProfileFields, no more and no fewer.
func TestOpenAPIProfileFieldsAreTheList(t *testing.T) {
	doc, err := openAPIParsed()
	if err != nil {
		t.Fatal(err)
	}
	body := doc["components"].(map[string]any)["schemas"].(map[string]any)["MergeBody"].(map[string]any)
	names := body["properties"].(map[string]any)["profile"].(map[string]any)["propertyNames"].(map[string]any)["enum"].([]any)
	var got, want []string
	for _, n := range names {
		got = append(got, n.(string))
	}
	for _, f := range usermerge.ProfileFields {
		want = append(want, f.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("openapi.json's profile fields differ from usermerge.ProfileFields (-list +document):\n%s", diff)
	}
}
