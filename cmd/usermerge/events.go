package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"usermerge"
)

// The events commands (PRODUCT.md §13): the feed, resolve and webhooks.

var eventsCmd = &command{
	name:    "events",
	usage:   "events [--after N] [--type T]... [--limit N] [--follow [--every D]]",
	summary: "read the tenant's event feed in commit order",
	help: `Prints the tenant's events after the cursor --after, oldest first, in the
order their changes committed: merge.completed, merge.reverted,
account.deleted, batch.completed and batch.reverted (docs/events.md
documents each payload). One line per event: its id, time, type and what
happened; the last line says the cursor to give --after next time. With
--json, each event is one line of JSON (the feed's envelope) and nothing
else is printed on stdout.

--type picks types (repeat it, or separate with commas). --limit stops
after N events; without it every event after the cursor is printed.
--follow keeps waiting for new events (every --every, 2s by default) until
interrupted. Tenant administrators only.

Examples:
  usermerge --tenant acme --as admin events
  usermerge --tenant acme --as admin events --after 120 --type merge.completed,merge.reverted
  usermerge --tenant acme --as admin --json events --follow | my-consumer`,
	db: existingDB, tenant: true, admin: true,
	setup: func(fs *flag.FlagSet) runFunc {
		after := fs.Int64("after", 0, "print the events after cursor `N` (an event id; 0: from the start)")
		var types []string
		fs.Func("type", "only events of type `T` (repeat, or separate with commas)", func(s string) error {
			for _, t := range strings.Split(s, ",") {
				if t = strings.TrimSpace(t); t != "" {
					types = append(types, t)
				}
			}
			return nil
		})
		limit := fs.Int("limit", 0, "print at most `N` events (0: all)")
		follow := fs.Bool("follow", false, "keep waiting for new events until interrupted")
		every := fs.Duration("every", 2*time.Second, "with --follow: look for new events every `D`")
		return func(ctx context.Context, m *Main, args []string) error {
			if *after < 0 {
				return usageError("events: --after must be a cursor printed before (an event id, 0 or more)")
			}
			if *limit < 0 {
				return usageError("events: --limit must be 0 (all) or more")
			}
			if *every < 100*time.Millisecond {
				return usageError("events: --every must be at least 100ms")
			}
			cursor, printed := *after, 0
			for {
				n := 1000
				if *limit > 0 {
					n = min(n, *limit-printed)
				}
				page, err := m.eng.Events(ctx, m.caller, usermerge.EventFilter{After: cursor, Types: types, Limit: n})
				if err != nil {
					if ctx.Err() != nil && *follow {
						break
					}
					return err
				}
				for _, ev := range page.Events {
					if err := m.writeEvent(ev); err != nil {
						return err
					}
				}
				printed += len(page.Events)
				cursor = page.Next
				if *limit > 0 && printed >= *limit {
					break
				}
				if page.More {
					continue
				}
				if !*follow {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(*every):
				}
				if ctx.Err() != nil {
					break
				}
			}
			if printed == 0 && !*follow {
				fmt.Fprintf(m.notes(), "No events after %d.\n", *after)
			}
			fmt.Fprintf(m.notes(), "Next time: --after %d\n", cursor)
			return nil
		}
	},
}

// writeEvent prints one event: a JSON line with --json, else a line that
// says what happened.
func (m *Main) writeEvent(ev usermerge.Event) error {
	if m.g.json {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(m.Stdout, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(m.Stdout, "%d  %s  %-16s  %s\n", ev.ID, fmtTime(ev.At), ev.Type, eventSummary(ev))
	return err
}

// eventSummary says in words what an event's data tells.
func eventSummary(ev usermerge.Event) string {
	name := func(a usermerge.AccountRef) string { return a.Login + " (" + a.ID + ")" }
	switch ev.Type {
	case usermerge.EventMergeCompleted:
		var d usermerge.MergeCompletedData
		if json.Unmarshal(ev.Data, &d) == nil {
			var from []string
			for _, s := range d.Merged {
				from = append(from, name(s.Account))
			}
			return fmt.Sprintf("kept %s ← merged %s; operation %d, by %s", name(d.Kept), strings.Join(from, ", "), d.Operation, d.By)
		}
	case usermerge.EventMergeReverted:
		var d usermerge.MergeRevertedData
		if json.Unmarshal(ev.Data, &d) == nil {
			var back []string
			for _, r := range d.Restored {
				back = append(back, fmt.Sprintf("%s from %s (merge %d)", name(r.Account), name(r.From), r.Merge))
			}
			return "restored " + strings.Join(back, ", ") + "; by " + d.By
		}
	case usermerge.EventAccountDeleted:
		var d usermerge.AccountDeletedData
		if json.Unmarshal(ev.Data, &d) == nil {
			return "deleted " + name(d.Account) + "; by " + d.By
		}
	case usermerge.EventBatchCompleted, usermerge.EventBatchReverted:
		var d usermerge.BatchEventData
		if json.Unmarshal(ev.Data, &d) == nil {
			return fmt.Sprintf("batch %d %s: %d rows; by %s", d.Batch, d.Status, d.Rows, d.By)
		}
	}
	return string(ev.Data)
}

var resolveCmd = &command{
	name:    "resolve",
	usage:   "resolve [--file F] REF...",
	summary: "say which account holds the data of old ids, logins or external IDs now",
	help: `Answers, for each reference, the account that holds its data now: REF is an
account id, a login or an external ID as system:value (sso:12345). Chains
of merges are followed (A into B, B into C: A's data is in C), and it says
when an account was merged away, is active, was deleted, or is not known,
and which of its merges were reverted (it holds its data again).

--file reads one reference per line (- for standard input); blank lines
and lines starting with # are skipped. Any number of references may be
given; they are sent 1,000 at a time and answered in order.

Examples:
  usermerge --tenant acme --as admin resolve pablo.garcia sso:G-7781
  usermerge --tenant acme --as admin --json resolve --file - < old-ids.txt`,
	db: existingDB, tenant: true, admin: true, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		file := fs.String("file", "", "read references from `F`, one per line (- for standard input)")
		return func(ctx context.Context, m *Main, args []string) error {
			refs := append([]string(nil), args...)
			if *file != "" {
				more, err := m.readRefs(*file)
				if err != nil {
					return err
				}
				refs = append(refs, more...)
			}
			if len(refs) == 0 {
				return usageError("resolve: name the accounts: ids, logins or system:value external IDs, or --file")
			}
			var out []usermerge.Resolution
			for i := 0; i < len(refs); i += usermerge.MaxResolveRefs {
				res, err := m.eng.Resolve(ctx, m.caller, refs[i:min(i+usermerge.MaxResolveRefs, len(refs))])
				if err != nil {
					return err
				}
				out = append(out, res...)
			}
			return m.emit(map[string]any{"resolutions": out}, func(w io.Writer) error { return writeResolutions(w, out) })
		}
	},
}

func (m *Main) readRefs(path string) ([]string, error) {
	var r io.Reader = m.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageError("resolve: cannot read %s: %v", path, err)
		}
		defer f.Close()
		r = f
	}
	var refs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		refs = append(refs, line)
	}
	if err := sc.Err(); err != nil {
		return nil, usageError("resolve: cannot read %s: %v", path, err)
	}
	return refs, nil
}

func writeResolutions(w io.Writer, rs []usermerge.Resolution) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "REF\tSTATE\tNAMES\tHOLDS ITS DATA NOW\tVIA\tREVERTED")
	name := func(a *usermerge.ResolvedAccount) string {
		if a == nil {
			return "-"
		}
		return a.Login + " (" + a.ID + ")"
	}
	for _, r := range rs {
		var via []string
		for _, s := range r.Chain {
			via = append(via, fmt.Sprintf("merge %d", s.Merge))
		}
		var rev []string
		for _, id := range r.Reverted {
			rev = append(rev, strconv.FormatInt(id, 10))
		}
		holder := name(r.Account)
		if r.Account == nil && r.State != usermerge.ResolvedNotFound && r.State != usermerge.ResolvedDeleted {
			holder = "(outside your groups)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Ref, r.State, name(r.Named), holder, dash(strings.Join(via, " → ")), dash(strings.Join(rev, ", ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
