package match

import (
	"strings"
	"time"
)

// MaxDateBytes is the longest birth date string read; a longer one is not a
// date and compares as missing.
const MaxDateBytes = 32

// DateLevel is how closely two birth dates agree, in the order listed
// (DateMissing says nothing either way). The levels after DateExact are
// disjoint: DateOneDiffers never holds for a pair that DateYearOff holds for.
type DateLevel int

const (
	DateMissing    DateLevel = iota // either side empty or not a YYYY-MM-DD calendar date
	DateExact                       // the same date
	DateSwapped                     // same year, day and month exchanged (1990-03-04 / 1990-04-03)
	DateOneDiffers                  // exactly one of year, month, day differs (a year only when not by one)
	DateYearOff                     // year differs by one, same month and day
	DateDifferent                   // none of the above
)

var dateLevelNames = [...]string{
	DateMissing: "missing", DateExact: "exact", DateSwapped: "day_month_swapped",
	DateOneDiffers: "one_component", DateYearOff: "year_off_by_one", DateDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l DateLevel) String() string { return levelName(l, dateLevelNames[:]) }

// ParseBirthDate reads a date written YYYY-MM-DD (outer white space aside)
// and answers its year, month and day, or ok false when s is not a calendar
// date in that form (1990-02-30 is not).
func ParseBirthDate(s string) (year, month, day int, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) != len("2006-01-02") {
		return 0, 0, 0, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, 0, 0, false
	}
	return t.Year(), int(t.Month()), t.Day(), true
}

// CompareBirthDates is the level at which two birth dates agree: the first
// of the DateLevel constants that holds.
func CompareBirthDates(a, b string) DateLevel {
	if len(a) > MaxDateBytes || len(b) > MaxDateBytes {
		return DateMissing
	}
	ya, ma, da, oka := ParseBirthDate(a)
	yb, mb, db, okb := ParseBirthDate(b)
	if !oka || !okb {
		return DateMissing
	}
	return compareDates(int32(ya*10000+ma*100+da), int32(yb*10000+mb*100+db))
}
