package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"usermerge"
)

// Import reads NDJSON learner data (docs/import-format.md) and writes it in
// one transaction: any bad line aborts the import with a bad_line error
// naming the line, and nothing is written. Existing ids are updated in place.
func (db *DB) Import(ctx context.Context, r io.Reader) (ImportStats, error) {
	return db.importNDJSON(ctx, r, "")
}

// ImportTenant is Import confined to one tenant: a line for any other
// tenant is a bad line. The API uses it, so that an administrator's import
// can never write another tenant's data.
func (db *DB) ImportTenant(ctx context.Context, r io.Reader, tenant string) (ImportStats, error) {
	if tenant == "" {
		return ImportStats{}, usermerge.Errorf(usermerge.Invalid, "tenant_required", "no tenant given")
	}
	return db.importNDJSON(ctx, r, tenant)
}

func (db *DB) importNDJSON(ctx context.Context, r io.Reader, only string) (ImportStats, error) {
	stats := ImportStats{PerKind: map[string]int{}}
	err := db.TransactOnce(ctx, func(tx *Tx) error {
		stats = ImportStats{PerKind: map[string]int{}}
		im := newImporter(ctx, tx)
		im.only = only
		defer im.close()
		lr := newLineReader(r)
		for {
			line, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			kind, err := im.line(lr.n, line)
			if err != nil {
				return err
			}
			stats.Lines++
			stats.PerKind[kind]++
		}
		return im.finish()
	})
	if err != nil {
		return ImportStats{PerKind: map[string]int{}}, err
	}
	db.analyze(ctx, stats.tables())
	return stats, nil
}

// tables lists the tables that lines of the kinds counted in stats write.
func (st ImportStats) tables() []string {
	var out []string
	for kind := range st.PerKind {
		switch kind {
		case "tenant", "group", "job", "account", "membership", "account_job", "title":
			out = append(out, kind+"s")
		case "admin":
			out = append(out, "admins", "admin_scopes")
		default:
			if t := tableOf[usermerge.Kind(kind)]; t != nil {
				out = append(out, t.table)
			}
		}
	}
	slices.Sort(out)
	return out
}

// analyze refreshes the planner's statistics of the tables an import
// filled: without them, the first merges after a large import plan their
// joins as if the tables were empty (a merge right after a 480,000-line
// import took over 300 s instead of 17 s on PostgreSQL). The import has
// committed by then, so a failure here is not the import's: the
// statistics are only an aid, and autovacuum (PostgreSQL) or the next
// import refreshes them.
func (db *DB) analyze(ctx context.Context, tables []string) {
	if len(tables) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if db.dialect.name == "sqlite" {
		// Sample at most about 1,000 rows per index, as PostgreSQL samples,
		// so that ANALYZE stays quick on large tables.
		if _, err := conn.ExecContext(ctx, `PRAGMA analysis_limit = 1000`); err != nil {
			return
		}
		defer conn.ExecContext(ctx, `PRAGMA analysis_limit = 0`)
	}
	for _, t := range tables {
		conn.ExecContext(ctx, `ANALYZE `+t)
	}
}

// lineReader splits input into lines of any length up to maxLineBytes
// without holding more than one line.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	n    int // number of the line last returned
	done bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its line ending; the slice is valid
// until the following call. A final line without a newline counts; the
// newline that ends the last line does not start another.
func (lr *lineReader) next() ([]byte, error) {
	if lr.done {
		return nil, io.EOF
	}
	lr.n++
	lr.buf = lr.buf[:0]
	var line []byte
	for {
		frag, err := lr.br.ReadSlice('\n')
		if len(lr.buf)+len(frag) > maxLineBytes+2 {
			return nil, badLine(lr.n, "line is longer than 16 MiB")
		}
		if err == nil && len(lr.buf) == 0 {
			line = frag // the common case: no copy
			break
		}
		lr.buf = append(lr.buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			lr.done = true
			if len(lr.buf) == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			return nil, fmt.Errorf("read line %d: %w", lr.n, err)
		}
		line = lr.buf
		break
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxLineBytes {
		return nil, badLine(lr.n, "line is longer than 16 MiB")
	}
	return line, nil
}

// importer writes the lines of one import inside its transaction.
type importer struct {
	ctx         context.Context
	tx          *Tx
	tenants     map[string]bool    // tenants known to exist
	accounts    map[[2]string]bool // accounts known to exist (bounded cache)
	stmts       map[*recordTable]*sql.Stmt
	accountStmt *sql.Stmt      // existence check for record lines
	merged      []pendingMerge // merged_into references, checked at the end
	args        []any
	only        string // when set, the one tenant lines may name
}

// pendingMerge is a merged_into reference. It is checked after the last
// line because accounts come in id order and a source's target may follow it.
type pendingMerge struct {
	n                       int
	tenant, account, target string
}

const accountCacheMax = 1 << 16

func newImporter(ctx context.Context, tx *Tx) *importer {
	return &importer{ctx: ctx, tx: tx, tenants: map[string]bool{}, accounts: map[[2]string]bool{},
		stmts: map[*recordTable]*sql.Stmt{}}
}

func (im *importer) close() {
	for _, s := range im.stmts {
		s.Close()
	}
	if im.accountStmt != nil {
		im.accountStmt.Close()
	}
}

func (im *importer) finish() error {
	for _, p := range im.merged {
		ok, err := im.exists(`SELECT 1 FROM accounts WHERE tenant_id = ? AND id = ?`, p.tenant, p.target)
		if err != nil {
			return err
		}
		if !ok {
			return badLine(p.n, "merged_into: account %q does not exist in tenant %q", p.target, p.tenant)
		}
	}
	return nil
}

// parseLine checks what one line says without the database: one JSON
// object of valid UTF-8, a known kind, known fields only.
func parseLine(n int, b []byte) (string, object, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return "", object{}, badLine(n, "empty line; every line must be one JSON object")
	}
	if !utf8.Valid(b) {
		return "", object{}, badLine(n, "not valid UTF-8 text")
	}
	o, err := parseObject(n, "", b)
	if err != nil {
		return "", o, err
	}
	kind, ok, err := o.str("kind")
	if err != nil {
		return "", o, err
	}
	if !ok {
		return "", o, o.missing("kind")
	}
	fields, known := lineFields[kind]
	if !known {
		return "", o, badLine(n, "unknown kind %q", cut(kind))
	}
	return kind, o, o.checkFields(fields)
}

// CheckImport reads a whole import (format "ndjson" or "csv") and checks
// what can be checked without the database: each NDJSON line one JSON
// object of a known kind with known fields, each CSV row well-formed
// under a valid header, no line over 16 MiB, all text UTF-8. The server
// runs it while an upload arrives, so that a broken or slow upload is
// refused before the import's write transaction opens.
func CheckImport(r io.Reader, format string) error {
	if format == "csv" {
		cr, _, err := openCSV(r)
		if err != nil {
			return err
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return csvErr(err)
			}
			for _, f := range rec {
				if !utf8.ValidString(f) {
					n, _ := cr.FieldPos(0)
					return badLine(n, "not valid UTF-8 text")
				}
			}
		}
	}
	lr := newLineReader(r)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, _, err := parseLine(lr.n, line); err != nil {
			return err
		}
	}
}

// line validates and writes one line and returns its kind.
func (im *importer) line(n int, b []byte) (string, error) {
	kind, o, err := parseLine(n, b)
	if err != nil {
		return "", err
	}
	switch kind {
	case "tenant":
		err = im.tenantLine(o)
	case "group":
		err = im.groupLine(o)
	case "job":
		err = im.jobLine(o)
	case "title":
		err = im.titleLine(o)
	case "account":
		err = im.accountLine(o)
	case "membership":
		err = im.membershipLine(o)
	case "account_job":
		err = im.accountJobLine(o)
	case "admin":
		err = im.adminLine(o)
	default:
		err = im.recordLine(o, tableOf[usermerge.Kind(kind)])
	}
	return kind, err
}

func (im *importer) exists(query string, args ...any) (bool, error) {
	var one int
	err := im.tx.QueryRow(im.ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", firstLine(query), err)
	}
	return true, nil
}

// writeErr turns a refused write of line n into the line's error. describe
// gives the clear reason for a constraint ("duplicate", "missing_reference");
// failures that are not the input's fault stay internal.
func (im *importer) writeErr(n int, err error, describe func(reason string) string) error {
	var de *usermerge.Error
	if errors.As(err, &de) && de.Code == usermerge.Invalid {
		e := badLine(n, "%s", de.Message)
		e.Err = err
		return e
	}
	if errors.As(im.tx.d.mapError(err), &de) {
		switch de.Reason {
		case "duplicate", "missing_reference", "constraint":
			msg := ""
			if describe != nil {
				msg = describe(de.Reason)
			}
			if msg == "" {
				msg = de.Message
			}
			e := badLine(n, "%s", msg)
			e.Err = err
			return e
		}
	}
	return fmt.Errorf("line %d: %w", n, err)
}

// tenantRef reads the line's "tenant" field and checks the tenant exists.
func (im *importer) tenantRef(o object) (string, error) {
	id, err := o.id("tenant")
	if err == nil && im.only != "" && id != im.only {
		return "", badLine(o.n, "this line is for tenant %q; this import may only write tenant %q", id, im.only)
	}
	if err != nil || im.tenants[id] {
		return id, err
	}
	ok, err := im.exists(`SELECT 1 FROM tenants WHERE id = ?`, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", badLine(o.n, "tenant %q does not exist (its tenant line must come first)", id)
	}
	im.tenants[id] = true
	return id, nil
}

// accountRef reads a required account reference and checks it exists.
func (im *importer) accountRef(o object, field, tenant string) (string, error) {
	id, err := o.id(field)
	if err != nil {
		return "", err
	}
	return id, im.checkAccount(o.n, tenant, id)
}

func (im *importer) checkAccount(n int, tenant, id string) error {
	key := [2]string{tenant, id}
	if im.accounts[key] {
		return nil
	}
	if im.accountStmt == nil {
		s, err := im.tx.tx.PrepareContext(im.ctx, im.tx.d.rebind(`SELECT 1 FROM accounts WHERE tenant_id = ? AND id = ?`))
		if err != nil {
			return fmt.Errorf("prepare account check: %w", err)
		}
		im.accountStmt = s
	}
	var one int
	err := im.accountStmt.QueryRowContext(im.ctx, tenant, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return badLine(n, "account %q does not exist in tenant %q", id, tenant)
	}
	if err != nil {
		return fmt.Errorf("check account: %w", err)
	}
	if len(im.accounts) >= accountCacheMax {
		clear(im.accounts)
	}
	im.accounts[key] = true
	return nil
}

func (im *importer) groupRef(o object, field, tenant string) (string, error) {
	id, err := o.id(field)
	if err != nil {
		return "", err
	}
	return id, im.checkGroup(o.n, tenant, id)
}

func (im *importer) checkGroup(n int, tenant, id string) error {
	ok, err := im.exists(`SELECT 1 FROM groups WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err == nil && !ok {
		err = badLine(n, "group %q does not exist in tenant %q", id, tenant)
	}
	return err
}

func (im *importer) tenantLine(o object) error {
	id, err := o.id("id")
	if err != nil {
		return err
	}
	if im.only != "" && id != im.only {
		return badLine(o.n, "this line is for tenant %q; this import may only write tenant %q", id, im.only)
	}
	name, hasName, err := o.str("name")
	if err != nil {
		return err
	}
	preset, hasPreset, err := o.str("preset")
	if err != nil {
		return err
	}
	// What the line leaves out stays as it is: the name, and without a
	// preset the policy settings it does not name (of a new tenant: none,
	// and the default policy, learningbox).
	cur, err := im.tx.Tenant(im.ctx, id)
	switch {
	case err == nil:
	case usermerge.ErrorCode(err) == usermerge.NotFound:
		cur = usermerge.Tenant{Policy: usermerge.Presets["learningbox"]}
	default:
		return err
	}
	if !hasName {
		name = cur.Name
	}
	p := cur.Policy
	if hasPreset {
		var ok bool
		if p, ok = usermerge.Presets[preset]; !ok {
			return badLine(o.n, "preset must be %s, not %q", orList(usermerge.PresetNames), cut(preset))
		}
	}
	if raw, ok := o.get("policy"); ok {
		if raw[0] != '{' {
			return o.wrongType("policy", "an object", raw)
		}
		po, err := parseObject(o.n, "policy.", raw)
		if err != nil {
			return err
		}
		if err := po.checkFields(policyFieldSet); err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			dst  *bool
		}{{"merge_enabled", &p.MergeEnabled}, {"revert_allowed", &p.RevertAllowed}, {"move_external_ids", &p.MoveExternalIDs}} {
			v, ok, err := po.boolean(f.name)
			if err != nil {
				return err
			}
			if ok {
				*f.dst = v
			}
		}
		for _, f := range []struct {
			name string
			set  func(string)
		}{
			{"badges", func(s string) { p.Badges = usermerge.BadgePolicy(s) }},
			{"credits", func(s string) { p.Credits = usermerge.CreditPolicy(s) }},
			{"certificates", func(s string) { p.Certificates = usermerge.CertificatePolicy(s) }},
		} {
			v, ok, err := po.str(f.name)
			if err != nil {
				return err
			}
			if ok {
				f.set(v)
			}
		}
	}
	if err := p.Validate(); err != nil {
		return badLine(o.n, "policy.%s", usermerge.ErrorMessage(err))
	}
	if err := im.tx.PutTenant(im.ctx, usermerge.Tenant{ID: id, Name: name, Policy: p}); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	im.tenants[id] = true
	return nil
}

var policyFieldSet = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range policyFields {
		m[f] = true
	}
	return m
}()

func (im *importer) groupLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	id, err := o.id("id")
	if err != nil {
		return err
	}
	name, hasName, err := o.str("name")
	if err != nil {
		return err
	}
	parent, hasParent, err := o.optID("parent")
	if err != nil {
		return err
	}
	if !hasName || !hasParent { // a line keeps what it leaves out
		var curName, curParent string
		err := im.tx.QueryRow(im.ctx, `SELECT name, COALESCE(parent_id, '') FROM groups WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&curName, &curParent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("group %s: %w", id, err)
		}
		if !hasName {
			name = curName
		}
		if !hasParent {
			parent = curParent
		}
	}
	if hasParent && parent != "" { // "" makes the group a top-level one
		if parent == id {
			return badLine(o.n, "group %q cannot be its own parent", id)
		}
		ok, err := im.exists(`SELECT 1 FROM groups WHERE tenant_id = ? AND id = ?`, tenant, parent)
		if err != nil {
			return err
		}
		if !ok {
			return badLine(o.n, "parent group %q does not exist in tenant %q (parents must come before their subgroups)", parent, tenant)
		}
		// Re-parenting an existing group must not close a loop.
		for p, depth := parent, 0; p != "" && depth < 1_000_000; depth++ {
			if p == id {
				return badLine(o.n, "parent %q would make group %q its own ancestor", parent, id)
			}
			if err := im.tx.QueryRow(im.ctx, `SELECT COALESCE(parent_id, '') FROM groups WHERE tenant_id = ? AND id = ?`, tenant, p).Scan(&p); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					break
				}
				return fmt.Errorf("group ancestors: %w", err)
			}
		}
	}
	err = im.tx.PutGroup(im.ctx, usermerge.Group{TenantID: tenant, ID: id, Name: name, ParentID: parent})
	if err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

func (im *importer) jobLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	id, err := o.id("id")
	if err != nil {
		return err
	}
	title, hasTitle, err := o.str("title")
	if err != nil {
		return err
	}
	if !hasTitle { // a line keeps what it leaves out
		err := im.tx.QueryRow(im.ctx, `SELECT title FROM jobs WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&title)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %s: %w", id, err)
		}
	}
	if err := im.tx.PutJob(im.ctx, usermerge.Job{TenantID: tenant, ID: id, Title: title}); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

// titleLine writes the title of one item of a catalog (a course, a
// content, a badge, a poll...), which merge details show beside its id.
func (im *importer) titleLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	catalog, ok, err := o.str("catalog")
	if err != nil {
		return err
	}
	if !ok {
		return o.missing("catalog")
	}
	if err := oneOf(o.n, "catalog", catalog, usermerge.TitledCatalogs()...); err != nil {
		return err
	}
	id, err := o.id("id")
	if err != nil {
		return err
	}
	title, ok, err := o.str("title")
	if err != nil {
		return err
	}
	if !ok {
		return o.missing("title")
	}
	if err := im.tx.PutTitle(im.ctx, tenant, catalog, id, title); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

// accountLine writes an account line. An existing account keeps its status when
// the line has none, and keeps its deletion and merge markers unless the line
// sets them: an import never un-deletes or un-merges an account.
func (im *importer) accountLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	id, err := o.id("id")
	if err != nil {
		return err
	}
	login, err := o.id("login")
	if err != nil {
		return err
	}
	email, hasEmail, err := o.str("email")
	if err != nil {
		return err
	}
	name, hasName, err := o.str("name")
	if err != nil {
		return err
	}
	status, hasStatus, err := o.str("status")
	if err != nil {
		return err
	}
	if hasStatus {
		if err := oneOf(o.n, "status", status, string(usermerge.Active), string(usermerge.Inactive)); err != nil {
			return err
		}
	}
	created, err := o.reqTime("created_at")
	if err != nil {
		return err
	}
	deleted, hasDeleted, err := o.time("deleted_at")
	if err != nil {
		return err
	}
	target, hasTarget, err := o.optID("merged_into")
	if err != nil {
		return err
	}
	if hasTarget && target == "" {
		return badLine(o.n, "merged_into must not be empty (omit it)")
	}
	if target == id {
		return badLine(o.n, "account %q cannot be merged into itself", id)
	}
	attrs, err := attributesField(o)
	if err != nil {
		return err
	}
	if err := im.checkLogin(o.n, `accounts`, "account", tenant, id, login); err != nil {
		return err
	}
	a := usermerge.Account{TenantID: tenant, ID: id, Login: login, Email: email, Name: name,
		Status: usermerge.Active, CreatedAt: FromMillis(created)}
	cur, err := im.tx.Account(im.ctx, tenant, id)
	exists := err == nil
	switch {
	case exists:
		a.Status, a.DeletedAt, a.MergedInto, a.MergedBy = cur.Status, cur.DeletedAt, cur.MergedInto, cur.MergedBy
		a.Attributes = cur.Attributes
		if !hasEmail {
			a.Email = cur.Email
		}
		if !hasName {
			a.Name = cur.Name
		}
	case usermerge.ErrorCode(err) != usermerge.NotFound:
		return err
	}
	if hasStatus {
		a.Status = usermerge.AccountStatus(status)
	}
	a.Attributes = applyAttributes(a.Attributes, attrs)
	if err := usermerge.ValidateAttributes(a.Attributes); err != nil {
		return badLine(o.n, "%s", usermerge.ErrorMessage(err))
	}
	switch {
	case !hasDeleted, exists && cur.Deleted():
		// A tombstone stays as it is.
	case exists:
		// Deleting an account here has effects on merges (PRODUCT.md §7)
		// that only the delete command applies.
		return badLine(o.n, "account %q exists and is not deleted; an import does not delete accounts: delete it with "+
			"\"usermerge --tenant %s --as ADMIN delete %s\" or DELETE /api/v1/tenants/%s/accounts/%s, which apply the merge rules of deletion",
			id, tenant, id, tenant, id)
	default: // a new account that the platform had deleted
		t := FromMillis(deleted)
		a.DeletedAt = &t
	}
	if hasTarget {
		if a.MergedInto != target {
			a.MergedBy = 0 // merged by a merge not in this database
		}
		a.MergedInto = target
		im.merged = append(im.merged, pendingMerge{n: o.n, tenant: tenant, account: id, target: target})
	}
	if err := im.tx.PutAccount(im.ctx, a); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	im.accounts[[2]string{tenant, id}] = true
	return nil
}

// checkLogin reports a login another account (or admin) of the tenant holds.
func (im *importer) checkLogin(n int, table, what, tenant, id, login string) error {
	var other string
	err := im.tx.QueryRow(im.ctx, `SELECT id FROM `+table+` WHERE tenant_id = ? AND login = ? AND id <> ?`, tenant, login, id).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check login: %w", err)
	}
	return badLine(n, "login %q is already used by %s %q in tenant %q", login, what, other, tenant)
}

func (im *importer) membershipLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	account, err := im.accountRef(o, "account", tenant)
	if err != nil {
		return err
	}
	group, err := im.groupRef(o, "group", tenant)
	if err != nil {
		return err
	}
	if err := im.tx.PutMembership(im.ctx, tenant, account, group); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

func (im *importer) accountJobLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	account, err := im.accountRef(o, "account", tenant)
	if err != nil {
		return err
	}
	job, err := o.id("job")
	if err != nil {
		return err
	}
	if err := im.checkJob(o.n, tenant, job); err != nil {
		return err
	}
	if err := im.tx.PutAccountJob(im.ctx, tenant, account, job); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

func (im *importer) checkJob(n int, tenant, id string) error {
	ok, err := im.exists(`SELECT 1 FROM jobs WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err == nil && !ok {
		err = badLine(n, "job %q does not exist in tenant %q", id, tenant)
	}
	return err
}

// adminLine writes an admin line; its scopes replace the stored ones, and an
// absent password_hash keeps the stored hash.
func (im *importer) adminLine(o object) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	a := usermerge.Admin{TenantID: tenant}
	if a.ID, err = o.id("id"); err != nil {
		return err
	}
	if a.Login, err = o.id("login"); err != nil {
		return err
	}
	name, hasName, err := o.str("name")
	if err != nil {
		return err
	}
	role, err := o.id("role")
	if err != nil {
		return err
	}
	if err := oneOf(o.n, "role", role, string(usermerge.TenantAdmin), string(usermerge.GroupManager)); err != nil {
		return err
	}
	a.Role = usermerge.Role(role)
	_, hasAccount := o.get("account")
	if hasAccount {
		if a.AccountID, err = im.accountRef(o, "account", tenant); err != nil {
			return err
		}
	}
	hash, err := o.optStr("password_hash")
	if err != nil {
		return err
	}
	if hash != "" {
		if err := usermerge.CheckPasswordHash(hash); err != nil {
			return badLine(o.n, "%s", usermerge.ErrorMessage(err))
		}
	}
	if a.Scopes, err = im.scopes(o, tenant); err != nil {
		return err
	}
	a.Name = name
	if _, hasScopes := o.get("scopes"); !hasName || !hasAccount || !hasScopes {
		// A line keeps what it leaves out: the name, the account link, the
		// scopes.
		var curName, curAccount string
		err := im.tx.QueryRow(im.ctx, `SELECT name, COALESCE(account_id, '') FROM admins WHERE tenant_id = ? AND id = ?`, tenant, a.ID).Scan(&curName, &curAccount)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("admin %s: %w", a.ID, err)
		default:
			if !hasName {
				a.Name = curName
			}
			if !hasAccount {
				a.AccountID = curAccount
			}
			if !hasScopes {
				if a.Scopes, err = im.tx.scopes(im.ctx, tenant, a.ID); err != nil {
					return err
				}
			}
		}
	}
	if a.Role == usermerge.GroupManager && len(a.Scopes) == 0 {
		return badLine(o.n, "a group_manager needs at least one scope")
	}
	if err := im.checkLogin(o.n, `admins`, "administrator", tenant, a.ID, a.Login); err != nil {
		return err
	}
	if err := im.tx.PutAdmin(im.ctx, a, hash); err != nil {
		return im.writeErr(o.n, err, nil)
	}
	return nil
}

func (im *importer) scopes(o object, tenant string) ([]usermerge.Scope, error) {
	raw, ok := o.get("scopes")
	if !ok {
		return nil, nil
	}
	var elems []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, o.wrongType("scopes", "an array", raw)
	}
	var out []usermerge.Scope
	seen := map[string]bool{}
	for i, el := range elems {
		name := fmt.Sprintf("scopes[%d]", i)
		if len(el) == 0 || el[0] != '{' {
			return nil, o.wrongType(name, "an object", el)
		}
		so, err := parseObject(o.n, name+".", el)
		if err != nil {
			return nil, err
		}
		if err := so.checkFields(map[string]bool{"group": true, "right": true}); err != nil {
			return nil, err
		}
		group, err := so.id("group")
		if err != nil {
			return nil, err
		}
		right, err := so.id("right")
		if err != nil {
			return nil, err
		}
		if err := oneOf(o.n, name+".right", right, string(usermerge.RightEdit), string(usermerge.RightView)); err != nil {
			return nil, err
		}
		if seen[group] {
			return nil, badLine(o.n, "%s: group %q is named twice", name, group)
		}
		seen[group] = true
		if err := im.checkGroup(o.n, tenant, group); err != nil {
			return nil, err
		}
		out = append(out, usermerge.Scope{GroupID: group, Right: usermerge.Right(right)})
	}
	return out, nil
}

// recordLine writes one record line through the table's prepared upsert.
func (im *importer) recordLine(o object, t *recordTable) error {
	tenant, err := im.tenantRef(o)
	if err != nil {
		return err
	}
	id, err := o.id("id")
	if err != nil {
		return err
	}
	account, err := o.id("account")
	if err != nil {
		return err
	}
	args := append(im.args[:0], tenant, id, account)
	for _, c := range t.cols {
		v, err := recordValue(o, t, c)
		if err != nil {
			return err
		}
		args = append(args, v)
	}
	im.args = args
	vals := args[3:]
	if err := checkRecord(o.n, t, vals); err != nil {
		return err
	}
	retired, _, err := o.boolean("retired")
	if err != nil {
		return err
	}
	if err := im.checkAccount(o.n, tenant, account); err != nil {
		return err
	}
	var retiredBy any
	if retired {
		retiredBy = int64(0) // retired by a merge not in this database
	}
	args = append(args, retiredBy)
	stmt, err := im.stmt(t)
	if err != nil {
		return err
	}
	if _, err := stmt.ExecContext(im.ctx, args...); err != nil {
		return im.writeErr(o.n, err, func(reason string) string { return recordConflict(t, reason, tenant, account, vals) })
	}
	return nil
}

// recordValue reads one column of a record line in its stored form.
func recordValue(o object, t *recordTable, c column) (any, error) {
	switch c.typ {
	case cText:
		s, ok, err := o.str(c.name)
		if err != nil {
			return nil, err
		}
		if c.f.Required {
			if !ok {
				return nil, o.missing(c.name)
			}
			if s == "" {
				return nil, badLine(o.n, "%s must not be empty", c.name)
			}
		}
		if allowed := c.f.Enum; allowed != nil {
			if err := oneOf(o.n, c.name, s, allowed...); err != nil {
				return nil, err
			}
		}
		return s, nil
	case cInt:
		return o.integer(c.name)
	case cReal:
		return o.number(c.name)
	case cBool:
		v, ok, err := o.boolean(c.name)
		if err == nil && !ok {
			err = o.missing(c.name)
		}
		return int64(b2i(v)), err
	case cTime:
		return o.reqTime(c.name)
	case cTimeNull:
		ms, ok, err := o.time(c.name)
		if err != nil || !ok {
			return nil, err
		}
		return ms, nil
	}
	return nil, fmt.Errorf("column %s of %s: unknown type", c.name, t.table)
}

// checkRecord applies the rules that span a column's range or two columns.
func checkRecord(n int, t *recordTable, vals []any) error {
	for i, c := range t.cols {
		switch c.name {
		case "attempt_no":
			if v := vals[i].(int64); v < 1 {
				return badLine(n, "attempt_no must be >= 1, not %d", v)
			}
		case "percent":
			if v := vals[i].(int64); v < 0 || v > 100 {
				return badLine(n, "percent must be between 0 and 100, not %d", v)
			}
		case "currency":
			if s := vals[i].(string); !isCurrency(s) {
				return badLine(n, "currency must be 3 upper-case letters (ISO 4217, e.g. \"EUR\"), not %q", cut(s))
			}
		case "completed_at":
			completed := valueOf(t, vals, "status") == "completed"
			if completed && vals[i] == nil {
				return badLine(n, "completed_at is required when status is \"completed\"")
			}
			if !completed && vals[i] != nil {
				return badLine(n, "completed_at must be omitted unless status is \"completed\"")
			}
		}
	}
	return nil
}

func valueOf(t *recordTable, vals []any, name string) any {
	for i, c := range t.cols {
		if c.name == name {
			return vals[i]
		}
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// recordConflict explains a record the database refused.
func recordConflict(t *recordTable, reason, tenant, account string, vals []any) string {
	switch reason {
	case "missing_reference":
		return fmt.Sprintf("account %q does not exist in tenant %q", account, tenant)
	case "duplicate":
		switch {
		case t.kind == usermerge.KindExternalIDs:
			return fmt.Sprintf("external ID value %q of system %q is already used in tenant %q (a value belongs to one account)",
				valueOf(t, vals, "value"), valueOf(t, vals, "system"), tenant)
		case t.kind == usermerge.KindQuizSessions:
			return fmt.Sprintf("account %q already has a suspended session of quiz_id %q; only one may be open (not graded, not retired)",
				account, valueOf(t, vals, "quiz_id"))
		case t.key != "":
			return fmt.Sprintf("account %q already has a live %s record for %s %q; only one per item may be live (mark the others \"retired\":true)",
				account, t.kind, t.key, valueOf(t, vals, t.key))
		}
	}
	return ""
}

func (im *importer) stmt(t *recordTable) (*sql.Stmt, error) {
	if s := im.stmts[t]; s != nil {
		return s, nil
	}
	s, err := im.tx.tx.PrepareContext(im.ctx, im.tx.d.rebind(upsertRecordSQL(t)))
	if err != nil {
		return nil, fmt.Errorf("prepare %s upsert: %w", t.table, err)
	}
	im.stmts[t] = s
	return s, nil
}

// upsertRecordSQL inserts a record or updates it in place. Bookkeeping stays:
// moved_by, the account a merge moved the record to (an import must not
// silently undo a merge), and retired_by, which "retired":true (bound as 0)
// can only set, never clear.
func upsertRecordSQL(t *recordTable) string {
	cols := append(append([]string{"tenant_id", "id", "account_id"}, t.colNames()...), "retired_by")
	set := []string{fmt.Sprintf("account_id = CASE WHEN %s.moved_by IS NULL THEN excluded.account_id ELSE %[1]s.account_id END", t.table)}
	for _, c := range t.cols {
		set = append(set, c.name+" = excluded."+c.name)
	}
	set = append(set, fmt.Sprintf("retired_by = COALESCE(%s.retired_by, excluded.retired_by)", t.table))
	return `INSERT INTO ` + t.table + ` (` + strings.Join(cols, ", ") + `) VALUES (` + placeholders(len(cols)) + `)
		ON CONFLICT (tenant_id, id) DO UPDATE SET ` + strings.Join(set, ", ")
}

// attributesField reads an account line's "attributes" object: each key a
// valid attribute key, each value a string ("" empties the attribute).
// Absent, it is nil: the account keeps what it has.
func attributesField(o object) (map[string]string, error) {
	raw, ok := o.get("attributes")
	if !ok {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, o.wrongType("attributes", "an object", raw)
	}
	ao, err := parseObject(o.n, "attributes.", raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ao.keys))
	for _, k := range ao.keys {
		v, _, err := ao.str(k)
		if err != nil {
			return nil, err
		}
		if err := usermerge.ValidateAttribute(k, v); err != nil {
			return nil, badLine(o.n, "%s", usermerge.ErrorMessage(err))
		}
		out[k] = v
	}
	return out, nil
}

// applyAttributes gives cur the values of set, a key set to "" removed,
// the keys set leaves out kept; cur is not changed.
func applyAttributes(cur, set map[string]string) map[string]string {
	out := make(map[string]string, len(cur)+len(set))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range set {
		out[k] = v
	}
	return usermerge.CompactAttributes(out)
}
