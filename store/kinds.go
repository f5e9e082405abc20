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

var colTypeOf = map[usermerge.FieldType]colType{
	usermerge.Text: cText, usermerge.Answers: cText, usermerge.Int: cInt, usermerge.Real: cReal,
	usermerge.Bool: cBool, usermerge.Time: cTime, usermerge.TimeNull: cTimeNull,
}

type column struct {
	name string
	typ  colType
	f    usermerge.Field
}

// shape is how a merge treats one kind of record.
type shape = usermerge.Shape

const (
	shapeMove     = usermerge.ShapeMove
	shapeCombine  = usermerge.ShapeCombine
	shapeKeep     = usermerge.ShapeKeep
	shapeRenumber = usermerge.ShapeRenumber
	shapeLeave    = usermerge.ShapeLeave
)

// recordTable is the storage view of one kind's descriptor
// (usermerge.Specs): the statements of rules.go, revert.go, details.go and
// the import and export are built from it.
type recordTable struct {
	kind  usermerge.Kind
	spec  *usermerge.KindSpec
	table string
	cols  []column // after tenant_id, id, account_id
	shape shape
	key   string // the item column an account holds one live record of (combine, keep)
	// slots are the columns a merge journals, in order, in the integer slots
	// b1..b4/a1..a4; a text column uses bt/at_. Combine: the combined
	// columns; renumber: the renumbered column; keep: the kept record's
	// columns that later activity changes.
	slots []string
	// combined gives, per slot column, the SQL expression of the combined
	// value over the target row t and the source row s.
	combined map[string]string
	// latest is the column whose larger value wins for shapeKeep.
	latest string
	// live restricts which records a keep rule pairs (e.g. only suspended sessions).
	live string
	// org tables (shapeLeave) carry no id, moved_by or retired_by.
	org bool
}

// combineSQL is the SQL of one combine operator over the target row t and
// the source row s. A tie keeps the target's value; a present value beats an
// absent one.
func combineSQL(spec *usermerge.KindSpec, c usermerge.Combine) string {
	f := c.Field
	earliest := func(f string) string {
		return `CASE WHEN s.` + f + ` < t.` + f + ` OR t.` + f + ` IS NULL THEN s.` + f + ` ELSE t.` + f + ` END`
	}
	switch c.Op {
	case usermerge.OpEarliest:
		return earliest(f)
	case usermerge.OpLatest, usermerge.OpHighest, usermerge.OpEither:
		return `CASE WHEN s.` + f + ` > t.` + f + ` OR t.` + f + ` IS NULL THEN s.` + f + ` ELSE t.` + f + ` END`
	case usermerge.OpFurthest:
		field, _ := spec.Field(f)
		rank := func(alias string) string {
			q := `CASE ` + alias + `.` + f
			for i, v := range field.Enum {
				q += fmt.Sprintf(` WHEN '%s' THEN %d`, v, i)
			}
			return q + ` END`
		}
		return `CASE WHEN ` + rank("s") + ` > ` + rank("t") + ` THEN s.` + f + ` ELSE t.` + f + ` END`
	case usermerge.OpFirstCompletion:
		done := func(alias string) string { return alias + `.` + c.Status + ` = '` + c.Complete + `'` }
		return `CASE WHEN ` + done("t") + ` AND ` + done("s") + ` THEN ` + earliest(f) +
			` WHEN ` + done("s") + ` THEN s.` + f + ` ELSE t.` + f + ` END`
	case usermerge.OpSource:
		return `s.` + f
	}
	panic(fmt.Sprintf("kind %s: unknown operator %d", spec.Kind, c.Op))
}

func newRecordTable(spec *usermerge.KindSpec) *recordTable {
	t := &recordTable{kind: spec.Kind, spec: spec, table: spec.Table, shape: spec.Shape,
		latest: spec.Latest, org: spec.Shape == shapeLeave}
	if spec.Shape == shapeCombine || spec.Shape == shapeKeep {
		t.key = spec.Item
	}
	for _, f := range spec.Fields {
		t.cols = append(t.cols, column{name: f.Name, typ: colTypeOf[f.Type], f: f})
	}
	switch spec.Shape {
	case shapeCombine:
		t.combined = map[string]string{}
		for _, c := range spec.Combine {
			t.slots = append(t.slots, c.Field)
			t.combined[c.Field] = combineSQL(spec, c)
		}
	case shapeRenumber:
		t.slots = []string{spec.Renumber}
	case shapeKeep:
		t.slots = spec.Kept
		if spec.OpenWhileNull != "" {
			t.live = spec.OpenWhileNull + " IS NULL"
		}
	}
	return t
}

// recordTables are the kinds with record tables a merge moves, combines or
// retires; orgTables the org structure (shapeLeave), which never moves.
var recordTables, orgTables = func() (rec, org []*recordTable) {
	for _, spec := range usermerge.Specs {
		t := newRecordTable(spec)
		if t.org {
			org = append(org, t)
		} else {
			rec = append(rec, t)
		}
	}
	return rec, org
}()

// orgTableOf finds the org structure tables.
var orgTableOf = func() map[usermerge.Kind]*recordTable {
	m := map[usermerge.Kind]*recordTable{}
	for _, t := range orgTables {
		m[t.kind] = t
	}
	return m
}()

var tableOf = func() map[usermerge.Kind]*recordTable {
	m := map[usermerge.Kind]*recordTable{}
	for _, t := range recordTables {
		m[t.kind] = t
		ints, texts := 0, 0
		for _, c := range t.slots {
			if t.colType(c) == cText {
				texts++
			} else {
				ints++
			}
		}
		if ints > 4 || texts > 1 {
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

// DataTables lists the tables that hold a tenant's data, as opposed to the
// merge bookkeeping (JournalTables) and sign-in state: the tables a merge
// followed by its revert must give back as they were.
func DataTables() []string {
	out := []string{"tenants", "groups", "jobs", "accounts", "admins", "admin_scopes", "titles"}
	for _, t := range orgTables {
		out = append(out, t.table)
	}
	for _, t := range recordTables {
		out = append(out, t.table)
	}
	return out
}

// JournalTables lists the tables of merge bookkeeping.
func JournalTables() []string {
	return []string{"merges", "merge_counts", "journal_values", "journal_moves", "revert_kept", "merge_profile", "events"}
}
