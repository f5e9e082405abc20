package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"usermerge"
)

// mergeFlags are the flags preview and merge share.
type mergeFlags struct {
	target        *string
	externalIDs   *bool
	noExternalIDs *bool
	reason        *string
	yes           *bool
	profile       map[string]string // --keep-source-value FIELD=SOURCE
}

func bindMergeFlags(fs *flag.FlagSet, merge bool) *mergeFlags {
	f := &mergeFlags{
		target:        fs.String("target", "", "keep the account `ID|LOGIN` (required)"),
		externalIDs:   fs.Bool("external-ids", false, "also move the sources' external IDs to the kept account"),
		noExternalIDs: fs.Bool("no-external-ids", false, "leave external IDs with the sources"),
	}
	fields := make([]string, len(usermerge.ProfileFields))
	for i, pf := range usermerge.ProfileFields {
		fields[i] = pf.Name
	}
	fs.Func("keep-source-value", "the kept account takes `FIELD=SOURCE`'s value of a profile field ("+strings.Join(fields, ", ")+"); repeatable", func(v string) error {
		field, src, ok := strings.Cut(v, "=")
		field, src = strings.TrimSpace(field), strings.TrimSpace(src)
		if !ok || field == "" || src == "" {
			return fmt.Errorf("give a field and a source, as in --keep-source-value email=mgarcia")
		}
		if f.profile == nil {
			f.profile = map[string]string{}
		}
		if prev, dup := f.profile[field]; dup && prev != src {
			return fmt.Errorf("the %s is taken from %s already; a field comes from one source", field, prev)
		}
		f.profile[field] = src
		return nil
	})
	if merge {
		f.reason = fs.String("reason", "", "record `TEXT` as the reason for the merge")
		f.yes = fs.Bool("yes", false, "merge without asking")
	}
	return f
}

func (f *mergeFlags) request(cmd string, sources []string) (usermerge.MergeRequest, error) {
	req := usermerge.MergeRequest{Target: *f.target, Sources: sources, Profile: f.profile}
	if req.Target == "" {
		return req, usageError("%s: name the account to keep with --target", cmd)
	}
	if *f.externalIDs && *f.noExternalIDs {
		return req, usageError("%s: pass --external-ids or --no-external-ids, not both", cmd)
	}
	if *f.externalIDs || *f.noExternalIDs {
		move := *f.externalIDs
		req.MoveExternalIDs = &move
	}
	if f.reason != nil {
		req.Reason = *f.reason
	}
	return req, nil
}

var previewCmd = &command{
	name:    "preview",
	usage:   "preview --target ID|LOGIN [--external-ids|--no-external-ids] [--keep-source-value FIELD=SOURCE]... SOURCE...",
	summary: "show what merging accounts would do, changing nothing",
	help: `Answers what merging the SOURCE accounts into the --target account would do,
with nothing written: per source and per kind of record how many records
move to the kept account, combine with its records, are retired (kept for
revert only) or stay with the source, with the rule applied; warnings (the
source is still active, signed in recently); and whether the tenant allows
reverting the merge. A merge takes 1 to 10 sources.

The kept account keeps its own name and email unless --keep-source-value
FIELD=SOURCE names a source whose value it takes instead (see help merge).

Examples:
  usermerge --tenant acme --as admin preview --target maria.garcia mgarcia
  usermerge --tenant acme --as admin preview --target katherine.lee --external-ids kate.lee klee`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		f := bindMergeFlags(fs, false)
		return func(ctx context.Context, m *Main, args []string) error {
			req, err := f.request("preview", args)
			if err != nil {
				return err
			}
			p, err := m.eng.Preview(ctx, m.caller, req)
			if err != nil {
				return err
			}
			return m.emit(p, func(w io.Writer) error { return writePreview(w, p) })
		}
	},
}

func writePreview(w io.Writer, p usermerge.Preview) error {
	fmt.Fprintf(w, "Preview: merge %s into %s. Nothing has been changed.\n",
		plural(len(p.Sources), "account", "accounts"), who(p.Target))
	if p.MoveExternalIDs {
		fmt.Fprintln(w, "External IDs: move to the kept account.")
	} else {
		fmt.Fprintln(w, "External IDs: stay with the sources (pass --external-ids to move them).")
	}
	if p.RevertAllowed {
		fmt.Fprintln(w, "Reverting: allowed; the merge can be reverted exactly with `usermerge revert MERGE_ID`.")
	} else {
		fmt.Fprintln(w, "Reverting: NOT allowed by this tenant's policy; the merge cannot be undone.")
	}
	writeProfile(w, "Profile: the kept account takes", p.Profile)
	for _, sp := range p.Sources {
		fmt.Fprintf(w, "\nSource %s, %s\n", who(sp.Source), statusText(sp.Source, ""))
		tw := newTable(w)
		fmt.Fprintln(tw, countHeader())
		var total usermerge.Counts
		for _, k := range sp.Kinds {
			fmt.Fprintln(tw, countRow(k.Label, k.Counts, k.Rule))
			total = total.Add(k.Counts)
		}
		fmt.Fprintln(tw, countRow("Total", total, ""))
		tw.Flush()
		for _, warn := range sp.Warnings {
			fmt.Fprintf(w, "Warning: %s\n", warn)
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	return nil
}

var mergeCmd = &command{
	name:    "merge",
	usage:   "merge --target ID|LOGIN [--external-ids|--no-external-ids] [--keep-source-value FIELD=SOURCE]... [--reason TEXT] [--yes] SOURCE...",
	summary: "merge accounts into the account kept",
	help: `Merges the SOURCE accounts (1 to 10) into the --target account, in one
transaction: all of it happens or none of it. Each source ends inactive,
marked as merged into the target; one merge is recorded per source.

The kept account keeps its own profile (name, email) unless
--keep-source-value FIELD=SOURCE (repeatable, one source per field) says it
takes a source's value: --keep-source-value email=mgarcia gives it
mgarcia's email. SOURCE must be one of the accounts merged and have a value
for the field; a source whose value is the kept account's already changes
nothing. The merge records the value it replaced, and a revert gives it back
unless the field was changed after the merge (then the newer value stays and
the revert lists it).

On a terminal, without --yes, it shows the preview and asks for
confirmation, saying whether the merge can be reverted. Without a terminal
(a script, a pipe) it refuses unless --yes is given.

Examples:
  usermerge --tenant acme --as admin merge --target maria.garcia mgarcia
  usermerge --tenant acme --as admin merge --target katherine.lee --yes --reason "ticket 4411" kate.lee klee
  usermerge --tenant acme --as admin merge --target maria.garcia --keep-source-value email=mgarcia --yes mgarcia
  usermerge --tenant globex --as admin merge --target apetrov --external-ids --yes alex.petrov apetrov2`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		f := bindMergeFlags(fs, true)
		return func(ctx context.Context, m *Main, args []string) error {
			req, err := f.request("merge", args)
			if err != nil {
				return err
			}
			if !*f.yes {
				if err := m.needConfirm("merge"); err != nil {
					return err
				}
				p, err := m.eng.Preview(ctx, m.caller, req)
				if err != nil {
					return err
				}
				writePreview(m.notes(), p)
				var names []string
				for _, sp := range p.Sources {
					names = append(names, who(sp.Source))
				}
				undo := "It can be reverted later."
				if !p.RevertAllowed {
					undo = "This tenant does not allow reverting: it cannot be undone."
				}
				if err := m.ask(fmt.Sprintf("\nMerge %s into %s? %s", strings.Join(names, ", "), who(p.Target), undo)); err != nil {
					return err
				}
			}
			ms, err := m.eng.Merge(ctx, m.caller, req)
			if err != nil {
				return err
			}
			return m.emit(usermerge.MergesAnswer{Merges: ms}, func(w io.Writer) error { return writeMerged(w, ms) })
		}
	},
}

func writeMerged(w io.Writer, ms []usermerge.Merge) error {
	if len(ms) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Merged %s into %s (operation %d):\n", plural(len(ms), "account", "accounts"), who(ms[0].Target), ms[0].OperationID)
	tw := newTable(w)
	var ids []string
	for _, mg := range ms {
		fmt.Fprintf(tw, "  merge %d\t%s\t%s\n", mg.ID, who(mg.Source), countText(usermerge.Total(mg.Counts)))
		ids = append(ids, strconv.FormatInt(mg.ID, 10))
	}
	tw.Flush()
	for _, mg := range ms {
		writeProfile(w, "Profile: the kept account took", mg.Profile)
	}
	fmt.Fprintf(w, "Details: usermerge show %s\n", ids[0])
	if ms[0].DisplayState == usermerge.StateIrreversible {
		_, err := fmt.Fprintln(w, "These merges are irreversible: the tenant does not allow reverting.")
		return err
	}
	_, err := fmt.Fprintf(w, "Undo:    usermerge revert %s\n", strings.Join(ids, " "))
	return err
}

// writeProfile lists the profile fields a merge takes (or took) from a source.
func writeProfile(w io.Writer, title string, changes []usermerge.ProfileChange) {
	if len(changes) == 0 {
		return
	}
	fmt.Fprintf(w, "%s:\n", title)
	tw := newTable(w)
	fmt.Fprintln(tw, "  FIELD\tWAS\tBECOMES\tFROM")
	for _, c := range changes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Label, cmp.Or(c.Before, "(none)"), c.After, c.Source)
	}
	tw.Flush()
}

// needConfirm refuses a change that needs confirmation when there is no
// terminal to ask on, so that a script never changes data by accident.
func (m *Main) needConfirm(action string) error {
	if !m.isTerminal(m.Stdin) {
		return usermerge.Errorf(usermerge.Invalid, "confirmation_required",
			"%s needs confirmation and standard input is not a terminal: pass --yes to %s", action, action)
	}
	return nil
}

var revertCmd = &command{
	name:    "revert",
	usage:   "revert [--yes] MERGE_ID... | revert [--yes] --operation N",
	summary: "revert merges exactly, as one batch",
	help: `Reverts the given merges in one batch, newest first: every record a merge
moved goes back to its source, every record it combined or retired gets its
value from before the merge back, and each source gets its status back.
Records that changed on the kept account since the merge keep their newer
value; each such record is listed. The batch is refused as a whole, with
the reason, when one merge cannot be reverted (the tenant does not allow
it, it is not active, or a later merge involves its accounts and is not in
the batch).

--operation N reverts every merge of one operation (a merge of several
sources at once, or one row of a bulk merge) the same way, in one
transaction. A whole bulk merge is reverted with usermerge batch revert.

Asks for confirmation on a terminal; scripts pass --yes.

Examples:
  usermerge --tenant acme --as admin revert 1
  usermerge --tenant acme --as admin revert --yes 2 3
  usermerge --tenant acme --as admin revert --yes --operation 2`,
	db: existingDB, tenant: true, admin: true, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		yes := fs.Bool("yes", false, "revert without asking")
		operation := fs.Int64("operation", 0, "revert every merge of operation `N` (usermerge merges shows it in the OP column)")
		return func(ctx context.Context, m *Main, args []string) error {
			if *operation != 0 || len(args) == 0 {
				return m.revertOperation(ctx, *operation, *yes, args)
			}
			var ids []int64
			for _, a := range args {
				id, err := parseMergeID(a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if !*yes {
				if err := m.needConfirm("revert"); err != nil {
					return err
				}
				var lines []string
				for _, id := range ids {
					d, err := m.eng.MergeDetails(ctx, m.caller, id, 1)
					if err != nil {
						return err
					}
					mg := d.Merge
					lines = append(lines, fmt.Sprintf("  merge %d: %s into %s on %s, %s", mg.ID, who(mg.Source), who(mg.Target), fmtTime(mg.At), mg.DisplayState))
				}
				q := fmt.Sprintf("Revert %s?\n%s\nThe sources get their records and status back.", plural(len(ids), "merge", "merges"), strings.Join(lines, "\n"))
				if err := m.ask(q); err != nil {
					return err
				}
			}
			rep, err := m.eng.Revert(ctx, m.caller, ids)
			if err != nil {
				return err
			}
			return m.emit(rep, func(w io.Writer) error { return writeRevert(w, rep) })
		}
	},
}

func parseMergeID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%q is not a merge id (a positive number, as `usermerge merges` lists them)", s)
	}
	return id, nil
}

func writeRevert(w io.Writer, rep usermerge.RevertReport) error {
	var ids []string
	for _, id := range rep.Reverted {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	fmt.Fprintf(w, "Reverted %s: %s (newest first), by %s on %s.\n",
		plural(len(rep.Reverted), "merge", "merges"), strings.Join(ids, ", "), rep.By, fmtTime(rep.At))
	return writeKeptNewer(w, rep.KeptNewer)
}

func writeKeptNewer(w io.Writer, kept []usermerge.KeptNewer) error {
	if len(kept) == 0 {
		_, err := fmt.Fprintln(w, "Every record was restored: none had changed since the merge.")
		return err
	}
	fmt.Fprintf(w, "%s stayed as the merge left them because of activity after it:\n", plural(len(kept), "record", "records"))
	tw := newTable(w)
	fmt.Fprintln(tw, "  MERGE\tKIND\tRECORD\tWHY\tACCOUNT\tBEFORE MERGE\tMERGE WROTE\tNOW")
	for _, k := range kept {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.MergeID, k.Kind.Label(), k.RecordID, usermerge.KeptReasonText(k.Reason), k.Account,
			values(k.Before), values(k.Merged), values(k.Current))
	}
	return tw.Flush()
}

// revertOperation is revert --operation N.
func (m *Main) revertOperation(ctx context.Context, op int64, yes bool, args []string) error {
	switch {
	case len(args) > 0:
		return usageError("revert: give merge ids or --operation, not both")
	case op == 0:
		return usageError("revert: name the merges to revert, or an operation with --operation N")
	case op < 0:
		return usageError("revert: --operation must be an operation's number, 1 or more")
	}
	if !yes {
		if err := m.needConfirm("revert"); err != nil {
			return err
		}
		p, err := m.eng.ListMerges(ctx, m.caller, usermerge.MergeFilter{Operation: op, State: "all", PerPage: 500})
		if err != nil {
			return err
		}
		if len(p.Merges) == 0 {
			return usermerge.Errorf(usermerge.NotFound, "operation_not_found", "operation %d has no merges you may see", op)
		}
		var lines []string
		for _, mg := range p.Merges {
			lines = append(lines, fmt.Sprintf("  merge %d: %s into %s on %s, %s", mg.ID, who(mg.Source), who(mg.Target), fmtTime(mg.At), mg.DisplayState))
		}
		q := fmt.Sprintf("Revert operation %d (%s)?\n%s\nThe sources get their records and status back.", op,
			plural(len(p.Merges), "merge", "merges"), strings.Join(lines, "\n"))
		if err := m.ask(q); err != nil {
			return err
		}
	}
	rep, err := m.batches().RevertOperation(ctx, m.caller, op)
	if err != nil {
		return err
	}
	return m.emit(rep, func(w io.Writer) error { return writeRevert(w, rep) })
}
