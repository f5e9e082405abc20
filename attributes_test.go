package usermerge_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
)

func TestValidateAttribute(t *testing.T) {
	cases := []struct {
		key, value string
		want       string // part of the error; "" for valid
	}{
		{"given_name", "María José", ""},
		{"family_name", "O'Brien-Nguyễn", ""},
		{"birth_date", "1990-04-23", ""},
		{"birth_date", "2000-02-29", ""}, // a leap day
		{"birth_date", "", ""},           // no value
		{"birth_date", "1900-02-29", "YYYY-MM-DD"},
		{"birth_date", "1990-02-30", "YYYY-MM-DD"},
		{"birth_date", "1990-4-23", "YYYY-MM-DD"},
		{"birth_date", "1990-04-23 ", "YYYY-MM-DD"},
		{"birth_date", "23.04.1990", "YYYY-MM-DD"},
		{"phone", "+44 20 7946 0000", ""},
		{"locker", "B-12", ""},
		{"a", "x", ""},
		{"a_1", "x", ""},
		{strings.Repeat("k", 40), "x", ""},
		{strings.Repeat("k", 41), "x", "longer than 40"},
		{"", "x", "must not be empty"},
		{"Locker", "x", "lower-case"},
		{"_x", "x", "lower-case"},
		{"9x", "x", "lower-case"},
		{"shoe size", "x", "lower-case"},
		{"schuhgröße", "x", "lower-case"},
		{"note", strings.Repeat("é", 200), ""},
		{"note", strings.Repeat("é", 201), "longer than 200"},
		{"note", "tab\there", "control characters"},
		{"note", "line\nbreak", "control characters"},
		{"note", "del\u007f", "control characters"},
		{"note", "c1\u0085", "control characters"},
		{"note", "bad \xff", "UTF-8"},
	}
	for _, tc := range cases {
		err := usermerge.ValidateAttribute(tc.key, tc.value)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateAttribute(%q, %q) = %v, want valid", tc.key, tc.value, err)
		case tc.want != "" && err == nil:
			t.Errorf("ValidateAttribute(%q, %q) is valid, want an error with %q", tc.key, tc.value, tc.want)
		case tc.want != "" && (usermerge.ErrorCode(err) != usermerge.Invalid || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateAttribute(%q, %q) = %s %v, want invalid with %q", tc.key, tc.value, usermerge.ErrorCode(err), err, tc.want)
		}
	}
}

func TestValidateAttributesCount(t *testing.T) {
	m := map[string]string{}
	for i := range usermerge.MaxAttributes {
		m["k"+strings.Repeat("x", i%30)+string(rune('a'+i/30))] = "v"
	}
	if err := usermerge.ValidateAttributes(m); err != nil {
		t.Errorf("%d attributes: %v", len(m), err)
	}
	m["one_more"] = "v"
	if err := usermerge.ValidateAttributes(m); err == nil {
		t.Errorf("%d attributes are valid, want at most %d", len(m), usermerge.MaxAttributes)
	}
	if err := usermerge.ValidateAttributes(map[string]string{"birth_date": "1990-01-01", "Bad": "x"}); err == nil {
		t.Error("a bad key among good ones is valid")
	}
}

func TestAttributeKeysOrder(t *testing.T) {
	m := map[string]string{"zeta": "1", "postcode": "2", "alpha": "3", "given_name": "4", "birth_date": "5"}
	want := []string{"given_name", "birth_date", "postcode", "alpha", "zeta"}
	if diff := cmp.Diff(want, usermerge.AttributeKeys(m)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if got := usermerge.AttributeLabel("employee_number"); got != "Employee number" {
		t.Errorf("label = %q", got)
	}
	if got := usermerge.AttributeLabel("locker"); got != "locker" {
		t.Errorf("free key label = %q", got)
	}
}

func TestCompactAttributes(t *testing.T) {
	if got := usermerge.CompactAttributes(map[string]string{"phone": "", "x": ""}); got != nil {
		t.Errorf("all empty: %v, want nil", got)
	}
	got := usermerge.CompactAttributes(map[string]string{"phone": "", "x": "1"})
	if diff := cmp.Diff(map[string]string{"x": "1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
