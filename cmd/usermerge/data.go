package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/store"
)

var demoCmd = &command{
	name:    "demo",
	usage:   "demo [--seed N] [--force]",
	summary: "create a database with demo data",
	help: `Creates the database named by --db (default usermerge.db) with demo data:
tenant acme (learningbox preset: badges transfer, reverts allowed) and tenant
globex (schoox preset: irreversible merges), each with an org tree, a few
hundred learners with a history of every kind of record, groups of
duplicate accounts of the same people, and administrators: admin (tenant
administrator), sales-editor (edit over Sales), eng-viewer (view over
Engineering) and support-editor. It prints the duplicate groups and the
commands to try next.

It refuses a database that already holds tenants, unless --force, which
deletes the file and creates it anew. The same --seed gives the same data.

Examples:
  usermerge demo
  usermerge --db /tmp/try.db demo --seed 7
  usermerge demo --force`,
	db: noDB,
	setup: func(fs *flag.FlagSet) runFunc {
		seed := fs.Uint64("seed", 1, "generate the data from seed `N`")
		force := fs.Bool("force", false, "delete an existing database file and create it anew")
		return func(ctx context.Context, m *Main, args []string) error {
			if err := m.freshDB(ctx, *force); err != nil {
				return err
			}
			sum, err := demo.Load(ctx, m.db, demo.Options{Seed: *seed, Now: m.now()})
			if err != nil {
				return err
			}
			return m.emit(sum, func(w io.Writer) error { return m.writeDemo(w, sum, *seed) })
		}
	},
}

// freshDB opens --db for the demo: a new or empty database, or with force
// a deleted and recreated file.
func (m *Main) freshDB(ctx context.Context, force bool) error {
	if err := m.openDB(ctx, true); err != nil {
		return err
	}
	ts, err := m.tenants(ctx)
	if err != nil || len(ts) == 0 {
		return err
	}
	path := m.dbPath()
	if !force {
		return usermerge.Errorf(usermerge.Conflict, "database_not_empty",
			"database %s already holds tenants %s; pass --force to delete it and create the demo anew, or name another file with --db", m.g.db, tenantList(ts))
	}
	if path == "" {
		return usageError("demo: --force deletes SQLite files only; empty the database %s by other means", m.g.db)
	}
	if err := m.Close(); err != nil {
		return usermerge.InternalError(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return usermerge.Errorf(usermerge.Conflict, "remove_failed", "cannot delete %s: %v", path+suffix, errors.Unwrap(err))
		}
	}
	return m.openDB(ctx, true)
}

// writeDuplicates lists a demo tenant's duplicate accounts, the account to
// keep first (demo and serve --demo).
func writeDuplicates(w io.Writer, t demo.Tenant) {
	fmt.Fprintf(w, "\nTenant %s: %s, %s preset, %d accounts\n", t.ID, t.Name, t.Preset, t.Accounts)
	fmt.Fprintln(w, "  Duplicate accounts (the first is the one to keep):")
	for _, d := range t.Duplicates {
		if len(d) > 0 {
			fmt.Fprintf(w, "    %s  <-  %s\n", d[0], strings.Join(d[1:], ", "))
		}
	}
}

func (m *Main) writeDemo(w io.Writer, sum demo.Summary, seed uint64) error {
	fmt.Fprintf(w, "Created demo database %s (seed %d).\n", m.g.db, seed)
	prefix := "usermerge"
	if m.g.db != defaultDB {
		prefix += " --db " + shellQuote(m.g.db)
	}
	for _, t := range sum.Tenants {
		writeDuplicates(w, t)
		fmt.Fprintln(w, "  Administrators:")
		tw := newTable(w)
		for _, a := range t.Admins {
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", a.Login, a.Role, a.Scope)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nAdministrators sign in to the API with the password %q: usermerge --db %s serve\n", demo.DemoPassword, shellQuote(m.g.db))
	if len(sum.Tenants) == 0 || len(sum.Tenants[0].Duplicates) == 0 || len(sum.Tenants[0].Duplicates[0]) < 2 {
		return nil
	}
	t := sum.Tenants[0]
	d := t.Duplicates[0]
	c := fmt.Sprintf("%s --tenant %s --as %s", prefix, t.ID, t.Admins[0].Login)
	fmt.Fprintln(w, "\nTry next:")
	for _, line := range []string{
		fmt.Sprintf("%s accounts %s", c, searchTerm(d[0])),
		fmt.Sprintf("%s account %s", c, d[1]),
		fmt.Sprintf("%s preview --target %s %s", c, d[0], strings.Join(d[1:], " ")),
		fmt.Sprintf("%s merge --yes --target %s %s", c, d[0], strings.Join(d[1:], " ")),
		fmt.Sprintf("%s merges", c),
		fmt.Sprintf("%s show 1", c),
		fmt.Sprintf("%s revert --yes 1", c),
		fmt.Sprintf("%s settings", c),
	} {
		fmt.Fprintf(w, "  %s\n", line)
	}
	return nil
}

// searchTerm is a part of a login likely to find all of one person's
// accounts: its last word (garcia of maria.garcia).
func searchTerm(login string) string {
	parts := strings.FieldsFunc(login, func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	if len(parts) == 0 {
		return login
	}
	return parts[len(parts)-1]
}

var importCmd = &command{
	name:    "import",
	usage:   "import [--format ndjson|csv] [--tenant T] FILE|-",
	summary: "import learner data (NDJSON, or accounts as CSV)",
	help: `Imports learner data from FILE, or standard input for "-", into --db
(created if missing), in one transaction: a bad line aborts the import with
"import: line N: reason" and nothing is written. Existing ids are updated.

The format comes from --format, else from the file name: .ndjson or .jsonl
for NDJSON (tenants, groups, jobs, accounts, admins and every kind of
record; see docs/import-format.md), .csv for accounts of one tenant (the
tenant from --tenant, or the database's only tenant). Standard input is
NDJSON unless --format says otherwise.

Examples:
  usermerge --db new.db import acme.ndjson
  usermerge --tenant acme import --format csv accounts.csv
  usermerge --tenant acme export | usermerge --db copy.db import -`,
	db: createDB, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		format := fs.String("format", "", "the input `FORMAT`: ndjson or csv (default: from the file name)")
		return func(ctx context.Context, m *Main, args []string) error {
			name := args[0]
			f, err := fileFormat("import", *format, name)
			if err != nil {
				return err
			}
			var r io.Reader = m.Stdin
			if name != "-" {
				file, err := os.Open(name)
				if err != nil {
					return fileError("import", name, err)
				}
				defer file.Close()
				r = file
			}
			p := m.progress("import", "read")
			r = &countingReader{r: r, p: p}
			var stats store.ImportStats
			if m.remote != nil {
				stats, err = m.remote.Import(ctx, m.caller, r, f)
			} else if f == "csv" {
				var tenant string
				if tenant, err = m.resolveTenant(ctx); err != nil {
					return err
				}
				stats, err = m.db.ImportAccountsCSV(ctx, tenant, r)
			} else {
				stats, err = m.db.Import(ctx, r)
			}
			p.done()
			if err != nil {
				var ue *usermerge.Error
				if errors.As(err, &ue) && ue.Code != usermerge.Internal {
					return &usermerge.Error{Code: ue.Code, Reason: ue.Reason, Message: "import: " + ue.Message, Err: ue.Err}
				}
				return err
			}
			return m.emit(stats, func(w io.Writer) error { return writeStats(w, stats) })
		}
	},
}

// lineOrder is the order import counts are printed in: the org lines, then
// the record kinds as administrators see them.
func lineOrder() []string {
	order := []string{"tenant", "group", "job", "account", "membership", "account_job", "admin"}
	for _, k := range usermerge.Kinds {
		if !slices.Contains(order, string(k)) {
			order = append(order, string(k))
		}
	}
	return order
}

func writeStats(w io.Writer, s store.ImportStats) error {
	fmt.Fprintf(w, "Imported %s.\n", plural(s.Lines, "line", "lines"))
	order := lineOrder()
	var rest []string
	for k := range s.PerKind {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	tw := newTable(w)
	for _, k := range append(order, rest...) {
		if n := s.PerKind[k]; n > 0 {
			fmt.Fprintf(tw, "  %s\t%d\n", k, n)
		}
	}
	return tw.Flush()
}

var exportCmd = &command{
	name:    "export",
	usage:   "export [--account ID|LOGIN] [--format ndjson|csv] [-o FILE]",
	summary: "export a tenant's or one account's data",
	help: `Exports the tenant's data (or, with --account, one account's with what an
empty database needs to take it) as NDJSON, or the tenant's accounts as CSV,
to standard output or to FILE (written whole or not at all). An export
imports back into an empty database and exports again byte for byte.

Without --as, the operator exports everything, administrators and their
password hashes included. With --as (or through --server, as the token's
administrator), the export has that administrator's rights: only a tenant
administrator exports the whole tenant or admin lines; a group manager
exports one account in their groups, without admin lines, and without the
accounts outside their groups it was merged into.

Examples:
  usermerge --tenant acme export > acme.ndjson
  usermerge --tenant acme export --account maria.garcia -o maria.garcia.ndjson
  usermerge --tenant globex export --format csv -o globex-accounts.csv`,
	db: existingDB, tenant: true,
	setup: func(fs *flag.FlagSet) runFunc {
		account := fs.String("account", "", "only the account `ID|LOGIN`")
		format := fs.String("format", "", "the output `FORMAT`: ndjson or csv (default: from -o's file name, else ndjson)")
		out := fs.String("o", "", "write to `FILE` instead of standard output")
		return func(ctx context.Context, m *Main, args []string) error {
			name := *out
			if name == "" {
				name = "-"
			}
			f, err := fileFormat("export", *format, name)
			if err != nil {
				return err
			}
			if f == "csv" && *account != "" {
				return usageError("export: --account exports NDJSON; CSV holds a whole tenant's accounts")
			}
			if *account != "" && m.remote == nil { // the server takes logins too
				// Export takes an id; operators know logins too.
				err := m.db.View(ctx, func(tx *store.Tx) error {
					a, err := tx.AccountByRef(ctx, m.caller.Tenant, *account)
					*account = a.ID
					return err
				})
				if err != nil {
					return err
				}
			}
			write := func(w io.Writer) error {
				p := m.progress("export", "written")
				cw := &countingWriter{w: w, p: p}
				var err error
				if m.remote != nil {
					err = m.remote.Export(ctx, m.caller, cw, *account, f)
				} else if m.g.as != "" { // with that administrator's rights
					err = m.local.Export(ctx, engine.Caller{Tenant: m.caller.Tenant, Admin: m.g.as}, cw, *account, f)
				} else if f == "csv" {
					err = m.db.ExportAccountsCSV(ctx, cw, m.caller.Tenant)
				} else {
					err = m.db.Export(ctx, cw, m.caller.Tenant, *account)
				}
				p.done()
				if err == nil && *out != "" {
					err = m.emit(map[string]any{"file": *out, "lines": p.lines}, func(w io.Writer) error {
						_, err := fmt.Fprintf(w, "Exported %s to %s.\n", plural(int(p.lines), "line", "lines"), *out)
						return err
					})
				}
				return err
			}
			if *out == "" {
				return write(m.Stdout)
			}
			return writeFileAtomic(*out, write)
		}
	},
}

// fileFormat picks ndjson or csv from the flag or the file name.
func fileFormat(cmd, flagValue, name string) (string, error) {
	switch strings.ToLower(flagValue) {
	case "ndjson", "jsonl", "json":
		return "ndjson", nil
	case "csv":
		return "csv", nil
	case "":
	default:
		return "", usageError("%s: --format must be ndjson or csv, not %q", cmd, flagValue)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv", nil
	case ".ndjson", ".jsonl", ".json":
		return "ndjson", nil
	case "":
		if name == "-" {
			return "ndjson", nil
		}
	}
	return "", usageError("%s: cannot tell the format of %s from its name; pass --format ndjson or --format csv", cmd, name)
}

func fileError(cmd, name string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usermerge.Errorf(usermerge.NotFound, "file_not_found", "%s: file %s does not exist", cmd, name)
	case errors.Is(err, os.ErrPermission):
		return usermerge.Errorf(usermerge.Forbidden, "file_permission", "%s: no permission to use %s", cmd, name)
	}
	return &usermerge.Error{Code: usermerge.Invalid, Reason: "file", Message: fmt.Sprintf("%s: cannot use %s", cmd, name), Err: err}
}

// writeFileAtomic writes name through a temporary file in the same
// directory and renames it into place only when write succeeded, so a
// failed export never leaves half a file.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fileError("export", name, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return usermerge.InternalError(fmt.Errorf("export: close %s: %w", tmp.Name(), err))
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fileError("export", name, err)
	}
	return nil
}

// progress counts lines and, when stderr is a terminal, shows the count
// every so often so that a long import or export is visibly alive.
type progress struct {
	w     io.Writer // nil: count only
	label string
	lines int64
	last  time.Time
	shown bool
}

func (m *Main) progress(cmd, verb string) *progress {
	p := &progress{label: cmd + ": %d lines " + verb}
	if m.isTerminal(m.Stderr) {
		p.w = m.Stderr
	}
	return p
}

func (p *progress) add(b []byte) {
	p.lines += int64(bytes.Count(b, []byte{'\n'}))
	if p.w == nil || time.Since(p.last) < 250*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\r"+p.label, p.lines)
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintf(p.w, "\r"+p.label+"\n", p.lines)
	}
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(b[:n])
	return n, err
}

type countingWriter struct {
	w io.Writer
	p *progress
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.add(b[:n])
	return n, err
}
