package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
	"usermerge/match/synth"
	"usermerge/store"
)

// The duplicate-finding benchmark (`usermerge bench duplicates`,
// PRODUCT.md §11): generated learner accounts with known truth
// (match/synth) loaded into a fresh database, a full detection run as the
// product runs it, its quality against the truth, and the one-account
// check's latency.

// DuplicatesOptions configures a run. Zero values take the defaults.
type DuplicatesOptions struct {
	DB       string // SQLite file or PostgreSQL URL (its search_path names the schema)
	Force    bool   // delete a database that already holds data
	Accounts int    // generated accounts (default 100,000)
	Seed     uint64 // the same seed gives the same accounts (default 1)
	Checks   int    // accounts checked one by one for the check's latency (default 200)
	// Now is the generator's clock (default synth.DefaultNow, so that
	// Accounts and Seed alone decide the data).
	Now      time.Time
	Progress interface{ Write([]byte) (int, error) }
	// CPUProfile and HeapProfile, when not empty, are files the run writes
	// a CPU profile of the detection to, and a heap profile taken when the
	// detection's Go heap was at its largest (within a quarter).
	CPUProfile, HeapProfile string
}

// DuplicatesResult is what a run measured. Times are seconds unless named
// _ms.
type DuplicatesResult struct {
	Database string    `json:"database"` // sqlite or postgres
	Accounts int       `json:"accounts"`
	Seed     uint64    `json:"seed"`
	At       time.Time `json:"at"`
	// Generate is the generator's time; Load the bulk load's (neither is
	// part of the detection).
	Generate Step `json:"generate"`
	Load     Step `json:"load"`
	// Detection is the full run (engine.Detect): reading the tenant,
	// blocking, fitting, scoring, clustering, choosing the accounts to keep
	// and writing the queue.
	Detection Step `json:"detection"`
	// Memory during the detection (the generated records were let go
	// before it, so it is the detection's own).
	Memory Memory      `json:"memory"`
	Stats  match.Stats `json:"stats"`
	// Quality against the generator's truth.
	Quality synth.Evaluation `json:"quality"`
	// Traps and Corruptions are what the generator made.
	Traps       map[string]int `json:"traps"`
	Corruptions map[string]int `json:"corruptions"`
	Check       CheckStat      `json:"check"`
	// Run is the detection run as the engine answered it.
	Run usermerge.DetectionRun `json:"run"`
}

// CheckStat is the latency of engine.CheckAccount on existing accounts.
type CheckStat struct {
	Queries int     `json:"queries"`
	P50ms   float64 `json:"p50_ms"`
	P95ms   float64 `json:"p95_ms"`
	MaxMs   float64 `json:"max_ms"`
	// WithDuplicate: checked accounts that have a true duplicate; Found:
	// those whose answer names one of them.
	WithDuplicate int `json:"with_duplicate"`
	Found         int `json:"found"`
}

const dupTenant = "dupbench"

// RunDuplicates generates the accounts into a fresh database and measures.
func RunDuplicates(ctx context.Context, o DuplicatesOptions) (*DuplicatesResult, error) {
	if o.Accounts == 0 {
		o.Accounts = 100_000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Checks == 0 {
		o.Checks = 200
	}
	if o.Now.IsZero() {
		o.Now = time.Unix(synth.DefaultNow, 0)
	}
	if o.Accounts < 2 || o.Checks < 1 {
		return nil, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench duplicates: --accounts must be 2 or more and --checks 1 or more")
	}
	loc, err := parseLocation(o.DB)
	if err != nil {
		return nil, err
	}
	if err := loc.prepare(ctx, o.Force); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, loc.url)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", loc, err)
	}
	defer db.Close()
	bar := newBar(o.Progress)
	r := &DuplicatesResult{Database: db.Dialect(), Accounts: o.Accounts, Seed: o.Seed, At: time.Now().UTC()}

	bar.note("generating the accounts")
	start := time.Now()
	set := synth.Generate(synth.Config{Accounts: o.Accounts, Seed: o.Seed, Now: o.Now.Unix()})
	r.Generate = Step{Name: "generate", Seconds: time.Since(start).Seconds(), Rows: int64(len(set.Records))}
	r.Generate.RowsPerSecond = float64(r.Generate.Rows) / r.Generate.Seconds
	r.Traps, r.Corruptions = set.Traps, set.Corruptions

	if r.Load, err = loadSet(ctx, db, set, bar); err != nil {
		return nil, err
	}
	// What needs the records themselves, before they are let go: the
	// blocking recall, and the accounts to check (every n-th).
	rules := match.DefaultRules()
	bar.note("measuring the blocking recall")
	blocked := synth.BlockedTruePairs(set, rules)
	var checkIDs []string
	for i := 0; i < len(set.Records) && len(checkIDs) < o.Checks; i += max(1, len(set.Records)/o.Checks) {
		checkIDs = append(checkIDs, set.Records[i].ID)
	}
	set.Records = nil
	bar.note("")

	eng := engine.New(db, nil)
	c := engine.Caller{Tenant: dupTenant, Admin: adminID}
	stopCPU := func() error { return nil }
	if o.CPUProfile != "" {
		if stopCPU, err = startCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
	}
	mem := startMemory(o.HeapProfile)
	start = time.Now()
	bar.start("detecting", 0)
	run, err := eng.Detect(ctx, c, engine.DetectOptions{Full: true}, func(p usermerge.DetectionRun) {
		bar.total = p.Total
		bar.set(p.Phase, p.Done)
	})
	elapsed := time.Since(start)
	r.Memory = mem.stop()
	if perr := stopCPU(); perr != nil && err == nil {
		err = perr
	}
	if perr := mem.profileErr; perr != nil && err == nil {
		err = perr
	}
	bar.finish()
	if err != nil {
		return nil, fmt.Errorf("bench: detection: %w", err)
	}
	if run.Status != usermerge.RunDone {
		return nil, fmt.Errorf("bench: the detection run ended %s: %s", run.Status, run.Error)
	}
	r.Run, r.Stats = run, run.Stats
	r.Detection = Step{Name: "detection", Seconds: elapsed.Seconds(), Rows: run.Stats.PairsCompared,
		RowsPerSecond: float64(run.Stats.PairsCompared) / elapsed.Seconds()}

	suggestions, err := readSuggestions(ctx, db, run.ID)
	if err != nil {
		return nil, err
	}
	r.Quality = synth.Evaluate(set, match.Result{Suggestions: suggestions, Stats: run.Stats}, rules)
	r.Quality.BlockedTruePairs = blocked
	if r.Quality.TruePairs > 0 {
		r.Quality.BlockingRecall = float64(blocked) / float64(r.Quality.TruePairs)
	}

	bar.note("checking accounts one by one")
	if r.Check, err = measureChecks(ctx, eng, c, set, checkIDs); err != nil {
		return nil, err
	}
	bar.note("")
	return r, nil
}

// loadSet writes the tenant, its administrator and groups, then the
// accounts with their profile attributes, external IDs, sign-ins and
// memberships by the bulk path (store.DB.BulkInsert).
func loadSet(ctx context.Context, db *store.DB, set *synth.Set, bar *bar) (Step, error) {
	start := time.Now()
	groups := map[string]bool{}
	var extN, signN, memN int64
	for _, rec := range set.Records {
		for _, g := range rec.Groups {
			groups[g] = true
		}
		extN += int64(len(rec.ExternalIDs))
		signN += int64(len(rec.SignIns))
		memN += int64(len(rec.Groups))
	}
	err := db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: dupTenant, Name: "Duplicates Academy", Policy: policy}); err != nil {
			return err
		}
		if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: dupTenant, ID: adminID, Login: adminID, Name: "Bench Admin", Role: usermerge.TenantAdmin}, ""); err != nil {
			return err
		}
		ids := make([]string, 0, len(groups))
		for g := range groups {
			ids = append(ids, g)
		}
		slices.Sort(ids)
		for _, g := range ids {
			if err := tx.PutGroup(ctx, usermerge.Group{TenantID: dupTenant, ID: g, Name: "Group " + g}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Step{}, fmt.Errorf("bench: create tenant: %w", err)
	}
	recs := set.Records
	tables := []table{
		{name: "accounts", rows: int64(len(recs)),
			cols: []string{"tenant_id", "id", "login", "email", "name", "status", "created_at",
				"given_name", "family_name", "birth_date", "phone", "employee_number", "postcode"},
			gen: func(yield func([]any) bool) {
				row := make([]any, 13)
				for _, a := range recs {
					status := usermerge.Active
					if !a.Active {
						status = usermerge.Inactive
					}
					row[0], row[1], row[2], row[3], row[4], row[5], row[6] = dupTenant, a.ID, a.Login, a.Email, a.Name, string(status), a.Created*1000
					row[7], row[8], row[9], row[10], row[11], row[12] = a.Given, a.Family, a.BirthDate, a.Phone, a.EmployeeNumber, a.Postcode
					if !yield(row) {
						return
					}
				}
			}},
		{name: "external_ids", rows: extN, cols: []string{"tenant_id", "id", "account_id", "system", "value"},
			gen: func(yield func([]any) bool) {
				row := make([]any, 5)
				n := 0
				for _, a := range recs {
					for _, x := range a.ExternalIDs {
						n++
						row[0], row[1], row[2], row[3], row[4] = dupTenant, "x"+fmt.Sprint(n), a.ID, x.System, x.Value
						if !yield(row) {
							return
						}
					}
				}
			}},
		{name: "signins", rows: signN, cols: []string{"tenant_id", "id", "account_id", "at", "ip", "client"},
			gen: func(yield func([]any) bool) {
				row := make([]any, 6)
				n := 0
				for _, a := range recs {
					for j, s := range a.SignIns {
						n++
						// a time inside the key's period, so that the
						// engine reads the same period back
						at := (s.Period*synth.PeriodSeconds + int64(j*3600+n%3600)) * 1000
						row[0], row[1], row[2], row[3], row[4], row[5] = dupTenant, "s"+fmt.Sprint(n), a.ID, at, s.Address, s.Client
						if !yield(row) {
							return
						}
					}
				}
			}},
		{name: "memberships", rows: memN, cols: []string{"tenant_id", "account_id", "group_id"},
			gen: func(yield func([]any) bool) {
				row := make([]any, 3)
				for _, a := range recs {
					for _, g := range a.Groups {
						row[0], row[1], row[2] = dupTenant, a.ID, g
						if !yield(row) {
							return
						}
					}
				}
			}},
	}
	var total, done int64
	for _, t := range tables {
		total += t.rows
	}
	bar.start("loading", total)
	for _, t := range tables {
		n, err := db.BulkInsert(ctx, t.name, t.cols, t.gen, func(n int64) { bar.set(t.name, done+n) })
		if err != nil {
			return Step{}, err
		}
		if n != t.rows {
			return Step{}, fmt.Errorf("bench: %s: generated %d rows, want %d", t.name, n, t.rows)
		}
		done += n
	}
	bar.finish()
	names := []string{"tenants", "groups", "admins"}
	for _, t := range tables {
		names = append(names, t.name)
	}
	if err := settle(ctx, db, names); err != nil {
		return Step{}, err
	}
	s := time.Since(start).Seconds()
	return Step{Name: "load", Seconds: s, Rows: done, RowsPerSecond: float64(done) / s}, nil
}

// readSuggestions reads every suggestion run id stored (the grade and the
// accounts are all the evaluation needs).
func readSuggestions(ctx context.Context, db *store.DB, run int64) ([]match.Suggestion, error) {
	var out []match.Suggestion
	err := db.View(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT grade, accounts FROM duplicate_suggestions WHERE tenant_id = ? AND run_id = ?`, dupTenant, run)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var grade, accounts string
			if err := rows.Scan(&grade, &accounts); err != nil {
				return err
			}
			s := match.Suggestion{Grade: match.Grade(grade)}
			if err := json.Unmarshal([]byte(accounts), &s.Accounts); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("bench: read the suggestions: %w", err)
	}
	return out, nil
}

// measureChecks checks ids one by one (engine.CheckAccount, as a platform
// calls it) and answers the latency and how often a true duplicate was
// among the answers.
func measureChecks(ctx context.Context, eng *engine.Engine, c engine.Caller, set *synth.Set, ids []string) (CheckStat, error) {
	var st CheckStat
	var times []time.Duration
	for _, id := range ids {
		start := time.Now()
		cands, err := eng.CheckAccount(ctx, c, id, usermerge.Account{})
		times = append(times, time.Since(start))
		if err != nil {
			return st, fmt.Errorf("bench: check %s: %w", id, err)
		}
		if hasDuplicate(set, id) {
			st.WithDuplicate++
			for _, x := range cands {
				if set.SamePerson(id, x.Account.ID) {
					st.Found++
					break
				}
			}
		}
	}
	slices.Sort(times)
	st.Queries = len(times)
	if len(times) > 0 {
		st.P50ms, st.P95ms, st.MaxMs = ms(percentile(times, 50)), ms(percentile(times, 95)), ms(times[len(times)-1])
	}
	return st, nil
}

func hasDuplicate(set *synth.Set, id string) bool {
	p, ok := set.Person(id)
	return ok && set.PersonAccounts(p) > 1
}
