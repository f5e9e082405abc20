package server

import (
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"usermerge"
)

// Formatting for the UI's templates: times, states, counts, and the record
// tables of merge details.

var uiFuncs = template.FuncMap{
	"when":             when,
	"whenPtr":          whenPtr,
	"stateText":        stateText,
	"stateClass":       stateClass,
	"statusText":       statusText,
	"statusClass":      statusClass,
	"num":              num,
	"plural":           plural,
	"grouped":          grouped,
	"join":             strings.Join,
	"sum":              usermerge.Total,
	"countCols":        func() []usermerge.CountColumn { return usermerge.CountColumns },
	"policyText":       policyText,
	"add":              func(a, b int) int { return a + b },
	"int":              func(n int64) int { return int(n) },
	"maxSources":       func() int { return usermerge.MaxSources },
	"batchStatusText":  batchStatusText,
	"batchStatusClass": batchStatusClass,
	"rowStatusText":    rowStatusText,
	"rowStatusClass":   rowStatusClass,
	"deliveryClass":    deliveryStatusClass,
	"secondsText":      secondsText,
	"i64":              func(n int) int64 { return int64(n) },
	"neg":              func(n int) int { return -n },
	"dupCard":          func(canEdit bool, s suggestionView, detail bool) dupCard { return dupCard{canEdit, s, detail} },
}

// dupCard is what the "suggestion" template shows: one suggestion, with
// its actions when the caller may merge, and its explanation on its own
// page.
type dupCard struct {
	CanEdit bool
	S       suggestionView
	Detail  bool
}

const whenLayout = "2006-01-02 15:04 MST"

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(whenLayout)
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

// stateText says a merge's state plainly (PRODUCT.md §5).
func stateText(s usermerge.MergeState) string {
	switch s {
	case usermerge.StateActive:
		return "Active"
	case usermerge.StateReverted:
		return "Reverted"
	case usermerge.StatePermanent:
		return "Permanent — source deleted"
	case usermerge.StateIrreversible:
		return "Irreversible by policy"
	case usermerge.StateTargetDeleted:
		return "Target deleted"
	}
	return string(s)
}

func stateClass(s usermerge.MergeState) string {
	switch s {
	case usermerge.StateActive:
		return "pill ok"
	case usermerge.StateReverted:
		return "pill muted"
	case usermerge.StateIrreversible:
		return "pill info"
	}
	return "pill warn"
}

// statusText says an account's status, merged and deleted included.
func statusText(a usermerge.Account) string {
	switch {
	case a.Deleted():
		return "Deleted " + a.DeletedAt.UTC().Format("2006-01-02")
	case a.MergedInto != "":
		return "Merged"
	case a.Status == usermerge.Active:
		return "Active"
	}
	return "Inactive"
}

func statusClass(a usermerge.Account) string {
	switch {
	case a.Deleted():
		return "pill warn"
	case a.MergedInto != "":
		return "pill info"
	case a.Status == usermerge.Active:
		return "pill ok"
	}
	return "pill muted"
}

// num shows a count, and zero as a dash so the numbers that matter stand out.
func num(n int64) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprint(n)
}

// grouped shows a number with thousands separators: 5,300.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// valuesText renders stored values as "name value, ...", times readable.
func valuesText(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if v == "" {
			v = "(none)"
		}
		parts = append(parts, k+" "+cellValue(v))
	}
	return strings.Join(parts, ", ")
}

// cellValue shows a stored value; record times become "2006-01-02 15:04:05"
// (the pages say that times are UTC).
func cellValue(v string) string {
	if t, err := time.Parse("2006-01-02T15:04:05.000Z", v); err == nil {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return v
}

// cell is one value of a record table.
type cell struct {
	Text  string
	Class string // "blob" for saved answers and results, "val" else
}

func newCell(t usermerge.FieldType, v string) cell {
	if t == usermerge.Answers {
		return cell{Text: v, Class: "blob"}
	}
	return cell{Text: cellValue(v), Class: "val"}
}

// policyText says a merge's rules in words.
func policyText(p usermerge.Policy) string {
	name := usermerge.PresetOf(p)
	if t, ok := presetTitles[name]; ok {
		name = t + " preset"
	}
	badges := map[usermerge.BadgePolicy]string{usermerge.BadgesTransfer: "badges transfer", usermerge.BadgesStay: "badges stay with the source"}[p.Badges]
	credits := map[usermerge.CreditPolicy]string{usermerge.CreditsTransfer: "credits transfer", usermerge.CreditsStay: "credits stay with the source"}[p.Credits]
	certs := map[usermerge.CertificatePolicy]string{usermerge.CertificatesTransfer: "certificates transfer", usermerge.CertificatesNotMerged: "certificates not merged"}[p.Certificates]
	rev := "reverts allowed"
	if !p.RevertAllowed {
		rev = "no reverts"
	}
	return fmt.Sprintf("%s: %s, %s, %s; %s", name, badges, credits, certs, rev)
}

// kindView is one tab of merge details: the kind's records as a table,
// its columns from the kind's descriptor.
type kindView struct {
	usermerge.KindDetails
	Title   string
	Columns []string
	Rows    []recordRow
	// Badges: the tab shows the descriptor's before/after fields (badges:
	// acquisition time) as two columns of their own instead of a change.
	Badges      bool
	BeforeLabel string
	AfterLabel  string
}

type recordRow struct {
	What, WhatClass string
	Record, Account string
	Cells           []cell
	Change          string // values before → after
	Note            string
	Before, After   string // the before/after field's value before and after the merge
}

func newKindView(kd usermerge.KindDetails, m usermerge.Merge, loginOf func(id string) string) *kindView {
	spec := kd.Kind.Spec()
	v := &kindView{KindDetails: kd, Title: spec.Title}
	shown := spec.BeforeAfter
	if shown != "" {
		f, _ := spec.Field(shown)
		v.Badges, v.BeforeLabel, v.AfterLabel = true, f.Label+" before merge", f.Label+" after merge"
	}
	for _, f := range spec.Fields {
		if f.Name != shown {
			v.Columns = append(v.Columns, f.Label)
		}
	}
	accountName := func(id string) string {
		switch id {
		case m.Target.ID:
			return m.Target.Login + " (kept)"
		case m.Source.ID:
			return m.Source.Login + " (source)"
		}
		return loginOf(id)
	}
	for _, rc := range kd.Records {
		var what []string
		for _, d := range rc.Actions {
			what = append(what, d.Label())
		}
		row := recordRow{What: strings.Join(what, ", "), WhatClass: "disp-" + string(rc.Disposition),
			Record: rc.RecordID, Account: accountName(rc.Account)}
		switch {
		case rc.KeptFrom != "":
			row.Note = usermerge.KeptNote(rc.KeptFrom, rc.Other)
		case rc.Other != "":
			row.Note = "combined with " + rc.Other
		}
		if rc.Retired && !slices.Contains(rc.Actions, usermerge.Retired) {
			row.Note = strings.TrimPrefix(row.Note+"; retired since", "; ")
		}
		var changed []usermerge.FieldValue
		for _, f := range rc.Fields {
			if f.Before != nil && *f.Before != *f.After {
				changed = append(changed, f)
			}
			if f.Name == shown {
				row.Before, row.After = cellValue(f.Value), cellValue(f.Value)
				if f.Before != nil {
					row.Before, row.After = cellValue(*f.Before), cellValue(*f.After)
				}
				continue
			}
			text := f.Value
			if f.Title != "" {
				text = f.Title + " (" + f.Value + ")"
			}
			sf, _ := spec.Field(f.Name)
			row.Cells = append(row.Cells, newCell(sf.Type, text))
		}
		if rc.Disposition == usermerge.Combined || rc.Disposition == usermerge.Changed || len(changed) > 0 {
			row.Change = changeText(changed)
		}
		if v.Badges {
			switch {
			case rc.Retired:
				row.After = "retired (kept for revert)"
			case rc.Disposition == usermerge.Left:
				row.After += " (on the source)"
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// changeText lists the values a merge changed: "Percent 38 → 100".
func changeText(changed []usermerge.FieldValue) string {
	var parts []string
	for _, f := range changed {
		show := func(s string) string {
			if s == "" {
				return "(none)"
			}
			return cellValue(s)
		}
		parts = append(parts, f.Label+" "+show(*f.Before)+" → "+show(*f.After))
	}
	if len(parts) == 0 {
		return "no value changed"
	}
	return strings.Join(parts, "; ")
}
