package main

import (
	"context"
	"flag"
	"io"

	"usermerge/bench"
)

var benchCmd = &command{
	name:    "bench",
	usage:   "bench [duplicates|batch|events] [--accounts N] [--rows N] [--signins N] [--merges N] [--checks N] [--cpuprofile FILE] [--memprofile FILE] [--force]",
	summary: "measure merges, reverts, the merge list and finding duplicates on generated data",
	help: `Generates, into a fresh database named by --db (an SQLite file, or a
PostgreSQL URL: the data goes into the schema its search_path names, else
usermerge_bench), a tenant with --accounts accounts and one heavy duplicate
pair whose source holds --signins sign-ins, 100,000 assessment attempts,
20,000 lecture-progress rows (half on lectures the target also has), 2,000
course enrolments, 1,000 badges (half shared), 10,000 financial records and
a few hundred of every other kind, and --merges merge records.

It then measures the preview, the merge and the revert of the heavy pair,
and on an identical copy of the data the bare baseline: one plain UPDATE per
kind moving the same records with no journal, policy or checks. It prints
seconds and rows per second per step, the ratios merge/bare and
revert/bare, the process's peak memory during the merge, and the median and
95th-percentile latency of merge-list searches by time range, source name
and target name (first page of 50). It checks the results as it goes: the
merge's counts, an exact revert, the list pages. --json writes the same as
JSON.

It refuses a database that already holds data, unless --force, which
deletes the file (or drops the schema). Loading 1,000,000 sign-ins and
1,000,000 merges takes a few minutes; a progress bar shows on a terminal.
See docs/performance.md for results.

"bench duplicates" measures finding duplicates instead: it generates
--accounts learner accounts with known truth (package match/synth: people
with 2 to 4 accounts corrupted by typos, OCR and phonetic errors, missing
and swapped values, nicknames, initials, transliterations, e-mail and login
variants, beside siblings, twins, namesakes and colleagues sharing an
address, who must not be matched), loads them with their profile
attributes, external IDs, sign-ins and groups into one tenant of a fresh
database (timed apart), then runs a full detection as the product does. It
prints the detection's time and peak memory, the pairs compared, the
blocking recall (true pairs sharing a blocking key), pairwise precision and
recall of the certain, certain and probable, and all suggestions, and the
latency of the one-account check on --checks existing accounts (p50, p95).
--signins and --merges do not apply.

"bench batch" measures a bulk merge instead: it generates --accounts
accounts (default 100,000) of which --rows duplicate pairs (default
10,000), each source holding a few hundred records spread over every kind
(the output says how many) and each target about half as many, some on the
same items; the batch names the accounts by id, login and external ID. It
measures the check and the dry run of the whole batch, its creation, its
run (merges per second, and the peak memory after 1,000 rows and at the
end, which must not grow with the batch), and on an identical copy of the
data a bare baseline that moves the same rows with one plain transaction
per row (an UPDATE per table, no checks, no journal); it prints
run/baseline and (check + dry run)/run. It checks that every row merged
once and that the baseline moved the same records.

"bench events" measures events and resolving instead: it loads a merge
tenant of --rows duplicate pairs (default 1,200, records as in "bench
batch") and a resolve tenant of --accounts accounts (default 1,000,000)
and --merges merges (default 1,000,000) consistent with them: chains of
two merges, reverted merges and deleted accounts. Against a local HTTP
receiver that checks every signature, it measures a merge with three
webhook endpoints against one with none (blocks of ten, alternating, the
delivery worker stopped), the worker's throughput on a backlog of
deliveries to ten endpoints (--workers at once, default the server's 8),
the time from a merge's commit to the receiver with the worker running,
and --samples resolve calls of --refs references each (default 50 of
1,000, after 10 untimed warm-up calls), every answer checked against the
generated truth.

Examples:
  usermerge --db /tmp/bench.db bench
  usermerge --db /tmp/bench.db bench --accounts 1000 --signins 10000 --merges 10000 --force
  usermerge --db 'postgres://postgres@127.0.0.1:5432/test?search_path=bench' bench --json
  usermerge --db /tmp/dup.db bench duplicates --accounts 300000
  usermerge --db 'postgres://postgres@127.0.0.1:5432/test?search_path=dupbench' bench duplicates --json
  usermerge --db /tmp/batch.db bench batch
  usermerge --db /tmp/batch.db bench batch --accounts 10000 --rows 1000 --force
  usermerge --db /tmp/events.db bench events
  usermerge --db 'postgres://postgres@127.0.0.1:5432/test?search_path=eventbench' bench events --json`,
	db:      noDB,
	maxArgs: 1,
	setup: func(fs *flag.FlagSet) runFunc {
		o := bench.Options{}
		fs.IntVar(&o.Accounts, "accounts", 100_000, "`N` accounts in the tenant")
		fs.IntVar(&o.SignIns, "signins", 1_000_000, "`N` sign-ins of the heavy source")
		fs.IntVar(&o.Merges, "merges", 1_000_000, "`N` merge records for the list measurements (0: none)")
		fs.IntVar(&o.Samples, "samples", 30, "`N` merge-list searches per filter")
		fs.Uint64Var(&o.Seed, "seed", 1, "generate the data from seed `N`")
		fs.BoolVar(&o.Force, "force", false, "delete a database that already holds data")
		fs.BoolVar(&o.Keep, "keep", false, "keep the bare baseline's copy (FILE.bare, or the schema SCHEMA_bare) for inspection")
		rows := fs.Int("rows", 10_000, "`N` rows (duplicate pairs) in the batch (bench batch)")
		refs := fs.Int("refs", 1_000, "`N` references per resolve call (bench events)")
		workers := fs.Int("workers", 0, "`N` deliveries sent at once (bench events; 0: the server's default)")
		checks := fs.Int("checks", 200, "`N` accounts checked one by one (bench duplicates)")
		cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE`: of the detection (bench duplicates), of the run and, to FILE.bare, the bare baseline (bench batch)")
		heapProfile := fs.String("memprofile", "", "write a heap profile of the detection at its largest heap to `FILE` (bench duplicates)")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 1 && args[0] == "events" {
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				e := bench.EventsOptions{DB: m.g.db, Force: o.Force, Merges: o.Merges, Refs: *refs, Workers: *workers, Seed: o.Seed}
				if set["accounts"] {
					e.Accounts = o.Accounts
				}
				if set["rows"] {
					e.Pairs = *rows
				}
				if set["samples"] {
					e.Samples = o.Samples
				}
				if m.isTerminal(m.Stderr) {
					e.Progress = m.Stderr
				}
				r, err := bench.RunEvents(ctx, e)
				if err != nil {
					return err
				}
				return m.emit(r, func(w io.Writer) error { return bench.WriteEventsText(w, r) })
			}
			if len(args) == 1 && args[0] == "batch" {
				b := bench.BatchOptions{DB: m.g.db, Force: o.Force, Accounts: o.Accounts, Rows: *rows, Seed: o.Seed, Keep: o.Keep, CPUProfile: *cpuProfile}
				if m.isTerminal(m.Stderr) {
					b.Progress = m.Stderr
				}
				r, err := bench.RunBatch(ctx, b)
				if err != nil {
					return err
				}
				return m.emit(r, func(w io.Writer) error { return bench.WriteBatchText(w, r) })
			}
			if len(args) == 1 {
				if args[0] != "duplicates" {
					return usageError("unknown benchmark %q; the benchmarks are: duplicates, batch, events (or none, for merges)", args[0])
				}
				// The generator's own clock, not the run's: --accounts and
				// --seed alone decide the data, so runs compare.
				d := bench.DuplicatesOptions{DB: m.g.db, Force: o.Force, Accounts: o.Accounts, Seed: o.Seed, Checks: *checks,
					CPUProfile: *cpuProfile, HeapProfile: *heapProfile}
				if m.isTerminal(m.Stderr) {
					d.Progress = m.Stderr
				}
				r, err := bench.RunDuplicates(ctx, d)
				if err != nil {
					return err
				}
				return m.emit(r, func(w io.Writer) error { return bench.WriteDuplicatesText(w, r) })
			}
			o.DB, o.Now = m.g.db, m.now()
			if o.Merges == 0 {
				o.Merges = -1 // none; bench.Options reads 0 as the default
			}
			if m.isTerminal(m.Stderr) {
				o.Progress = m.Stderr
			}
			r, err := bench.Run(ctx, o)
			if err != nil {
				return err
			}
			return m.emit(r, func(w io.Writer) error { return bench.WriteText(w, r) })
		}
	},
}
