package store

import (
	"fmt"
	"strings"

	"usermerge"
)

// colType is how a record column is stored, imported and exported.
type colType int

const (
	cText     colType = iota // TEXT
	cInt                     // integer
	cReal                    // floating point
	cBool                    // 0/1, exported as true/false
	cTime                    // milliseconds, exported as RFC 3339
	cTimeNull                // nullable time
)

type column struct {
	name string
	typ  colType
}

// shape is how a merge treats one kind of record.
type shape int

const (
	shapeMove     shape = iota // every record moves
	shapeCombine               // one per item: the target's record takes combined values, the source's is retired
	shapeKeep                  // one per item: the latest of the two is kept, the other retired
	shapeRenumber              // every record moves; attempt numbers are renumbered in time order
	shapeLeft                  // nothing moves (org structure)
)

// recordTable describes the table of one record kind. The statements of
// rules.go, details.go and importexport.go are built from it.
type recordTable struct {
	kind  usermerge.Kind
	table string
	cols  []column // after tenant_id, id, account_id
	shape shape
	key   string // the item column an account holds one live record of (combine, keep)
	// slots are the columns a combine (or renumber) may change, journaled in
	// order in the integer slots b1..b4/a1..a4; a text column uses bt/at_.
	slots []string
	// combined gives, per slot column, the SQL expression of the combined
	// value over the target row t and the source row s.
	combined map[string]string
	// latest is the column whose larger value wins for shapeKeep.
	latest string
	// live restricts which records a keep rule pairs (e.g. only suspended sessions).
	live string
}

var progressCombine = map[string]string{
	// completion beats incompletion; otherwise the further status wins
	"status": `CASE WHEN t.status = 'completed' OR s.status = 'completed' THEN 'completed'
	 WHEN t.status = 'in_progress' OR s.status = 'in_progress' THEN 'in_progress' ELSE t.status END`,
	"percent":     `CASE WHEN s.percent > t.percent THEN s.percent ELSE t.percent END`,
	"enrolled_at": `CASE WHEN s.enrolled_at < t.enrolled_at THEN s.enrolled_at ELSE t.enrolled_at END`,
	// both complete: the earliest completion; one complete: its completion
	"completed_at": `CASE WHEN t.status = 'completed' AND s.status = 'completed' THEN
	   CASE WHEN s.completed_at < t.completed_at THEN s.completed_at ELSE t.completed_at END
	 WHEN s.status = 'completed' THEN s.completed_at ELSE t.completed_at END`,
}

var recordTables = []*recordTable{
	{kind: usermerge.KindSignIns, table: "signins", shape: shapeMove,
		cols: []column{{"at", cTime}, {"ip", cText}, {"client", cText}}},
	{kind: usermerge.KindAttempts, table: "attempts", shape: shapeRenumber,
		cols: []column{{"content_id", cText}, {"content_type", cText}, {"attempt_no", cInt}, {"score", cReal},
			{"max_score", cReal}, {"passed", cBool}, {"started_at", cTime}, {"finished_at", cTimeNull}},
		slots: []string{"attempt_no"}},
	{kind: usermerge.KindBadges, table: "badges", shape: shapeCombine, key: "badge_id",
		cols:     []column{{"badge_id", cText}, {"acquired_at", cTime}},
		slots:    []string{"acquired_at"},
		combined: map[string]string{"acquired_at": "s.acquired_at"}},
	{kind: usermerge.KindCredits, table: "credits", shape: shapeMove,
		cols: []column{{"points", cInt}, {"reason", cText}, {"awarded_at", cTime}}},
	{kind: usermerge.KindCertificates, table: "certificates", shape: shapeMove,
		cols: []column{{"subject_type", cText}, {"subject_id", cText}, {"number", cText}, {"issued_at", cTime}}},
	{kind: usermerge.KindCourses, table: "course_progress", shape: shapeCombine, key: "course_id",
		cols:  []column{{"course_id", cText}, {"status", cText}, {"percent", cInt}, {"enrolled_at", cTime}, {"completed_at", cTimeNull}},
		slots: []string{"status", "percent", "enrolled_at", "completed_at"}, combined: progressCombine},
	{kind: usermerge.KindLectures, table: "lecture_progress", shape: shapeCombine, key: "lecture_id",
		cols:  []column{{"lecture_id", cText}, {"course_id", cText}, {"percent", cInt}, {"last_access", cTime}},
		slots: []string{"percent", "last_access"},
		combined: map[string]string{
			"percent":     `CASE WHEN s.percent > t.percent THEN s.percent ELSE t.percent END`,
			"last_access": `CASE WHEN s.last_access > t.last_access THEN s.last_access ELSE t.last_access END`,
		}},
	{kind: usermerge.KindPaths, table: "path_progress", shape: shapeCombine, key: "path_id",
		cols:  []column{{"path_id", cText}, {"status", cText}, {"percent", cInt}, {"enrolled_at", cTime}, {"completed_at", cTimeNull}},
		slots: []string{"status", "percent", "enrolled_at", "completed_at"}, combined: progressCombine},
	{kind: usermerge.KindQuizSessions, table: "quiz_sessions", shape: shapeKeep, key: "quiz_id", latest: "last_studied_at",
		live: "graded_at IS NULL",
		cols: []column{{"quiz_id", cText}, {"answers", cText}, {"last_studied_at", cTime}, {"graded_at", cTimeNull}}},
	{kind: usermerge.KindMasterStates, table: "master_states", shape: shapeKeep, key: "quiz_id", latest: "last_studied_at",
		cols: []column{{"quiz_id", cText}, {"results", cText}, {"last_studied_at", cTime}}},
	{kind: usermerge.KindPolls, table: "poll_responses", shape: shapeKeep, key: "poll_id", latest: "answered_at",
		cols: []column{{"poll_id", cText}, {"answer", cText}, {"answered_at", cTime}}},
	{kind: usermerge.KindEvents, table: "event_registrations", shape: shapeCombine, key: "event_id",
		cols:  []column{{"event_id", cText}, {"registered_at", cTime}, {"attended", cBool}},
		slots: []string{"registered_at", "attended"},
		combined: map[string]string{
			"registered_at": `CASE WHEN s.registered_at < t.registered_at THEN s.registered_at ELSE t.registered_at END`,
			"attended":      `CASE WHEN s.attended > t.attended THEN s.attended ELSE t.attended END`,
		}},
	{kind: usermerge.KindExternalIDs, table: "external_ids", shape: shapeMove,
		cols: []column{{"system", cText}, {"value", cText}}},
	{kind: usermerge.KindFinancial, table: "financial_records", shape: shapeMove,
		cols: []column{{"type", cText}, {"amount_cents", cInt}, {"currency", cText}, {"reference", cText}, {"at", cTime}}},
}

var tableOf = func() map[usermerge.Kind]*recordTable {
	m := map[usermerge.Kind]*recordTable{}
	for _, t := range recordTables {
		m[t.kind] = t
		if len(t.slots) > 4+1 {
			panic("too many journal slots for " + t.table)
		}
	}
	return m
}()

// RecordKinds lists the kinds stored in record tables (all but org structure).
func RecordKinds() []usermerge.Kind {
	out := make([]usermerge.Kind, len(recordTables))
	for i, t := range recordTables {
		out[i] = t.kind
	}
	return out
}

// RecordTable returns the table name of a record kind ("" for org structure).
func RecordTable(k usermerge.Kind) string {
	if t, ok := tableOf[k]; ok {
		return t.table
	}
	return ""
}

// slotNames maps each slot column to its before/after journal columns.
func (t *recordTable) slotNames() (before, after []string) {
	n := 0
	for _, c := range t.slots {
		if t.colType(c) == cText {
			before, after = append(before, "bt"), append(after, "at_")
			continue
		}
		n++
		before, after = append(before, fmt.Sprintf("b%d", n)), append(after, fmt.Sprintf("a%d", n))
	}
	return before, after
}

func (t *recordTable) colType(name string) colType {
	for _, c := range t.cols {
		if c.name == name {
			return c.typ
		}
	}
	panic("unknown column " + name + " of " + t.table)
}

func (t *recordTable) colNames() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// prefixed returns "p.a, p.b, ..." for the given columns.
func prefixed(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + "." + c
	}
	return strings.Join(out, ", ")
}
