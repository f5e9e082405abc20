package match

import (
	"strings"
	"testing"
)

func TestParseBirthDate(t *testing.T) {
	cases := []struct {
		in      string
		y, m, d int
		ok      bool
	}{
		{"1990-03-04", 1990, 3, 4, true},
		{" 2000-02-29\n", 2000, 2, 29, true},
		{"1900-02-29", 0, 0, 0, false}, // not a leap year
		{"1990-02-30", 0, 0, 0, false},
		{"1990-13-01", 0, 0, 0, false},
		{"1990-3-4", 0, 0, 0, false},
		{"04/03/1990", 0, 0, 0, false},
		{"1990-03-04T00:00:00Z", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"\xff\xfe", 0, 0, 0, false},
	}
	for _, c := range cases {
		y, m, d, ok := ParseBirthDate(c.in)
		if y != c.y || m != c.m || d != c.d || ok != c.ok {
			t.Errorf("ParseBirthDate(%q) = %d, %d, %d, %v; want %d, %d, %d, %v", c.in, y, m, d, ok, c.y, c.m, c.d, c.ok)
		}
	}
}

func TestCompareBirthDates(t *testing.T) {
	cases := []struct {
		a, b string
		want DateLevel
	}{
		{"1990-03-04", "1990-03-04", DateExact},
		{" 1990-03-04", "1990-03-04 ", DateExact},
		// Day and month exchanged; not when the year differs too.
		{"1990-03-04", "1990-04-03", DateSwapped},
		{"1990-03-12", "1990-12-03", DateSwapped},
		{"1990-03-04", "1991-04-03", DateDifferent},
		// One component differs.
		{"1990-03-04", "1990-03-14", DateOneDiffers}, // day
		{"1990-03-04", "1990-08-04", DateOneDiffers}, // month
		{"1990-03-04", "1980-03-04", DateOneDiffers}, // year, by ten
		{"1990-03-04", "1992-03-04", DateOneDiffers}, // year, by two
		// The year by exactly one, either way.
		{"1990-03-04", "1991-03-04", DateYearOff},
		{"1991-03-04", "1990-03-04", DateYearOff},
		{"1999-12-31", "2000-12-31", DateYearOff},
		// Two or three components differ.
		{"1990-03-04", "1990-05-06", DateDifferent},
		{"1990-03-04", "1991-03-05", DateDifferent},
		{"1990-03-04", "1985-11-20", DateDifferent},
		// Missing on either side.
		{"", "1990-03-04", DateMissing},
		{"1990-03-04", "", DateMissing},
		{"", "", DateMissing},
		{"1990-02-30", "1990-02-30", DateMissing},
		{"1990-03-04", "04.03.1990", DateMissing},
		{"unknown", "1990-03-04", DateMissing},
		{strings.Repeat(" ", MaxDateBytes) + "1990-03-04", "1990-03-04", DateMissing},
	}
	for _, c := range cases {
		if got := CompareBirthDates(c.a, c.b); got != c.want {
			t.Errorf("CompareBirthDates(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := CompareBirthDates(c.b, c.a); got != c.want {
			t.Errorf("CompareBirthDates(%q, %q) = %v, want %v (reversed)", c.b, c.a, got, c.want)
		}
	}
}

func TestDateLevelString(t *testing.T) {
	want := []string{"missing", "exact", "day_month_swapped", "one_component", "year_off_by_one", "different"}
	for i, w := range want {
		if got := DateLevel(i).String(); got != w {
			t.Errorf("DateLevel(%d) = %q, want %q", i, got, w)
		}
	}
	if got := DateLevel(-1).String(); got != "unknown" {
		t.Errorf("DateLevel(-1) = %q", got)
	}
	if got := DateLevel(len(want)).String(); got != "unknown" {
		t.Errorf("DateLevel(%d) = %q", len(want), got)
	}
}
