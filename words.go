package usermerge

import (
	"strconv"
	"strings"
)

// Words a person reads in more than one place (engine messages, UI flash
// messages, CLI output) are built here, so a list never shows as Go's [2 7].

// JoinWords joins items as a sentence does: "a", "a and b", "a, b and c".
func JoinWords(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// MergeList names merges by number: "merge 5", "merges 2 and 7".
func MergeList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	if len(ids) == 1 {
		return "merge " + s[0]
	}
	return "merges " + JoinWords(s)
}

// Plural writes a count with its noun: "1 account", "3 accounts".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// CountColumn is one column of a merge's counts: the same order and words
// on every surface (the UI's preview and details, the CLI's preview, merge
// and show), in headers and in sentences.
type CountColumn struct {
	Disposition Disposition // also the field's name in Counts' JSON
	Label       string      // column header
	Word        string      // in a sentence: "3 moved, 1 stayed"
	Help        string      // what the number counts
}

// CountColumns is the one column order and wording for Counts.
var CountColumns = []CountColumn{
	{Moved, "Moved", "moved", "records of the merged account that now belong to the kept account"},
	{Combined, "Combined", "combined", "records of the kept account whose values were combined with a record of the merged account"},
	{Retired, "Retired", "retired", "records kept only so that the merge can be reverted"},
	{Left, "Stayed", "stayed", "records that stay with the merged account by rule"},
	{Changed, "Changed", "changed", "records of either account whose values changed other than by combining, such as attempts renumbered in time order"},
}

// Of returns the count of one disposition.
func (c Counts) Of(d Disposition) int64 {
	switch d {
	case Moved:
		return c.Moved
	case Combined:
		return c.Combined
	case Retired:
		return c.Retired
	case Left:
		return c.Left
	case Changed:
		return c.Changed
	}
	return 0
}

// Text says what happens (or happened) to records in a few words, in the
// columns' order and words, zeros left out: "3 moved, 1 stayed".
func (c Counts) Text() string {
	var parts []string
	for _, col := range CountColumns {
		if n := c.Of(col.Disposition); n > 0 {
			parts = append(parts, strconv.FormatInt(n, 10)+" "+col.Word)
		}
	}
	if len(parts) == 0 {
		return "no records"
	}
	return strings.Join(parts, ", ")
}

// Label is the word for a disposition, as its count column names it.
func (d Disposition) Label() string {
	for _, col := range CountColumns {
		if col.Disposition == d {
			return col.Label
		}
	}
	return string(d)
}

// KeptNote says which record a keep-latest rule kept: keptFrom is
// RecordChange.KeptFrom ("target" or "source"), other the record it was
// kept over.
func KeptNote(keptFrom, other string) string {
	whose := "the kept account's"
	if keptFrom == "source" {
		whose = "the merged account's"
	}
	return "kept over " + other + " as the later one, " + whose
}
