package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/server"
)

var serveCmd = &command{
	name:    "serve",
	usage:   "serve [--addr HOST:PORT] [--demo [--fresh]] [--secure-cookies] [--max-connections N] [--import-timeout D] [--allow-private-webhooks]",
	summary: "run the HTTP server (JSON API under /api/v1)",
	help: `Serves the JSON API (documented at /api/v1/openapi.json), a health check at
/healthz and Prometheus metrics at /metrics, on the database named by --db.
Requests are logged to stderr. Ctrl-C (or SIGTERM) stops it gracefully,
letting requests in flight finish.

Slow clients cannot hold it: request headers must arrive within 10 s,
bodies within a minute, answers are written within 5 minutes (an export
streams as long as the client keeps reading), idle connections close after
2 minutes, and at most --max-connections are served at once (more are
answered 503 at once). An import's body may take --import-timeout to
arrive; it is received into a temporary file ($TMPDIR) and checked before
the import's transaction opens, so a slow upload delays nobody else.

With --demo, a database without tenants (a new file, say) is first filled
with the demo data (see "usermerge help demo"; every demo administrator's
password is "` + demo.DemoPassword + `") and the demo's duplicate accounts are
printed. A database that already holds tenants is served as it is, with
the merges made in it so far, and serve says so; --fresh deletes that
database file first and starts again with new demo data. The URL and the
sign-in details are printed.

The server delivers the tenants' webhooks (docs/events.md): signed, after
commit, retried over about three days. Several servers on one PostgreSQL
database share the deliveries. Endpoints on loopback, link-local or
private addresses are refused unless --allow-private-webhooks is given
(for a receiver on this machine or inside the network).

Examples:
  usermerge serve --demo
  usermerge serve --demo --fresh
  usermerge --db postgres://postgres@127.0.0.1:5432/test serve --addr 0.0.0.0:8080
  curl -s -c cookies -H 'Content-Type: application/json' \
       -d '{"tenant":"acme","login":"admin","password":"` + demo.DemoPassword + `"}' http://127.0.0.1:8080/api/v1/session`,
	db: createDB,
	setup: func(fs *flag.FlagSet) runFunc {
		addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free port)")
		withDemo := fs.Bool("demo", false, "fill an empty database with demo data and demo passwords first")
		fresh := fs.Bool("fresh", false, "with --demo: delete the database file and start with new demo data")
		secure := fs.Bool("secure-cookies", false, "mark session cookies Secure (when served over HTTPS)")
		maxConns := fs.Int("max-connections", server.DefaultMaxConnections, "serve at most `N` connections at once")
		importTimeout := fs.Duration("import-timeout", server.DefaultImportTimeout, "how long an import's body may take to arrive")
		allowPrivate := fs.Bool("allow-private-webhooks", false, "let webhooks go to loopback, link-local and private addresses")
		hookTimeout := fs.Duration("webhook-timeout", 10*time.Second, "how long one webhook attempt may take, connection to last byte")
		return func(ctx context.Context, m *Main, args []string) error {
			if *maxConns < 1 || *importTimeout <= 0 || *hookTimeout <= 0 {
				return usageError("serve: --max-connections must be at least 1 and --import-timeout and --webhook-timeout positive")
			}
			if *fresh && !*withDemo {
				return usageError("serve: --fresh goes with --demo (it deletes the database to start the demo afresh)")
			}
			ts, err := m.serveDemo(ctx, *withDemo, *fresh)
			if err != nil {
				return err
			}
			out := m.notes()
			ln, err := net.Listen("tcp", *addr)
			if err != nil {
				return usermerge.Errorf(usermerge.Invalid, "listen", "cannot listen on %s: %v", *addr, err)
			}
			url := "http://" + ln.Addr().String()
			log := slog.New(slog.NewTextHandler(m.Stderr, nil))
			eng := engine.New(m.db, log)
			// A detection run left running by a server that stopped is
			// marked interrupted, so that a new run can start.
			if err := eng.RecoverDetections(ctx); err != nil {
				return err
			}
			srv := server.New(server.Config{Engine: eng, Logger: log, SecureCookies: *secure, ImportTimeout: *importTimeout})
			hs := srv.HTTPServer()
			srv.WorkBatches(time.Second) // bulk merges run in the server, until it stops
			eng.AllowPrivateWebhooks(*allowPrivate)
			srv.DeliverWebhooks(engine.DeliveryOptions{Timeout: *hookTimeout})
			ln = server.LimitListener(ln, *maxConns)
			fmt.Fprintf(out, "usermerge is serving %s (database %s)\n", url, m.describeDB())
			fmt.Fprintf(out, "  Web UI:  %s/  (the admin UI: sign in with a tenant, its administrator's login and password)\n", url)
			fmt.Fprintf(out, "  API:     %s/api/v1  (OpenAPI: %s/api/v1/openapi.json)\n  Health:  %s/healthz\n  Metrics: %s/metrics\n", url, url, url, url)
			if *withDemo {
				var ids []string
				for _, t := range ts {
					ids = append(ids, t.ID)
				}
				fmt.Fprintf(out, "  Sign in: tenant %s, login %q, password %q (also sales-editor, eng-viewer, support-editor)\n",
					strings.Join(ids, " or "), "admin", demo.DemoPassword)
			}
			if m.OnListen != nil {
				m.OnListen(url)
			}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			fmt.Fprintln(out, "Stopping: finishing requests in flight…")
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err = hs.Shutdown(sctx)
			srv.Close() // and the detection runs in the background
			if err != nil {
				return err
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	},
}

// serveDemo prepares the database serve --demo serves and says which it is:
// an empty database gets the demo data and its duplicate accounts are
// listed; one holding tenants is served as it is, unless fresh deletes it
// first. It returns the tenants served.
func (m *Main) serveDemo(ctx context.Context, withDemo, fresh bool) ([]usermerge.Tenant, error) {
	ts, err := m.tenants(ctx)
	if err != nil {
		return nil, err
	}
	out := m.notes()
	if !withDemo {
		if len(ts) == 0 {
			fmt.Fprintf(out, "The database %s has no tenants yet: load data with `usermerge import FILE` or start with --demo.\n", m.describeDB())
		}
		return ts, nil
	}
	if len(ts) > 0 && !fresh {
		fmt.Fprintf(out, "Using the existing database %s as it is, with tenants %s and the merges made so far: no demo data was added.\n"+
			"To start afresh with new demo data: usermerge%s serve --demo --fresh\n\n", m.describeDB(), tenantIDs(ts), m.dbFlag())
		return ts, nil
	}
	if len(ts) > 0 {
		if m.dbPath() == "" {
			return nil, usageError("serve: --fresh deletes SQLite files only; empty the database %s by other means, or name another with --db", m.describeDB())
		}
		if err := m.Close(); err != nil {
			return nil, usermerge.InternalError(err)
		}
		if err := m.freshDB(ctx, true); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "Deleted the database %s, with tenants %s, to start afresh.\n", m.describeDB(), tenantIDs(ts))
	}
	sum, err := demo.Load(ctx, m.db, demo.Options{Seed: 1, Now: m.now()})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Created the demo data in %s.\n", m.describeDB())
	for _, t := range sum.Tenants {
		writeDuplicates(out, t)
	}
	fmt.Fprintln(out)
	return m.tenants(ctx)
}

// tenantIDs lists tenants for a sentence: "acme", "acme and globex",
// "a, b and c".
func tenantIDs(ts []usermerge.Tenant) string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	if len(ids) < 2 {
		return strings.Join(ids, "")
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " and " + ids[len(ids)-1]
}

// describeDB names --db for people: the SQLite file, or the PostgreSQL
// URL without its password.
func (m *Main) describeDB() string {
	if p := m.dbPath(); p != "" {
		return p
	}
	if u, err := url.Parse(m.g.db); err == nil {
		return "PostgreSQL " + u.Redacted()
	}
	return "PostgreSQL"
}

// dbFlag is the --db flag that names the database in a command to paste,
// or "" for the default database.
func (m *Main) dbFlag() string {
	if m.g.db == defaultDB {
		return ""
	}
	return " --db " + shellQuote(m.g.db)
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var passwordCmd = &command{
	name:    "password",
	usage:   "password LOGIN",
	summary: "set an administrator's web/API password (read from standard input)",
	help: `Sets the password of the administrator LOGIN in the tenant (--tenant), read
as the first line of standard input (at least ` + fmt.Sprint(usermerge.MinPasswordLength) + ` characters); on a
terminal it prompts and does not echo what is typed. It is
stored as an Argon2id hash and clears the administrator's failed sign-ins.
This is an operator command: it needs access to the database, not --as.

Examples:
  printf '%s\n' 'a long passphrase' | usermerge --tenant acme password admin`,
	db: existingDB, tenant: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(ctx context.Context, m *Main, args []string) error {
			pw, err := m.readPassword(fmt.Sprintf("New password for %s: ", args[0]))
			if err != nil {
				return err
			}
			if err := m.local.SetPassword(ctx, m.caller.Tenant, args[0], pw); err != nil {
				return err
			}
			return m.emit(map[string]string{"tenant": m.caller.Tenant, "admin": args[0], "status": "password set"}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Password of %s in tenant %s set.\n", args[0], m.caller.Tenant)
				return err
			})
		}
	},
}

var tokenCmd = &command{
	name:    "token",
	usage:   "token create [--expires 30d|DATE] NAME | token list | token revoke ID",
	summary: "manage API tokens for programs",
	help: `API tokens let programs call the JSON API as the administrator named by --as,
with that administrator's rights (send "Authorization: Bearer <token>").

  token create NAME   makes a token and prints it once; only its hash is kept;
                      with --expires it stops working after a time (30d, 12h)
                      or at a date (2027-01-31 or 2027-01-31T18:00:00Z)
  token list          lists tokens (a tenant administrator sees everyone's)
  token revoke ID     revokes a token at once

Tokens are made on the database (here) or by a signed-in person through
the API; an API token cannot make tokens, so with --server, token create is
refused.

Examples:
  usermerge --tenant acme --as admin token create nightly-sync
  usermerge --tenant acme --as admin token create --expires 30d quarterly-report
  usermerge --tenant acme --as admin token list
  usermerge --tenant acme --as admin token revoke <ID from token list>`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 2,
	setup: func(fs *flag.FlagSet) runFunc {
		expires := fs.String("expires", "", "with create: the token stops working after `DURATION` (30d, 12h) or at a DATE (2027-01-31)")
		return func(ctx context.Context, m *Main, args []string) error {
			if *expires != "" && args[0] != "create" {
				return usageError("token: --expires goes with token create")
			}
			switch {
			case args[0] == "create" && len(args) == 2:
				var exp *time.Time
				if *expires != "" {
					t, err := parseExpiry(*expires, m.now())
					if err != nil {
						return err
					}
					exp = &t
				}
				secret, tok, err := m.eng.CreateToken(ctx, m.caller, args[1], exp)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"token": secret, "info": tok, "note": usermerge.TokenNote}, func(w io.Writer) error {
					until := ""
					if tok.ExpiresAt != nil {
						until = ", valid until " + tok.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
					}
					_, err := fmt.Fprintf(w, "Token %s (%q) for %s%s:\n\n  %s\n\nThis is the only time it is shown; store it now.\n", tok.ID, tok.Name, tok.Admin, until, secret)
					return err
				})
			case args[0] == "list" && len(args) == 1:
				list, err := m.eng.Tokens(ctx, m.caller)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"tokens": list}, func(w io.Writer) error {
					tw := newTable(w)
					fmt.Fprintln(tw, "ID\tNAME\tADMIN\tCREATED\tLAST USED\tSTATE")
					for _, t := range list {
						used, state := "never", "active"
						if t.LastUsed != nil {
							used = t.LastUsed.Format("2006-01-02 15:04")
						}
						switch {
						case t.RevokedAt != nil:
							state = "revoked " + t.RevokedAt.Format("2006-01-02 15:04")
						case t.ExpiresAt != nil && !m.now().Before(*t.ExpiresAt):
							state = "expired " + t.ExpiresAt.Format("2006-01-02 15:04")
						case t.ExpiresAt != nil:
							state = "active until " + t.ExpiresAt.Format("2006-01-02 15:04")
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Admin, t.CreatedAt.Format("2006-01-02 15:04"), used, state)
					}
					return tw.Flush()
				})
			case args[0] == "revoke" && len(args) == 2:
				if err := m.eng.RevokeToken(ctx, m.caller, args[1]); err != nil {
					return err
				}
				return m.emit(map[string]string{"revoked": args[1]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Token %s revoked.\n", args[1])
					return err
				})
			}
			return usageError("token: use `token create NAME`, `token list` or `token revoke ID`")
		}
	},
}

// readPassword reads a password: on a terminal after a prompt, without
// echoing it; otherwise (a pipe, a file) as the first line of standard input.
func (m *Main) readPassword(prompt string) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && m.isTerminal(f) {
		fmt.Fprint(m.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the password from the terminal: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.LimitReader(m.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// parseExpiry reads a token's expiry: a duration from now (30d, 12h, 90m)
// or a date or time (2027-01-31, 2027-01-31T18:00:00Z).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError("token: --expires %q is neither a duration (30d, 12h) nor a date (2027-01-31, 2027-01-31T18:00:00Z)", s)
}
