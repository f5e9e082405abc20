package server

import (
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"usermerge"
)

// Formatting for the UI's templates: times, states, counts, and the record
// tables of merge details.

var uiFuncs = template.FuncMap{
	"when":        when,
	"whenPtr":     whenPtr,
	"stateText":   stateText,
	"stateClass":  stateClass,
	"statusText":  statusText,
	"statusClass": statusClass,
	"num":         num,
	"plural":      plural,
	"join":        strings.Join,
	"sum":         usermerge.Total,
	"policyText":  policyText,
	"add":         func(a, b int) int { return a + b },
	"int":         func(n int64) int { return int(n) },
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
	Class string // "blob" for saved answers and results (JSON), "val" else
}

func newCell(v string) cell {
	v = cellValue(v)
	if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
		return cell{Text: v, Class: "blob"}
	}
	return cell{Text: v, Class: "val"}
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

// column is one field of a record kind as merge details show it.
type uiColumn struct{ name, label string }

// kindColumns are each kind's fields, in the order the engine's summaries
// list them (store/kinds.go). A summary is "name value, name value, ...".
var kindColumns = map[usermerge.Kind][]uiColumn{
	usermerge.KindSignIns:      {{"at", "Signed in at"}, {"ip", "IP address"}, {"client", "Client"}},
	usermerge.KindAttempts:     {{"content_id", "Content"}, {"content_type", "Type"}, {"attempt_no", "Attempt"}, {"score", "Score"}, {"max_score", "Max"}, {"passed", "Passed"}, {"started_at", "Started"}, {"finished_at", "Finished"}},
	usermerge.KindBadges:       {{"badge_id", "Badge"}, {"acquired_at", "Acquired"}},
	usermerge.KindCredits:      {{"points", "Points"}, {"reason", "Reason"}, {"awarded_at", "Awarded"}},
	usermerge.KindCertificates: {{"subject_type", "For"}, {"subject_id", "Course or path"}, {"number", "Number"}, {"issued_at", "Issued"}},
	usermerge.KindCourses:      {{"course_id", "Course"}, {"status", "Status"}, {"percent", "Percent"}, {"enrolled_at", "Enrolled"}, {"completed_at", "Completed"}},
	usermerge.KindLectures:     {{"lecture_id", "Lecture"}, {"course_id", "Course"}, {"percent", "Percent"}, {"last_access", "Last access"}},
	usermerge.KindPaths:        {{"path_id", "Learning path"}, {"status", "Status"}, {"percent", "Percent"}, {"enrolled_at", "Enrolled"}, {"completed_at", "Completed"}},
	usermerge.KindQuizSessions: {{"quiz_id", "Quiz"}, {"answers", "Saved answers"}, {"last_studied_at", "Last studied"}, {"graded_at", "Graded"}},
	usermerge.KindMasterStates: {{"quiz_id", "Quiz"}, {"results", "Results"}, {"last_studied_at", "Last studied"}},
	usermerge.KindPolls:        {{"poll_id", "Poll"}, {"answer", "Answer"}, {"answered_at", "Answered"}},
	usermerge.KindEvents:       {{"event_id", "Event"}, {"registered_at", "Registered"}, {"attended", "Attended"}},
	usermerge.KindExternalIDs:  {{"system", "System"}, {"value", "Value"}},
	usermerge.KindFinancial:    {{"type", "Type"}, {"amount_cents", "Amount (cents)"}, {"currency", "Currency"}, {"reference", "Reference"}, {"at", "At"}},
	usermerge.KindMemberships:  {{"group", "Group"}},
	usermerge.KindAccountJobs:  {{"job", "Job"}},
}

// parseSummary splits a record summary into its fields. A field's value
// runs up to ", " followed by the name of a later field of the kind.
func parseSummary(s string, cols []uiColumn) map[string]string {
	out := map[string]string{}
	pos := 0
	for i := 0; i < len(cols) && pos < len(s); i++ {
		j := i
		for j < len(cols) && !strings.HasPrefix(s[pos:], cols[j].name+" ") {
			j++
		}
		if j == len(cols) {
			break
		}
		start := pos + len(cols[j].name) + 1
		end := len(s)
		for k := j + 1; k < len(cols); k++ {
			if n := strings.Index(s[start:], ", "+cols[k].name+" "); n >= 0 && start+n < end {
				end = start + n
			}
		}
		out[cols[j].name] = s[start:end]
		pos = min(end+2, len(s))
		i = j
	}
	return out
}

// kindView is one tab of merge details: the kind's records as a table.
type kindView struct {
	usermerge.KindDetails
	Title   string
	Columns []string
	Rows    []recordRow
	Badges  bool // the badge tab shows acquisition times before and after
}

type recordRow struct {
	What, WhatClass string
	Record, Account string
	Cells           []cell
	Change          string // values before → after
	Note            string
	Before, After   string // badge tab: acquisition time before and after the merge
}

var dispositionText = map[usermerge.Disposition]string{
	usermerge.Moved:    "Moved",
	usermerge.Combined: "Combined",
	usermerge.Retired:  "Retired",
	usermerge.Left:     "Stayed with source",
	usermerge.Changed:  "Renumbered",
}

func newKindView(kd usermerge.KindDetails, m usermerge.Merge) *kindView {
	v := &kindView{KindDetails: kd, Title: detailsTitle(kd.Kind), Badges: kd.Kind == usermerge.KindBadges}
	cols := kindColumns[kd.Kind]
	for _, c := range cols {
		if v.Badges && c.name == "acquired_at" {
			continue // shown as before and after
		}
		v.Columns = append(v.Columns, c.label)
	}
	accountName := func(id string) string {
		switch id {
		case m.Target.ID:
			return m.Target.Login + " (kept)"
		case m.Source.ID:
			return m.Source.Login + " (source)"
		}
		return id
	}
	for _, rc := range kd.Records {
		summary := rc.Summary
		row := recordRow{What: dispositionText[rc.Disposition], WhatClass: "disp-" + string(rc.Disposition),
			Record: rc.RecordID, Account: accountName(rc.Account)}
		if rest, ok := strings.CutPrefix(summary, "kept ("); ok {
			// "kept (latest, from the source account) over qs-1: quiz_id ..."
			if why, fields, ok := strings.Cut(rest, ": "); ok {
				row.Note = "kept " + strings.Replace(why, ") over ", "), retiring ", 1)
				summary = fields
			}
		} else if rc.Other != "" {
			row.Note = "combined with " + rc.Other
		}
		if row.What == "" {
			row.What = string(rc.Disposition)
		}
		fields := parseSummary(summary, cols)
		if len(fields) == 0 {
			row.Note = strings.TrimSpace(row.Note + " " + summary)
		}
		for _, c := range cols {
			if v.Badges && c.name == "acquired_at" {
				continue
			}
			row.Cells = append(row.Cells, newCell(fields[c.name]))
		}
		if len(rc.Before) > 0 || len(rc.After) > 0 {
			row.Change = changeText(rc.Before, rc.After, cols)
		}
		if v.Badges {
			now := cellValue(fields["acquired_at"])
			row.Before, row.After = now, now
			if b, ok := rc.Before["acquired_at"]; ok {
				row.Before = cellValue(b)
			}
			if a, ok := rc.After["acquired_at"]; ok {
				row.After = cellValue(a)
			}
			switch rc.Disposition {
			case usermerge.Retired:
				row.After = "retired (kept for revert)"
			case usermerge.Left:
				row.After = now + " (on the source)"
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// changeText lists the values a merge changed: "Percent 38 → 100".
func changeText(before, after map[string]string, cols []uiColumn) string {
	label := map[string]string{}
	for _, c := range cols {
		label[c.name] = c.label
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(after)) {
		b, a := before[k], after[k]
		if a == b {
			continue
		}
		show := func(s string) string {
			if s == "" {
				return "(none)"
			}
			return cellValue(s)
		}
		name := label[k]
		if name == "" {
			name = k
		}
		parts = append(parts, name+" "+show(b)+" → "+show(a))
	}
	if len(parts) == 0 {
		return "no value changed"
	}
	return strings.Join(parts, "; ")
}
