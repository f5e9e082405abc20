package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"usermerge"
)

var mergesCmd = &command{
	name:    "merges",
	usage:   "merges [--from TIME] [--to TIME] [--source Q] [--target Q] [--operation N] [--batch N] [--state STATE] [--page N] [--per-page N]",
	summary: "list merges, newest first",
	help: `Lists the merges the administrator may see, newest first: when, source,
target, who merged, state and what moved. --source and --target match a part
of the account's name, login, email or external ID. Times are RFC 3339
(2024-05-01T09:30:00Z) or a date (2024-05-01, UTC); --to with a date
includes that whole day. --operation lists the merges of one operation (a
merge of several sources at once makes one merge per source; the OP column
shows the operation each belongs to). --batch lists the merges a bulk merge
made (usermerge batch list shows the batches).

STATE is active, reverted, permanent (the source was deleted), irreversible
(the tenant does not allow reverting), target_deleted (hidden by default,
kept for audit) or all.

Examples:
  usermerge --tenant acme --as admin merges
  usermerge --tenant acme --as admin merges --source garcia --from 2026-01-01 --to 2026-12-31
  usermerge --tenant acme --as admin merges --state reverted --page 2 --per-page 20`,
	db: existingDB, tenant: true, admin: true,
	setup: func(fs *flag.FlagSet) runFunc {
		from := fs.String("from", "", "merged at or after `TIME`")
		to := fs.String("to", "", "merged before `TIME` (a date: up to the end of that day)")
		source := fs.String("source", "", "the source matches `Q` (name, login, email or external ID)")
		target := fs.String("target", "", "the target matches `Q` (name, login, email or external ID)")
		state := fs.String("state", "", "only merges in `STATE`: active, reverted, permanent, irreversible, target_deleted or all")
		operation := fs.Int64("operation", 0, "only the merges of operation `N`")
		batch := fs.Int64("batch", 0, "only the merges of bulk merge (batch) `N`")
		page := fs.Int("page", 1, "page `N` of the list")
		perPage := fs.Int("per-page", 50, "`N` merges per page (1-500)")
		return func(ctx context.Context, m *Main, args []string) error {
			f := usermerge.MergeFilter{Source: *source, Target: *target, Operation: *operation, Batch: *batch, State: usermerge.MergeState(*state), Page: *page, PerPage: *perPage}
			if *operation < 0 {
				return usageError("merges: --operation must be an operation's number, 1 or more")
			}
			if *batch < 0 {
				return usageError("merges: --batch must be a batch's number, 1 or more")
			}
			var err error
			if f.From, err = parseTime("--from", *from, false); err != nil {
				return err
			}
			if f.To, err = parseTime("--to", *to, true); err != nil {
				return err
			}
			if *page < 1 {
				return usageError("merges: --page must be 1 or more")
			}
			if *perPage < 1 || *perPage > 500 {
				return usageError("merges: --per-page must be between 1 and 500")
			}
			p, err := m.eng.ListMerges(ctx, m.caller, f)
			if err != nil {
				return err
			}
			return m.emit(p, func(w io.Writer) error { return writeMerges(w, p) })
		}
	},
}

// parseTime reads RFC 3339 or a date (UTC); a date as the end of a range
// means the end of that day.
func parseTime(flagName, s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, usageError("%s %q: give a date (2024-05-01) or an RFC 3339 time (2024-05-01T09:30:00Z)", flagName, s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return &t, nil
}

func writeMerges(w io.Writer, p usermerge.MergePage) error {
	if len(p.Merges) == 0 {
		_, err := fmt.Fprintln(w, "No merges found.")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tOP\tAT\tSOURCE\tTARGET\tBY\tSTATE\tRECORDS")
	states := map[usermerge.MergeState]int{}
	for _, mg := range p.Merges {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", mg.ID, mg.OperationID, fmtTime(mg.At), listed(mg.Source), listed(mg.Target), mg.By,
			mg.DisplayState, countText(usermerge.Total(mg.Counts)))
		states[mg.DisplayState]++
	}
	tw.Flush()
	var parts []string
	for _, st := range []usermerge.MergeState{usermerge.StateActive, usermerge.StateIrreversible, usermerge.StateReverted,
		usermerge.StatePermanent, usermerge.StateTargetDeleted} {
		if states[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", states[st], st))
		}
	}
	pages := (p.Total + int64(p.PerPage) - 1) / int64(p.PerPage)
	_, err := fmt.Fprintf(w, "Page %d of %d: %s of %d (%s)\n", p.Page, pages,
		plural(len(p.Merges), "merge", "merges"), p.Total, strings.Join(parts, ", "))
	return err
}

// listed names an account in the merge list, marking deleted ones.
func listed(a usermerge.Account) string {
	if a.Deleted() {
		return a.Login + " (deleted)"
	}
	return a.Login
}

var showCmd = &command{
	name:    "show",
	usage:   "show MERGE_ID [--kind KIND] [--limit N] [--offset N]",
	summary: "show a merge's details: every record it moved, combined, retired or left",
	help: `Shows one merge: who merged which accounts when, its state, reason and the
policy it ran under; then per kind of record (score details, badge details,
sign-in details and every other kind) the counts, the rule, and the records
it moved, combined, retired or left with the source, with their values
before and after; and, for a reverted merge, who reverted it and which
records kept newer values.

Without --kind, the score, badge and sign-in sections are always shown and
other kinds when the merge touched them, each with its first --limit records.
With --kind, only that kind, and --offset pages through its records: each
section says which records it lists, of how many, and the command for the
next page. KIND is a kind name or one of its other names:
` + kindNames() + `
Examples:
  usermerge --tenant acme --as admin show 1
  usermerge --tenant acme --as admin show 1 --kind badge --limit 500
  usermerge --tenant acme --as admin show 1 --kind signin --limit 1000 --offset 1000`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		kind := fs.String("kind", "", "only the records of `KIND`")
		limit := fs.Int("limit", 20, "list at most `N` records per kind (1-10000)")
		offset := fs.Int("offset", 0, "with --kind, skip the kind's first `N` records (the next page)")
		return func(ctx context.Context, m *Main, args []string) error {
			id, err := parseMergeID(args[0])
			if err != nil {
				return err
			}
			pg := usermerge.DetailsPage{Limit: *limit, Offset: *offset}
			if *kind != "" {
				if pg.Kind, err = parseKind(*kind); err != nil {
					return err
				}
			}
			if *limit < 1 || *limit > usermerge.MaxDetailsLimit {
				return usageError("show: --limit must be between 1 and %d", usermerge.MaxDetailsLimit)
			}
			if *offset < 0 {
				return usageError("show: --offset must be 0 or more")
			}
			if *offset > 0 && pg.Kind == "" {
				return usageError("show: --offset pages one kind's records; name it with --kind")
			}
			d, err := m.eng.MergeDetailsPage(ctx, m.caller, id, pg)
			if err != nil {
				return err
			}
			return m.emit(d, func(w io.Writer) error { return writeDetails(w, d, pg, m.loginOf(ctx)) })
		}
	},
}

func parseKind(s string) (usermerge.Kind, error) {
	if k, ok := usermerge.KindNamed(s); ok {
		return k, nil
	}
	var names []string
	for _, k := range usermerge.Kinds {
		names = append(names, string(k))
	}
	return "", usageError("unknown kind %q; the kinds are: %s", s, strings.Join(names, ", "))
}

// loginOf names, by login, an account that holds a merge's record today
// and is neither of the merge's two (a later merge moved the record on):
// administrators know logins, not internal ids.
func (m *Main) loginOf(ctx context.Context) func(id string) string {
	seen := map[string]string{}
	return func(id string) string {
		if l, ok := seen[id]; ok {
			return l
		}
		l := "an account outside your groups"
		if a, err := m.eng.AccountInfo(ctx, m.caller, id); err == nil {
			l = a.Account.Login
		}
		seen[id] = l
		return l
	}
}

func writeDetails(w io.Writer, d usermerge.MergeDetails, pg usermerge.DetailsPage, loginOf func(id string) string) error {
	all := pg.Kind != ""
	mg := d.Merge
	tw := newTable(w)
	fmt.Fprintf(tw, "Merge %d\t(operation %d)\n", mg.ID, mg.OperationID)
	fmt.Fprintf(tw, "Source\t%s, %s\n", who(mg.Source), statusText(mg.Source, mg.Target.Login))
	fmt.Fprintf(tw, "Target\t%s%s\n", who(mg.Target), map[bool]string{true: ", deleted", false: ""}[mg.Target.Deleted()])
	fmt.Fprintf(tw, "Merged\t%s by %s\n", fmtTime(mg.At), mg.By)
	state := string(mg.DisplayState)
	switch mg.DisplayState {
	case usermerge.StateActive:
		state += fmt.Sprintf(" (revert with: usermerge revert %d)", mg.ID)
	case usermerge.StateReverted:
		if mg.RevertedAt != nil {
			state += fmt.Sprintf(" by %s on %s", mg.RevertedBy, fmtTime(*mg.RevertedAt))
		}
	case usermerge.StateIrreversible:
		state += " (the tenant does not allow reverting)"
	case usermerge.StatePermanent:
		state += " (the source was deleted; no revert)"
	case usermerge.StateTargetDeleted:
		state += " (the target was deleted; kept for audit)"
	}
	fmt.Fprintf(tw, "State\t%s\n", state)
	reason := mg.Reason
	if reason == "" {
		reason = "(none given)"
	}
	fmt.Fprintf(tw, "Reason\t%s\n", reason)
	pol := mg.Policy
	fmt.Fprintf(tw, "Policy\t%s: badges %s, credits %s, certificates %s, reverts allowed %s\n",
		usermerge.PresetOf(pol), pol.Badges, pol.Credits, pol.Certificates, yesNo(pol.RevertAllowed))
	fmt.Fprintf(tw, "External IDs\t%s\n", map[bool]string{true: "moved to the target", false: "left with the source"}[mg.MoveExternalIDs])
	fmt.Fprintf(tw, "Records\t%s\n", countText(usermerge.Total(mg.Counts)))
	tw.Flush()
	writeProfile(w, "Profile: the kept account took", mg.Profile)

	var quiet []string
	for _, kd := range d.Kinds {
		if !all && !kd.Kind.Spec().Always && kd.Counts.IsZero() && len(kd.Records) == 0 {
			quiet = append(quiet, kd.Label)
			continue
		}
		writeKind(w, mg, kd, pg.Limit, loginOf)
	}
	if len(quiet) > 0 {
		fmt.Fprintf(w, "\nNo records for: %s.\n", strings.Join(quiet, ", "))
	}
	if d.Revert != nil {
		fmt.Fprintf(w, "\n== Revert ==\nReverted by %s on %s.\n", d.Revert.By, fmtTime(d.Revert.At))
		return writeKeptNewer(w, d.Revert.KeptNewer)
	}
	return nil
}

func writeKind(w io.Writer, mg usermerge.Merge, kd usermerge.KindDetails, limit int, loginOf func(id string) string) {
	// The account holding a record today, by login where it is one of the
	// merge's; a later merge may have moved it on to another account.
	holder := func(id string) string {
		switch id {
		case mg.Target.ID:
			return mg.Target.Login + " (kept)"
		case mg.Source.ID:
			return mg.Source.Login + " (source)"
		}
		return loginOf(id)
	}
	fmt.Fprintf(w, "\n== %s ==\n", kd.Kind.Spec().Title)
	fmt.Fprintf(w, "Rule: %s\n", kd.Rule)
	c := kd.Counts
	for i, col := range usermerge.CountColumns {
		word := col.Word
		if i == 0 {
			word = col.Label
		} else {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %d", word, c.Of(col.Disposition))
	}
	fmt.Fprintln(w, ".")
	if len(kd.Records) == 0 {
		if kd.Offset > 0 && kd.Total > 0 {
			fmt.Fprintf(w, "No records after the first %s: the kind lists %s.\n", grouped(int64(kd.Offset)), plural(int(kd.Total), "record", "records"))
		} else {
			fmt.Fprintln(w, "No records listed.")
		}
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "  WHAT\tRECORD\tACCOUNT\tRECORD VALUES\tCHANGE")
	for _, r := range kd.Records {
		what := make([]string, len(r.Actions))
		for i, a := range r.Actions {
			what[i] = strings.ToLower(a.Label())
		}
		var vals, change []string
		for _, f := range r.Fields {
			v := f.Value
			if f.Title != "" {
				v = f.Title + " (" + v + ")"
			}
			if v != "" {
				vals = append(vals, f.Label+" "+v)
			}
			if f.Before != nil && *f.Before != *f.After {
				change = append(change, f.Label+" "+noneIfEmpty(*f.Before)+" → "+noneIfEmpty(*f.After))
			}
		}
		switch {
		case r.KeptFrom != "":
			change = append(change, usermerge.KeptNote(r.KeptFrom, r.Other))
		case r.Other != "":
			change = append(change, "combined with "+r.Other)
		}
		if r.Retired && !slices.Contains(r.Actions, usermerge.Retired) {
			change = append(change, "retired since")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", strings.Join(what, "+"), r.RecordID, holder(r.Account), strings.Join(vals, ", "), strings.Join(change, "; "))
	}
	tw.Flush()
	if kd.Offset > 0 || kd.NextOffset != nil {
		fmt.Fprintf(w, "  Records %s–%s of %s.", grouped(int64(kd.Offset+1)), grouped(int64(kd.Offset+len(kd.Records))), grouped(kd.Total))
		if kd.NextOffset != nil {
			fmt.Fprintf(w, " Next page: usermerge show %d --kind %s --limit %d --offset %d", mg.ID, kd.Kind, limit, *kd.NextOffset)
		}
		fmt.Fprintln(w)
	}
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// kindNames lists every kind with its other names, one per line, for help.
func kindNames() string {
	var b strings.Builder
	for _, spec := range usermerge.Specs {
		fmt.Fprintf(&b, "  %-20s %s\n", spec.Kind, strings.Join(spec.Aliases, ", "))
	}
	return b.String()
}
