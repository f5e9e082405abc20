package usermerge

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Kind names one kind of record a learner account holds (PRODUCT.md §3).
type Kind string

const (
	KindSignIns      Kind = "signin"             // access log
	KindAttempts     Kind = "attempt"            // quiz, test, exam, vignette attempts (scores)
	KindBadges       Kind = "badge"              // badges and their acquisition time
	KindCredits      Kind = "credit"             // credits / points
	KindCertificates Kind = "certificate"        // course and learning-path certificates
	KindCourses      Kind = "course_progress"    // course enrolment, progress, completion
	KindLectures     Kind = "lecture_progress"   // lecture (lesson) progress
	KindPaths        Kind = "path_progress"      // learning-path progress and completion
	KindQuizSessions Kind = "quiz_session"       // suspended "in-study" quiz sessions
	KindMasterStates Kind = "master_state"       // master-mode quiz state
	KindPolls        Kind = "poll_response"      // poll responses
	KindEvents       Kind = "event_registration" // event registration and attendance
	KindExternalIDs  Kind = "external_id"        // external IDs (system, value)
	KindFinancial    Kind = "financial_record"   // orders, payments, refunds, invoices
	KindMemberships  Kind = "membership"         // org structure: group memberships
	KindAccountJobs  Kind = "account_job"        // org structure: jobs
)

// FieldType is how a record field is stored, imported, exported and shown.
type FieldType int

const (
	Text     FieldType = iota // text
	Int                       // integer
	Real                      // floating point
	Bool                      // yes/no (0/1 in the database, true/false in files)
	Time                      // a point in time (milliseconds in the database, RFC 3339 in files)
	TimeNull                  // a point in time that may be absent
	Answers                   // text holding saved answers or results (JSON), shown as text
)

// Field is one field of a record kind.
type Field struct {
	Name     string
	Type     FieldType
	Label    string   // column heading in the UI and the CLI
	Required bool     // a text field that must be present and non-empty on import
	Enum     []string // the allowed values, in ascending order of progress where a rule ranks them
	// Catalog names the catalog whose titles name this field's values
	// ("course", "content", "badge", "poll", ...): details show the title
	// beside the id where the import gave one.
	Catalog string
}

// Shape is how a merge treats the records of one kind.
type Shape int

const (
	ShapeMove     Shape = iota // every record moves to the target
	ShapeRenumber              // every record moves; a number is renumbered in time order per item
	ShapeCombine               // one record per item: the target's takes combined values, the source's is retired
	ShapeKeep                  // one record per item: the latest of the two is kept, the other retired
	ShapeLeave                 // nothing moves: the records stay with the source (org structure)
)

// Operator combines one field of two records of the same item (ShapeCombine).
// Every operator keeps the target's value on a tie, and a present value beats
// an absent one.
type Operator int

const (
	OpEarliest        Operator = iota // the earlier time
	OpLatest                          // the later time
	OpHighest                         // the larger number
	OpEither                          // yes if either says yes
	OpFurthest                        // the value furthest along the field's Enum (completion beats incompletion)
	OpFirstCompletion                 // the earliest completion of the records whose Status field is complete
	OpSource                          // the source's value (badges: the source's acquisition time)
)

// Combine is one field's operator in a ShapeCombine rule.
type Combine struct {
	Field string
	Op    Operator
	// Status and Complete qualify OpFirstCompletion: the field whose value
	// Complete marks a completed record.
	Status, Complete string
}

// KindSpec describes one record kind once; storage SQL, import and export,
// the fields of merge details, the UI's and the CLI's tables and the tests'
// lists of tables derive from it.
type KindSpec struct {
	Kind  Kind
	Label string // the kind's name ("Sign-ins"); the seeds' words where they have one
	// Aliases are other names operators use for the kind on the command line.
	Aliases []string
	Title   string // the heading of its details tab
	Table   string // the table holding its records
	// Fields are the record's own fields, after tenant, id and account.
	Fields []Field
	Shape  Shape
	// Item is the field an account holds one live record of (combine and
	// keep); for ShapeRenumber, Item and ItemType together name the item
	// whose records are numbered.
	Item, ItemType string
	Combine        []Combine // ShapeCombine: one operator per changed field
	// Latest is the field whose later value wins (ShapeKeep); a tie keeps
	// the target's record. Kept lists the fields a kept record's later
	// activity changes: they are journaled so a revert can tell.
	Latest string
	Kept   []string
	// OpenWhileNull restricts ShapeKeep to records whose field is absent
	// (a suspended quiz session: not graded).
	OpenWhileNull string
	// Renumber is the field a ShapeRenumber rule renumbers, in the order of
	// OrderBy.
	Renumber, OrderBy string
	// Applies says whether the kind's rule runs under a policy; otherwise
	// every record stays with the source. nil: always.
	Applies func(p Policy, moveExternalIDs bool) bool
	// Always: the seeds name the kind's details page (score, badge and
	// sign-in details), so it is shown even when the merge had none.
	Always bool
	// BeforeAfter names a field the details show as two columns, its value
	// before and after the merge (badges: the acquisition time, as the
	// learningBOX badge details do).
	BeforeAfter string
	// Rule says in one sentence what a merge does with the kind when it
	// applies, and LeftRule when the policy leaves the records.
	Rule, LeftRule string
}

var progressStatus = []string{"enrolled", "in_progress", "completed"}

// progressFields and progressCombine are shared by course and path progress.
func progressFields(item, label, catalog string) []Field {
	return []Field{
		{Name: item, Type: Text, Label: label, Required: true, Catalog: catalog},
		{Name: "status", Type: Text, Label: "Status", Required: true, Enum: progressStatus},
		{Name: "percent", Type: Int, Label: "Percent"},
		{Name: "enrolled_at", Type: Time, Label: "Enrolled"},
		{Name: "completed_at", Type: TimeNull, Label: "Completed"},
	}
}

var progressCombine = []Combine{
	{Field: "status", Op: OpFurthest},
	{Field: "percent", Op: OpHighest},
	{Field: "enrolled_at", Op: OpEarliest},
	{Field: "completed_at", Op: OpFirstCompletion, Status: "status", Complete: "completed"},
}

const progressRule = "combined per item: completion beats incompletion, earliest completion, else highest percent; earliest enrolment"

// Specs describes every record kind, in the order of display and of export
// files.
var Specs = []*KindSpec{
	{Kind: KindSignIns, Label: "Sign-ins", Aliases: []string{"sign-in", "sign-ins", "signins", "access-log"}, Title: "Sign-in details", Table: "signins", Always: true,
		Fields: []Field{
			{Name: "at", Type: Time, Label: "Signed in at"},
			{Name: "ip", Type: Text, Label: "IP address"},
			{Name: "client", Type: Text, Label: "Client"},
		},
		Shape: ShapeMove, Rule: "all move to the kept account"},
	{Kind: KindAttempts, Label: "Scores (assessment attempts)", Aliases: []string{"score", "scores", "attempts"}, Title: "Score details", Table: "attempts", Always: true,
		Fields: []Field{
			{Name: "content_id", Type: Text, Label: "Content", Required: true, Catalog: "content"},
			{Name: "content_type", Type: Text, Label: "Type", Required: true, Enum: []string{"quiz", "test", "exam", "vignette"}},
			{Name: "attempt_no", Type: Int, Label: "Attempt"},
			{Name: "score", Type: Real, Label: "Score"},
			{Name: "max_score", Type: Real, Label: "Max"},
			{Name: "passed", Type: Bool, Label: "Passed"},
			{Name: "started_at", Type: Time, Label: "Started"},
			{Name: "finished_at", Type: TimeNull, Label: "Finished"},
		},
		Shape: ShapeRenumber, Item: "content_id", ItemType: "content_type", Renumber: "attempt_no", OrderBy: "started_at",
		Rule: "all move; attempt numbers of the same content are renumbered in time order across both accounts"},
	{Kind: KindBadges, Label: "Badges", Aliases: []string{"badges"}, Title: "Badge details", Table: "badges", Always: true,
		Fields: []Field{
			{Name: "badge_id", Type: Text, Label: "Badge", Required: true, Catalog: "badge"},
			{Name: "acquired_at", Type: Time, Label: "Acquired"},
		},
		Shape: ShapeCombine, Item: "badge_id", Combine: []Combine{{Field: "acquired_at", Op: OpSource}}, BeforeAfter: "acquired_at",
		Applies:  func(p Policy, _ bool) bool { return p.Badges == BadgesTransfer },
		Rule:     "move; where both hold a badge the kept account takes the source's acquisition time and the source's copy is retired",
		LeftRule: "stay with the merged account"},
	{Kind: KindCredits, Label: "Credits / points", Aliases: []string{"credits", "points"}, Title: "Credits / points", Table: "credits",
		Fields: []Field{
			{Name: "points", Type: Int, Label: "Points"},
			{Name: "reason", Type: Text, Label: "Reason"},
			{Name: "awarded_at", Type: Time, Label: "Awarded"},
		},
		Shape:    ShapeMove,
		Applies:  func(p Policy, _ bool) bool { return p.Credits == CreditsTransfer },
		Rule:     "all move to the kept account",
		LeftRule: "stay with the merged account"},
	{Kind: KindCertificates, Label: "Certificates", Aliases: []string{"certificates"}, Title: "Certificates", Table: "certificates",
		Fields: []Field{
			{Name: "subject_type", Type: Text, Label: "For", Required: true, Enum: []string{"course", "path"}},
			{Name: "subject_id", Type: Text, Label: "Course or path", Required: true},
			{Name: "number", Type: Text, Label: "Number"},
			{Name: "issued_at", Type: Time, Label: "Issued"},
		},
		Shape:    ShapeMove,
		Applies:  func(p Policy, _ bool) bool { return p.Certificates == CertificatesTransfer },
		Rule:     "all move to the kept account and are all kept",
		LeftRule: "not merged: stay with the merged account"},
	{Kind: KindCourses, Label: "Course progress", Aliases: []string{"courses"}, Title: "Course progress", Table: "course_progress",
		Fields: progressFields("course_id", "Course", "course"),
		Shape:  ShapeCombine, Item: "course_id", Combine: progressCombine, Rule: progressRule},
	{Kind: KindLectures, Label: "Lecture progress", Aliases: []string{"lectures"}, Title: "Lecture progress", Table: "lecture_progress",
		Fields: []Field{
			{Name: "lecture_id", Type: Text, Label: "Lecture", Required: true, Catalog: "lecture"},
			{Name: "course_id", Type: Text, Label: "Course", Required: true, Catalog: "course"},
			{Name: "percent", Type: Int, Label: "Percent"},
			{Name: "last_access", Type: Time, Label: "Last access"},
		},
		Shape: ShapeCombine, Item: "lecture_id",
		Combine: []Combine{{Field: "percent", Op: OpHighest}, {Field: "last_access", Op: OpLatest}},
		Rule:    "combined per lecture: highest percent, latest last access"},
	{Kind: KindPaths, Label: "Learning-path progress", Aliases: []string{"paths"}, Title: "Learning-path progress", Table: "path_progress",
		Fields: progressFields("path_id", "Learning path", "path"),
		Shape:  ShapeCombine, Item: "path_id", Combine: progressCombine, Rule: progressRule},
	{Kind: KindQuizSessions, Label: "Suspended quiz sessions", Aliases: []string{"quiz-sessions"}, Title: "Suspended quiz sessions", Table: "quiz_sessions",
		Fields: []Field{
			{Name: "quiz_id", Type: Text, Label: "Quiz", Required: true, Catalog: "quiz"},
			{Name: "answers", Type: Answers, Label: "Saved answers"},
			{Name: "last_studied_at", Type: Time, Label: "Last studied"},
			{Name: "graded_at", Type: TimeNull, Label: "Graded"},
		},
		Shape: ShapeKeep, Item: "quiz_id", Latest: "last_studied_at", Kept: []string{"answers", "last_studied_at", "graded_at"},
		OpenWhileNull: "graded_at",
		Rule:          "per quiz the session with the latest study time is kept; the other is retired (not resumable, not gradeable)"},
	{Kind: KindMasterStates, Label: "Master-mode quiz state", Aliases: []string{"master-states"}, Title: "Master-mode quiz state", Table: "master_states",
		Fields: []Field{
			{Name: "quiz_id", Type: Text, Label: "Quiz", Required: true, Catalog: "quiz"},
			{Name: "results", Type: Answers, Label: "Results"},
			{Name: "last_studied_at", Type: Time, Label: "Last studied"},
		},
		Shape: ShapeKeep, Item: "quiz_id", Latest: "last_studied_at", Kept: []string{"results", "last_studied_at"},
		Rule: "per quiz the state with the latest study time is kept; the other is retired"},
	{Kind: KindPolls, Label: "Poll responses", Aliases: []string{"polls"}, Title: "Poll responses", Table: "poll_responses",
		Fields: []Field{
			{Name: "poll_id", Type: Text, Label: "Poll", Required: true, Catalog: "poll"},
			{Name: "answer", Type: Answers, Label: "Answer"},
			{Name: "answered_at", Type: Time, Label: "Answered"},
		},
		Shape: ShapeKeep, Item: "poll_id", Latest: "answered_at", Kept: []string{"answer", "answered_at"},
		Rule: "per poll the latest answer is kept; the other is retired"},
	{Kind: KindEvents, Label: "Event registrations", Aliases: []string{"events"}, Title: "Event registrations", Table: "event_registrations",
		Fields: []Field{
			{Name: "event_id", Type: Text, Label: "Event", Required: true, Catalog: "event"},
			{Name: "registered_at", Type: Time, Label: "Registered"},
			{Name: "attended", Type: Bool, Label: "Attended"},
		},
		Shape: ShapeCombine, Item: "event_id",
		Combine: []Combine{{Field: "registered_at", Op: OpEarliest}, {Field: "attended", Op: OpEither}},
		Rule:    "per event one registration: attended if either attended, earliest registration time"},
	{Kind: KindExternalIDs, Label: "External IDs", Aliases: []string{"external-ids"}, Title: "External IDs", Table: "external_ids",
		Fields: []Field{
			{Name: "system", Type: Text, Label: "System", Required: true},
			{Name: "value", Type: Text, Label: "Value", Required: true},
		},
		Shape:    ShapeMove,
		Applies:  func(_ Policy, moveExternalIDs bool) bool { return moveExternalIDs },
		Rule:     "move to the kept account and resolve to it",
		LeftRule: "stay with the merged account (external IDs not selected)"},
	{Kind: KindFinancial, Label: "Financial records", Aliases: []string{"financial"}, Title: "Financial records", Table: "financial_records",
		Fields: []Field{
			{Name: "type", Type: Text, Label: "Type", Required: true, Enum: []string{"order", "payment", "refund", "invoice"}},
			{Name: "amount_cents", Type: Int, Label: "Amount (cents)"},
			{Name: "currency", Type: Text, Label: "Currency", Required: true},
			{Name: "reference", Type: Text, Label: "Reference"},
			{Name: "at", Type: Time, Label: "At"},
		},
		Shape: ShapeMove, Rule: "all move to the kept account"},
	{Kind: KindMemberships, Label: "Group memberships", Aliases: []string{"groups"}, Title: "Group memberships", Table: "memberships",
		Fields:   []Field{{Name: "group_id", Type: Text, Label: "Group", Required: true, Catalog: "group"}},
		Shape:    ShapeLeave,
		LeftRule: "the kept account's org structure is kept; the merged account's stays with it"},
	{Kind: KindAccountJobs, Label: "Jobs", Aliases: []string{"jobs"}, Title: "Jobs", Table: "account_jobs",
		Fields:   []Field{{Name: "job_id", Type: Text, Label: "Job", Required: true, Catalog: "job"}},
		Shape:    ShapeLeave,
		LeftRule: "the kept account's org structure is kept; the merged account's stays with it"},
}

// Kinds lists every record kind in display order.
var Kinds = func() []Kind {
	out := make([]Kind, len(Specs))
	for i, s := range Specs {
		out[i] = s.Kind
	}
	return out
}()

var specOf = func() map[Kind]*KindSpec {
	m := make(map[Kind]*KindSpec, len(Specs))
	for _, s := range Specs {
		m[s.Kind] = s
	}
	return m
}()

// Spec returns the descriptor of k, or nil for an unknown kind.
func (k Kind) Spec() *KindSpec { return specOf[k] }

// Label is the administrator-facing name of k.
func (k Kind) Label() string {
	if s := k.Spec(); s != nil {
		return s.Label
	}
	if k == ProfileKind {
		return "Profile"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k.Spec() != nil }

// KindNamed finds a kind by its name or one of its aliases, in any case.
func KindNamed(s string) (Kind, bool) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if k.Valid() {
		return k, true
	}
	for _, spec := range Specs {
		if slices.Contains(spec.Aliases, string(k)) {
			return spec.Kind, true
		}
	}
	return "", false
}

// Moves reports whether a merge under the policy applies the kind's rule;
// otherwise every record of the kind stays with the source.
func (s *KindSpec) Moves(p Policy, moveExternalIDs bool) bool {
	if s.Shape == ShapeLeave {
		return false
	}
	return s.Applies == nil || s.Applies(p, moveExternalIDs)
}

// Rule says what a merge does with one kind under a policy, in one sentence.
// It is the text shown in previews, details and settings help.
func (k Kind) Rule(p Policy, moveExternalIDs bool) string {
	s := k.Spec()
	if s == nil {
		return ""
	}
	if s.Moves(p, moveExternalIDs) {
		return s.Rule
	}
	return s.LeftRule
}

// Field returns the field of the kind named name, or false.
func (s *KindSpec) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// AnswersText renders saved answers, results or a poll answer as text: a
// JSON object as "key: value; ...", in key order, a JSON list as
// "a, b", anything else as it is.
func AnswersText(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return raw
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return raw
	}
	return answerText(v)
}

func answerText(v any) string {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return "(none)"
		}
		parts := make([]string, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+answerText(v[k]))
		}
		return strings.Join(parts, "; ")
	case []any:
		if len(v) == 0 {
			return "(none)"
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = answerText(x)
		}
		return strings.Join(parts, ", ")
	case string:
		return v
	case nil:
		return "(none)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TitledCatalogs lists the catalogs whose titles an import may give
// (courses, contents, badges, polls...): those the kinds' fields name,
// groups and jobs aside, which carry their names themselves.
func TitledCatalogs() []string {
	var out []string
	for _, s := range Specs {
		for _, f := range s.Fields {
			if f.Catalog != "" && f.Catalog != "group" && f.Catalog != "job" && !slices.Contains(out, f.Catalog) {
				out = append(out, f.Catalog)
			}
		}
	}
	slices.Sort(out)
	return out
}
