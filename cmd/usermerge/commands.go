package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// runFunc runs a command with its positional arguments; its flags are
// bound by the command's setup.
type runFunc func(ctx context.Context, m *Main, args []string) error

type dbNeed int

const (
	noDB       dbNeed = iota // help
	existingDB               // the database file must exist
	createDB                 // demo and import may create it
)

// command is one subcommand: its help, what it needs before it runs, and a
// setup that declares its flags and returns the function to run.
type command struct {
	name    string
	usage   string // after "usermerge "
	summary string
	help    string // description and examples, shown by help and -h
	db      dbNeed
	tenant  bool // resolve the tenant before running
	admin   bool // require --as before running
	minArgs int
	maxArgs int // -1: no limit
	setup   func(fs *flag.FlagSet) runFunc
}

// commands lists the subcommands in the order the general help shows them.
var commands []*command

func init() {
	commands = []*command{
		demoCmd, importCmd, exportCmd,
		accountsCmd, accountCmd,
		previewCmd, mergeCmd, mergesCmd, showCmd, revertCmd, batchCmd,
		eventsCmd, resolveCmd, webhooksCmd,
		activateCmd, deactivateCmd, deleteCmd,
		duplicatesCmd, settingsCmd, serveCmd, passwordCmd, tokenCmd, benchCmd, helpCmd,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// bindGlobals declares the global flags on fs. The current values are the
// defaults, so a flag given before the subcommand survives the second parse.
func (m *Main) bindGlobals(fs *flag.FlagSet) {
	fs.StringVar(&m.g.db, "db", m.g.db, "")
	fs.StringVar(&m.g.tenant, "tenant", m.g.tenant, "")
	fs.StringVar(&m.g.as, "as", m.g.as, "")
	fs.BoolVar(&m.g.json, "json", m.g.json, "")
	fs.StringVar(&m.g.server, "server", m.g.server, "")
	fs.StringVar(&m.g.token, "token", m.g.token, "")
}

var globalFlags = map[string]bool{"db": true, "tenant": true, "as": true, "json": true, "server": true, "token": true}

// ParseFlags reads the global flags, the subcommand and its flags and
// arguments. Flags may come before or after the subcommand and between
// arguments; "--" ends the flags.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	m.g = globals{db: m.getenv("USERMERGE_DB"), tenant: m.getenv("USERMERGE_TENANT"), as: m.getenv("USERMERGE_AS"),
		server: m.getenv("USERMERGE_SERVER"), token: m.getenv("USERMERGE_TOKEN")}
	if m.g.db == "" {
		m.g.db = defaultDB
	}
	fs := newFlagSet("usermerge")
	m.bindGlobals(fs)
	var bad *badValue
	watch(fs, &bad)
	if err := checkFlags(fs, args, false, ""); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.help = true
			return nil
		}
		if bad != nil {
			return usageError("%s", bad.message())
		}
		return usageError("%v", err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		printHelp(m.Stderr, nil)
		return usageError("name a command; the commands are: %s", commandNames())
	}
	cmd := lookup(rest[0])
	if cmd == nil {
		return usageError("unknown command %q; the commands are: %s", rest[0], commandNames())
	}
	m.cmd = cmd
	fs = newFlagSet("usermerge " + cmd.name)
	m.bindGlobals(fs)
	m.run = cmd.setup(fs)
	bad = nil
	watch(fs, &bad)
	if err := checkFlags(fs, rest[1:], true, cmd.name); err != nil {
		return err
	}
	pos, err := parseInterspersed(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.help = true
			return nil
		}
		if bad != nil {
			return usageError("%s", bad.message())
		}
		return usageError("%s: %v", cmd.name, err)
	}
	if len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs) {
		return usageError("%s: wrong number of arguments; usage: usermerge %s", cmd.name, cmd.usage)
	}
	m.args = pos
	return nil
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by Main.report
	fs.Usage = func() {}
	return fs
}

// parseInterspersed parses flags anywhere among the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

const generalHelp = `usermerge consolidates duplicate learner accounts: preview a merge, merge one
or more accounts into the account kept, list and inspect merges, revert them
exactly, and import or export learner records.

Usage:
  usermerge [global flags] COMMAND [flags] [arguments]

Commands:
%s
Global flags (before or after the command):
  --db URL        the database: an SQLite file path (default: $USERMERGE_DB,
                  else usermerge.db in the working directory)
  --tenant ID     the tenant (default: $USERMERGE_TENANT; when absent: the only
                  tenant where the --as administrator exists, else the
                  database's only tenant)
  --as LOGIN      the acting administrator (default: $USERMERGE_AS); rights and
                  group scope are checked for every command that reads or
                  changes accounts and merges
  --json          machine output: results as indented JSON in the shape the
                  API answers the same operation (accounts --json is
                  {"accounts":[..]} as GET .../accounts); errors also as
                  {"error":{"code":..,"reason":..,"message":..}} on stdout
  --server URL    work through the JSON API of a running server (default:
                  $USERMERGE_SERVER) instead of on --db: same commands, same
                  output; needs --tenant and --token; --as is ignored (the
                  token's administrator acts, with its rights: exporting
                  the whole tenant and importing need a tenant
                  administrator's token, and import takes lines of --tenant
                  only); demo, serve, password and bench work on a database
                  only
  --token TOKEN   the server's API token (default: $USERMERGE_TOKEN; make one
                  with 'usermerge token create NAME')
  -h, --help      help for usermerge or a command

Exit status:
  0  success
  1  internal error (rerun with USERMERGE_DEBUG=1 to see the full error), or
     the --server cannot be reached
  2  usage error or invalid input
  3  not found (database, tenant, account, merge)
  4  conflict or refused by the state of the data (already merged, not
     revertable, busy, cancelled at the prompt)
  5  forbidden (view-only rights, outside the administrator's groups,
     merging or reverting switched off for the tenant)
  6  not signed in (--server without a token, or a wrong or revoked one)

Start with:
  usermerge demo
  usermerge --tenant acme --as admin accounts

Run 'usermerge help COMMAND' for a command's flags and examples.
`

// printHelp prints the general help (cmd nil) or a command's help.
func printHelp(w io.Writer, cmd *command) error {
	if cmd == nil {
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range commands {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
		tw.Flush()
		_, err := fmt.Fprintf(w, generalHelp, b.String())
		return err
	}
	fmt.Fprintf(w, "Usage: usermerge %s\n\n%s\n", cmd.usage, strings.TrimSpace(cmd.help))
	fs := newFlagSet(cmd.name)
	cmd.setup(fs)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !globalFlags[f.Name] {
			flags = append(flags, f)
		}
	})
	if len(flags) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range flags {
			name, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			arg := dash + f.Name
			if name != "" {
				arg += " " + name
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", arg, usage)
		}
		tw.Flush()
	}
	_, err := fmt.Fprintf(w, "\nGlobal flags: --db, --tenant, --as, --json, --server, --token (see 'usermerge help').\n")
	return err
}

var helpCmd = &command{
	name:    "help",
	usage:   "help [COMMAND]",
	summary: "show help for usermerge or a command",
	help: `Shows the general help, or a command's flags and examples.

Examples:
  usermerge help
  usermerge help merge
  usermerge merge -h`,
	maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 0 {
				return printHelp(m.Stdout, nil)
			}
			c := lookup(args[0])
			if c == nil {
				return usageError("unknown command %q; the commands are: %s", args[0], commandNames())
			}
			return printHelp(m.Stdout, c)
		}
	},
}
