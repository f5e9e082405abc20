package match

import (
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	none, uk := PhoneOptions{}, PhoneOptions{CountryCode: "44"}
	cases := []struct {
		in   string
		opt  PhoneOptions
		want string
	}{
		// Formatting goes.
		{"020 7946 0000", uk, "2079460000"},
		{"(020) 7946-0000", uk, "2079460000"},
		{"020.7946.0000", none, "2079460000"},
		// The tenant's own country code, with "+" or "00", and "(0)".
		{"+44 20 7946 0000", uk, "2079460000"},
		{"0044 20 7946 0000", uk, "2079460000"},
		{"+44 (0)20 7946 0000", uk, "2079460000"},
		{" +442079460000 ", uk, "2079460000"},
		// Without a country code configured, the code stays.
		{"+44 20 7946 0000", none, "442079460000"},
		{"0044 20 7946 0000", none, "442079460000"},
		// Another country's code stays.
		{"+49 30 1234567", uk, "49301234567"},
		{"0049 30 1234567", uk, "49301234567"},
		// The code is stripped only from an international number.
		{"44 20 7946 0000", uk, "442079460000"},
		// An invalid country code setting is ignored.
		{"+44 20 7946 0000", PhoneOptions{CountryCode: "4x"}, "442079460000"},
		{"+44 20 7946 0000", PhoneOptions{CountryCode: "4444"}, "442079460000"},
		// All leading zeros go, so the result normalises to itself.
		{"+0012345678", none, "12345678"},
		{"012345678", none, "12345678"},
		// Not numbers.
		{"", uk, ""},
		{"n/a", uk, ""},
		{"+44", uk, ""},
		{"0123", none, ""},
		{"1234567890123456", none, ""}, // 16 digits
		{strings.Repeat(" ", MaxPhoneBytes) + "02079460000", uk, ""},
		{"\xff020 7946 0000", uk, "2079460000"},
	}
	for _, c := range cases {
		if got := NormalizePhone(c.in, c.opt); got != c.want {
			t.Errorf("NormalizePhone(%q, %+v) = %q, want %q", c.in, c.opt, got, c.want)
		}
	}
	// The bounds themselves are numbers.
	if got := NormalizePhone("12345", none); got != "12345" {
		t.Errorf("five digits: %q", got)
	}
	if got := NormalizePhone("123456789012345", none); got != "123456789012345" {
		t.Errorf("fifteen digits: %q", got)
	}
}

func TestComparePhones(t *testing.T) {
	none, uk := PhoneOptions{}, PhoneOptions{CountryCode: "44"}
	cases := []struct {
		a, b string
		opt  PhoneOptions
		want PhoneLevel
	}{
		{"020 7946 0000", "020 7946 0000", uk, PhoneExact},
		{"+44 20 7946 0000", "020 7946 0000", uk, PhoneExact},
		{"0044 (0)20 7946-0000", "02079460000", uk, PhoneExact},
		// Without the country code, an international and a national
		// spelling still share their last eight digits.
		{"+44 20 7946 0000", "020 7946 0000", none, PhoneSameTail},
		{"07700 900123", "+49 7700 900123", uk, PhoneSameTail},
		// Seven common trailing digits are not enough.
		{"020 7946 0000", "020 8946 0000", uk, PhoneDifferent},
		{"020 7946 0000", "020 7946 0001", uk, PhoneDifferent},
		// A tail needs eight digits on both sides.
		{"1234567", "91234567", none, PhoneDifferent},
		{"12345678", "912345678", none, PhoneSameTail},
		{"12345678", "12345678", none, PhoneExact},
		// Missing on either side.
		{"", "020 7946 0000", uk, PhoneMissing},
		{"020 7946 0000", "", uk, PhoneMissing},
		{"unknown", "020 7946 0000", uk, PhoneMissing},
		{"", "", uk, PhoneMissing},
	}
	for _, c := range cases {
		if got := ComparePhones(c.a, c.b, c.opt); got != c.want {
			t.Errorf("ComparePhones(%q, %q, %+v) = %v, want %v", c.a, c.b, c.opt, got, c.want)
		}
		if got := ComparePhones(c.b, c.a, c.opt); got != c.want {
			t.Errorf("ComparePhones(%q, %q, %+v) = %v, want %v (reversed)", c.b, c.a, c.opt, got, c.want)
		}
	}
}

func TestPhoneLevelString(t *testing.T) {
	want := []string{"missing", "exact", "same_last_8", "different"}
	for i, w := range want {
		if got := PhoneLevel(i).String(); got != w {
			t.Errorf("PhoneLevel(%d) = %q, want %q", i, got, w)
		}
	}
	if got := PhoneLevel(len(want)).String(); got != "unknown" {
		t.Errorf("PhoneLevel(%d) = %q", len(want), got)
	}
}
