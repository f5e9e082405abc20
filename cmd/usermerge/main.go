// Command usermerge is the operator's command line of the account-merge
// service: it previews, merges, lists, shows and reverts merges, changes
// account status and tenant settings, and imports, exports and creates demo
// data, all on one database named by --db, or through a running server's
// JSON API with --server and --token (remote.go).
//
// The program is the Main type, so that tests run the real command in
// process; main only wires the process's arguments, streams and exit code.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"usermerge"
	"usermerge/client"
	"usermerge/engine"
	"usermerge/store"
)

func main() {
	// SIGTERM is how service managers and container runtimes ask a process
	// to stop: serve finishes its requests in flight on it as on Ctrl-C.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit statuses, one per error code (documented in the general help).
const (
	exitOK        = 0
	exitInternal  = 1
	exitUsage     = 2 // usage or invalid input
	exitNotFound  = 3
	exitConflict  = 4 // conflict, or refused by the state of the data
	exitForbidden = 5
	// not signed in: with --server, no token, or a wrong or revoked one
	exitUnauthenticated = 6
)

var exitCodes = map[usermerge.Code]int{
	"":                  exitOK,
	usermerge.Internal:  exitInternal,
	usermerge.Invalid:   exitUsage,
	usermerge.NotFound:  exitNotFound,
	usermerge.Conflict:  exitConflict,
	usermerge.Forbidden: exitForbidden,

	usermerge.Unauthenticated: exitUnauthenticated,
	usermerge.RateLimited:     exitConflict, // busy: try again later
	usermerge.Unavailable:     exitInternal, // the server or the database cannot be reached; try again later
}

// defaultDB is the database file used when neither --db nor USERMERGE_DB is set.
const defaultDB = "usermerge.db"

// Main is one run of the program.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Now is the clock given to the database and the demo data; nil: the
	// wall clock.
	Now func() time.Time
	// IsTerminal reports whether a stream (Stdin or Stderr) is an
	// interactive terminal: it decides prompts and progress output. Nil:
	// the operating system's answer for an *os.File.
	IsTerminal func(stream any) bool
	// OnListen, if set, is told the base URL once `serve` listens (tests
	// start the server on port 0 and need to know where).
	OnListen func(url string)

	g    globals
	cmd  *command
	run  runFunc
	args []string
	help bool // print cmd's help (or the general help when cmd is nil)

	db     *store.DB
	eng    backend        // local (the engine on db) or remote (--server)
	local  *engine.Engine // the engine on db; nil with --server
	remote *client.Client // the server's API with --server; else nil
	caller engine.Caller

	// batchFake, if set, stands in for the engine or the server in the
	// batch command (tests of its flow).
	batchFake batchBackend
}

// globals are the flags accepted before or after the subcommand.
type globals struct {
	db     string
	tenant string
	as     string
	json   bool
	server string // --server: the base URL of a running server
	token  string // --token: an API token of that server
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Execute parses args, runs the command, closes the database and reports
// the error, if any; it returns the exit status.
func (m *Main) Execute(ctx context.Context, args []string) int {
	err := m.ParseFlags(ctx, args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil && cerr != nil {
		err = usermerge.InternalError(cerr)
	}
	return m.report(err)
}

func (m *Main) getenv(name string) string {
	if m.Getenv == nil {
		return ""
	}
	return m.Getenv(name)
}

func (m *Main) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Main) isTerminal(stream any) bool {
	if m.IsTerminal != nil {
		return m.IsTerminal(stream)
	}
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Run opens the database the command needs, resolves the tenant and the
// acting administrator, and runs the command.
func (m *Main) Run(ctx context.Context) error {
	if m.help || m.cmd == nil {
		return printHelp(m.Stdout, m.cmd)
	}
	if m.g.server != "" {
		return m.runRemote(ctx)
	}
	if m.cmd.db != noDB {
		if err := m.openDB(ctx, m.cmd.db == createDB); err != nil {
			return err
		}
	}
	if m.cmd.tenant {
		t, err := m.resolveTenant(ctx)
		if err != nil {
			return err
		}
		m.caller.Tenant = t
	}
	if m.cmd.admin {
		if err := m.requireAdmin(ctx); err != nil {
			return err
		}
	}
	return m.run(ctx, m, m.args)
}

// Close closes the database, if open.
func (m *Main) Close() error {
	if m.db == nil {
		return nil
	}
	err := m.db.Close()
	m.db, m.eng, m.local = nil, nil, nil
	return err
}

// dbPath is the SQLite file named by --db, or "" for a server URL.
func (m *Main) dbPath() string {
	u := m.g.db
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return ""
	}
	p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// openDB opens --db. Only commands that create data may create the file: a
// mistyped path must not silently become an empty database.
func (m *Main) openDB(ctx context.Context, create bool) error {
	if p := m.dbPath(); p != "" && !create {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return usermerge.Errorf(usermerge.NotFound, "database_not_found",
				"database %s does not exist; create it with `usermerge demo` or `usermerge import FILE`, or name another with --db or USERMERGE_DB", p)
		}
	}
	if p := m.dbPath(); p != "" {
		if dir := filepath.Dir(p); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return usermerge.Errorf(usermerge.NotFound, "database_dir_not_found", "the directory %s of database %s does not exist", dir, p)
			}
		}
	}
	db, err := store.Open(ctx, m.g.db)
	if err != nil {
		return fmt.Errorf("open database %s: %w", m.g.db, err)
	}
	if m.Now != nil {
		db.Now = m.now
	}
	m.db = db
	log := slog.New(slog.DiscardHandler)
	if m.debug() {
		log = slog.New(slog.NewTextHandler(m.Stderr, nil))
	}
	m.local = engine.New(db, log)
	m.eng = m.local
	return nil
}

func (m *Main) debug() bool {
	v := m.getenv("USERMERGE_DEBUG")
	return v != "" && v != "0" && v != "false"
}

// tenants lists the database's tenants.
func (m *Main) tenants(ctx context.Context) ([]usermerge.Tenant, error) {
	var ts []usermerge.Tenant
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		ts, err = tx.Tenants(ctx)
		return err
	})
	return ts, err
}

// resolveTenant picks the tenant: --tenant / USERMERGE_TENANT; else the one
// tenant where the --as login is an administrator; else the database's only
// tenant; otherwise it fails listing the tenants.
func (m *Main) resolveTenant(ctx context.Context) (string, error) {
	ts, err := m.tenants(ctx)
	if err != nil {
		return "", err
	}
	if len(ts) == 0 {
		return "", usermerge.Errorf(usermerge.NotFound, "no_tenants",
			"database %s holds no tenants yet; load some with `usermerge demo` or `usermerge import FILE`", m.g.db)
	}
	if m.g.tenant != "" {
		for _, t := range ts {
			if t.ID == m.g.tenant {
				return t.ID, nil
			}
		}
		return "", usermerge.Errorf(usermerge.NotFound, "tenant_not_found", "tenant %q does not exist; the tenants are: %s", m.g.tenant, tenantList(ts))
	}
	if m.g.as != "" {
		var of []string
		err := m.db.View(ctx, func(tx *store.Tx) error {
			var err error
			of, err = tx.TenantsOfAdmin(ctx, m.g.as)
			return err
		})
		if err != nil {
			return "", err
		}
		if len(of) == 1 {
			return of[0], nil
		}
	}
	if len(ts) == 1 {
		return ts[0].ID, nil
	}
	return "", usermerge.Errorf(usermerge.Invalid, "tenant_required",
		"name the tenant with --tenant or USERMERGE_TENANT; the tenants are: %s", tenantList(ts))
}

func tenantList(ts []usermerge.Tenant) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s (%s)", t.ID, t.Name))
	}
	return strings.Join(parts, ", ")
}

// requireAdmin checks that --as is given; when it is not, the message
// lists the tenant's administrators so the operator can pick one.
func (m *Main) requireAdmin(ctx context.Context) error {
	if m.g.as != "" {
		m.caller.Admin = m.g.as
		return nil
	}
	var admins []usermerge.Admin
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		admins, _, err = tx.Admins(ctx, m.caller.Tenant)
		return err
	})
	if err != nil {
		return err
	}
	var logins []string
	for _, a := range admins {
		logins = append(logins, a.Login)
	}
	slices.Sort(logins)
	if len(logins) == 0 {
		return usermerge.Errorf(usermerge.Invalid, "admin_required", "name the acting administrator with --as or USERMERGE_AS (tenant %s has no administrators)", m.caller.Tenant)
	}
	return usermerge.Errorf(usermerge.Invalid, "admin_required",
		"name the acting administrator with --as or USERMERGE_AS; the administrators of tenant %s are: %s", m.caller.Tenant, strings.Join(logins, ", "))
}

// report prints err (if any) and returns the exit status. Only the safe
// message is shown; internal detail only with USERMERGE_DEBUG=1.
func (m *Main) report(err error) int {
	if err == nil {
		return exitOK
	}
	code := usermerge.ErrorCode(err)
	msg := usermerge.ErrorMessage(err)
	fmt.Fprintf(m.Stderr, "usermerge: %s\n", msg)
	var problems *usermerge.BatchProblems
	if errors.As(err, &problems) {
		// A batch refused whole: every bad row, by line, with its reason.
		writeProblems(m.Stderr, problems.Problems, 0)
	}
	switch {
	case code == usermerge.Internal && m.debug():
		fmt.Fprintf(m.Stderr, "usermerge: detail: %v\n", err)
	case code == usermerge.Internal:
		fmt.Fprintln(m.Stderr, "usermerge: rerun with USERMERGE_DEBUG=1 to see the full error")
	case usermerge.ErrorReason(err) == "usage":
		name := ""
		if m.cmd != nil {
			name = " " + m.cmd.name
		}
		fmt.Fprintf(m.Stderr, "Run 'usermerge help%s' for usage.\n", name)
	}
	if m.g.json {
		type jsonError struct {
			Code    usermerge.Code `json:"code"`
			Reason  string         `json:"reason"`
			Message string         `json:"message"`
			// Problems: each bad row of a batch refused whole, as the API.
			Problems []usermerge.RowProblem `json:"problems,omitempty"`
		}
		je := jsonError{Code: code, Reason: usermerge.ErrorReason(err), Message: msg}
		if problems != nil {
			je.Problems = problems.Problems
		}
		writeJSON(m.Stdout, struct {
			Error jsonError `json:"error"`
		}{je})
	}
	if status, ok := exitCodes[code]; ok {
		return status
	}
	return exitInternal
}

// usageError is a mistake in the command line (exit status 2).
func usageError(format string, args ...any) error {
	return usermerge.Errorf(usermerge.Invalid, "usage", format, args...)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
