package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"usermerge"
)

// emit writes a result: as indented JSON with --json, else through text.
func (m *Main) emit(v any, text func(w io.Writer) error) error {
	if m.g.json {
		return writeJSON(m.Stdout, v)
	}
	return text(m.Stdout)
}

// notes is where human-only output goes when stdout may carry JSON.
func (m *Main) notes() io.Writer {
	if m.g.json {
		return m.Stderr
	}
	return m.Stdout
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// ask asks a yes/no question on the terminal; anything but y or yes
// cancels.
func (m *Main) ask(question string) error {
	fmt.Fprintf(m.notes(), "%s [y/N] ", question)
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil {
		fmt.Fprintln(m.notes())
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return usermerge.Errorf(usermerge.Conflict, "cancelled", "cancelled at the prompt: nothing was changed")
}

// values renders a record's values as "name value, ..." in name order.
func values(v map[string]string) string {
	if len(v) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		val := v[k]
		if val == "" {
			val = "(none)"
		}
		parts = append(parts, k+" "+val)
	}
	return strings.Join(parts, ", ")
}

const timeLayout = "2006-01-02 15:04 MST"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

// who names an account as administrators know it.
func who(a usermerge.Account) string {
	if a.Login == "" {
		return a.ID
	}
	if a.Name == "" {
		return a.Login
	}
	return fmt.Sprintf("%s (%s)", a.Login, a.Name)
}

// statusText is an account's status as the lists show it.
func statusText(a usermerge.Account, target string) string {
	switch {
	case a.Deleted():
		return "deleted"
	case a.MergedInto != "":
		if target == "" {
			target = a.MergedInto
		}
		if a.MergedBy != 0 {
			return fmt.Sprintf("merged into %s (merge %d)", target, a.MergedBy)
		}
		return "merged into " + target
	}
	return string(a.Status)
}

// countText says what happened to records in a few words, zeros left out.
func countText(c usermerge.Counts) string { return c.Text() }

// countHeader and countRow lay out a table of counts per kind in the
// columns' one order and words (usermerge.CountColumns), as the UI does.
func countHeader() string {
	h := []string{"KIND"}
	for _, col := range usermerge.CountColumns {
		h = append(h, strings.ToUpper(col.Label))
	}
	return strings.Join(append(h, "RULE"), "\t")
}

func countRow(label string, c usermerge.Counts, rule string) string {
	row := []string{label}
	for _, col := range usermerge.CountColumns {
		row = append(row, num(c.Of(col.Disposition)))
	}
	if rule != "" {
		row = append(row, rule)
	}
	return strings.Join(row, "\t")
}

// num prints a count, with a dash for zero so that the non-zero stand out.
func num(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// grouped prints a number with thousands separators: 5,300.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
