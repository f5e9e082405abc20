package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"usermerge"
)

var accountsCmd = &command{
	name:    "accounts",
	usage:   "accounts [QUERY] [--status active|inactive|deleted] [--limit N]",
	summary: "search accounts by name, login, email or external ID",
	help: `Searches the tenant's accounts (within the administrator's groups) by a part
of their name, login, email or external ID; without QUERY it lists them all,
ordered by name. STATUS shows "merged into LOGIN (merge N)" for a merged
account and "deleted" for a deleted one.

Examples:
  usermerge --tenant acme --as admin accounts garcia
  usermerge --tenant acme --as admin accounts --status inactive --limit 200
  usermerge --tenant acme --as sales-editor accounts`,
	db: existingDB, tenant: true, admin: true, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		status := fs.String("status", "", "only accounts that are `active`, inactive or deleted")
		limit := fs.Int("limit", 50, "show at most `N` accounts (1-1000)")
		return func(ctx context.Context, m *Main, args []string) error {
			if *limit < 1 || *limit > 1000 {
				return usageError("accounts: --limit must be between 1 and 1000")
			}
			list, err := m.eng.SearchAccounts(ctx, m.caller, strings.Join(args, " "), *status, *limit, 0)
			if err != nil {
				return err
			}
			targets := m.loginsOf(ctx, list)
			return m.emit(usermerge.AccountsAnswer{Accounts: list}, func(w io.Writer) error {
				if len(list) == 0 {
					_, err := fmt.Fprintln(w, "No accounts found.")
					return err
				}
				tw := newTable(w)
				fmt.Fprintln(tw, "ID\tLOGIN\tNAME\tEMAIL\tSTATUS\tGROUPS\tJOBS")
				for _, a := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Login, a.Name, a.Email,
						statusText(a.Account, targets[a.MergedInto]), strings.Join(a.Groups, ", "), strings.Join(a.Jobs, ", "))
				}
				tw.Flush()
				more := ""
				if len(list) == *limit {
					more = " (the limit; narrow the query or raise --limit)"
				}
				_, err := fmt.Fprintf(w, "%s%s\n", plural(len(list), "account", "accounts"), more)
				return err
			})
		}
	},
}

// loginsOf finds the logins of the targets the listed accounts are merged
// into, as far as the administrator may see them; unseen ones stay ids.
func (m *Main) loginsOf(ctx context.Context, list []usermerge.AccountSummary) map[string]string {
	out := map[string]string{}
	for _, a := range list {
		if a.MergedInto == "" || out[a.MergedInto] != "" {
			continue
		}
		out[a.MergedInto] = a.MergedInto
		if t, err := m.eng.AccountInfo(ctx, m.caller, a.MergedInto); err == nil {
			out[a.MergedInto] = t.Login
		}
	}
	return out
}

var accountCmd = &command{
	name:    "account",
	usage:   "account ID|LOGIN",
	summary: "show one account: groups, jobs, status, profile attributes and record counts",
	help: `Shows one account as the merge screen's info button does: its profile,
groups and jobs, status (and what it is merged into), its profile attributes
(birth date, employee number, free keys...) when it has any, and how many
live records of each kind it holds.

Examples:
  usermerge --tenant acme --as admin account mgarcia
  usermerge --tenant acme --as eng-viewer account aditya.iyer`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(ctx context.Context, m *Main, args []string) error {
			s, err := m.eng.AccountInfo(ctx, m.caller, args[0])
			if err != nil {
				return err
			}
			target := ""
			if s.MergedInto != "" {
				target = m.loginsOf(ctx, []usermerge.AccountSummary{s})[s.MergedInto]
			}
			return m.emit(s, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintf(tw, "Account\t%s\n", s.ID)
				fmt.Fprintf(tw, "Login\t%s\n", s.Login)
				fmt.Fprintf(tw, "Name\t%s\n", s.Name)
				fmt.Fprintf(tw, "Email\t%s\n", s.Email)
				status := statusText(s.Account, target)
				if s.Deleted() {
					status = fmt.Sprintf("deleted on %s (was %s)", fmtTime(*s.DeletedAt), s.Status)
				}
				fmt.Fprintf(tw, "Status\t%s\n", status)
				fmt.Fprintf(tw, "Created\t%s\n", fmtTime(s.CreatedAt))
				if s.IsAdmin {
					fmt.Fprintf(tw, "Admin\tyes (administrators are never merged away)\n")
				}
				fmt.Fprintf(tw, "Groups\t%s\n", orNone(s.Groups))
				fmt.Fprintf(tw, "Jobs\t%s\n", orNone(s.Jobs))
				tw.Flush()
				if len(s.Attributes) > 0 {
					fmt.Fprintln(w, "Profile:")
					tw = newTable(w)
					for _, k := range usermerge.AttributeKeys(s.Attributes) {
						fmt.Fprintf(tw, "  %s\t%s\n", usermerge.AttributeLabel(k), s.Attributes[k])
					}
					tw.Flush()
				}
				fmt.Fprintln(w, "Records:")
				tw = newTable(w)
				for _, k := range usermerge.Kinds {
					fmt.Fprintf(tw, "  %s\t%d\n", k.Label(), s.Counts[k])
				}
				return tw.Flush()
			})
		}
	},
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, ", ")
}

var activateCmd = &command{
	name:    "activate",
	usage:   "activate ID|LOGIN",
	summary: "make an account active",
	help: `Makes an account active. An account merged into another is refused (exit
status 4) with the target, the merge and its date: revert that merge to use
the account again.

Examples:
  usermerge --tenant acme --as admin activate mgarcia`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		return statusRun(true)
	},
}

var deactivateCmd = &command{
	name:    "deactivate",
	usage:   "deactivate ID|LOGIN",
	summary: "make an account inactive",
	help: `Makes an account inactive; its records stay as they are.

Examples:
  usermerge --tenant acme --as admin deactivate mgarcia`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		return statusRun(false)
	},
}

func statusRun(activate bool) runFunc {
	return func(ctx context.Context, m *Main, args []string) error {
		change := m.eng.Deactivate
		if activate {
			change = m.eng.Activate
		}
		acc, err := change(ctx, m.caller, args[0])
		if err != nil {
			return err
		}
		return m.emit(acc, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "%s is now %s.\n", who(acc), acc.Status)
			return err
		})
	}
}

var deleteCmd = &command{
	name:    "delete",
	usage:   "delete [--yes] ID|LOGIN",
	summary: "delete an account (a tombstone is kept)",
	help: `Deletes an account, keeping a tombstone for audit. First shows what the
deletion does to merges: merges from the account become permanent (no
revert, the data stays with the target); an account holding merged accounts'
data takes that data with it, its merges leave the default merge list and
those accounts may be activated again. Asks for confirmation on a terminal;
scripts pass --yes.

Examples:
  usermerge --tenant acme --as admin delete klee
  usermerge --tenant acme --as admin delete --yes u-0185`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		yes := fs.Bool("yes", false, "delete without asking")
		return func(ctx context.Context, m *Main, args []string) error {
			im, err := m.eng.DeletionImpact(ctx, m.caller, args[0])
			if err != nil {
				return err
			}
			w := m.notes()
			if im.Warning != "" {
				fmt.Fprintf(w, "Warning: %s.\n", im.Warning)
			} else {
				fmt.Fprintf(w, "No merge involves %s.\n", im.Account.Login)
			}
			if !*yes {
				if err := m.needConfirm("delete"); err != nil {
					return err
				}
				if err := m.ask(fmt.Sprintf("Delete %s?", who(im.Account))); err != nil {
					return err
				}
			}
			im, err = m.eng.Delete(ctx, m.caller, im.Account.ID, true)
			if err != nil {
				return err
			}
			return m.emit(im, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s is deleted.\n", who(im.Account))
				return err
			})
		}
	},
}
