package bench

import (
	"encoding/json"
	"iter"
	"math/rand/v2"
	"strconv"
	"time"

	"usermerge"
)

// The generated tenant. Its policy applies every rule (badges, credits and
// certificates transfer; the heavy merge moves external IDs), so the heavy
// merge exercises every kind.
const (
	tenantID = "bench"
	adminID  = "admin"
	targetID = "heavy-target"
	sourceID = "heavy-source"
)

var policy = usermerge.Policy{MergeEnabled: true, RevertAllowed: true, Badges: usermerge.BadgesTransfer,
	Credits: usermerge.CreditsTransfer, Certificates: usermerge.CertificatesTransfer, MoveExternalIDs: true}

// Volumes of the heavy pair besides sign-ins (the numbers). For
// each kind: how many records the source holds, how many the target holds,
// and for the kinds with one record per item how many items both hold.
type volume struct {
	source, target, shared int
}

var volumes = map[usermerge.Kind]volume{
	usermerge.KindAttempts:     {100_000, 1_000, 0}, // 50 attempts on each of 2,000 contents; see attempts()
	usermerge.KindLectures:     {20_000, 15_000, 10_000},
	usermerge.KindCourses:      {2_000, 1_500, 1_000},
	usermerge.KindBadges:       {1_000, 600, 500},
	usermerge.KindFinancial:    {10_000, 1_000, 0},
	usermerge.KindPaths:        {300, 200, 150},
	usermerge.KindQuizSessions: {300, 200, 150},
	usermerge.KindMasterStates: {300, 200, 150},
	usermerge.KindPolls:        {300, 200, 150},
	usermerge.KindEvents:       {300, 200, 150},
	usermerge.KindCredits:      {300, 100, 0},
	usermerge.KindCertificates: {300, 100, 0},
	usermerge.KindExternalIDs:  {300, 100, 0},
	usermerge.KindMemberships:  {300, 100, 100},
	usermerge.KindAccountJobs:  {300, 100, 100},
}

const (
	attemptsPerContent = 50  // the source's attempts per content
	targetContents     = 200 // the target's contents, half of them shared
	groupCount         = 300
	// background accounts (all but the heavy pair) hold a small history
	// each, so the tables are not the heavy pair's alone: bgSignIns
	// sign-ins, an attempt, a course enrolment, an external ID and a group
	bgSignIns = 5
	// counted kinds stored per generated merge record (a real merge stores
	// all sixteen; lookups are by primary key, so the table's size matters
	// only through the depth of its index)
	countsPerMerge = 3
)

// table is one generated table: its columns and its rows in load order.
type table struct {
	name string
	cols []string
	rows int64 // how many rows gen yields
	gen  iter.Seq[[]any]
}

// dataset generates the whole database for Options; the same Options give
// the same rows.
type dataset struct {
	o       Options
	now     int64 // ms; every generated time is before it
	span    int64 // ms of history
	bg      int   // background accounts
	surname []string
}

func newDataset(o Options) *dataset {
	d := &dataset{o: o, now: o.Now.UnixMilli(), span: (3 * 365 * 24 * time.Hour).Milliseconds(), bg: o.Accounts - 2}
	d.surname = surnames()
	return d
}

func (d *dataset) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(d.o.Seed, stream))
}

// bgAccount is the id of background account i (0-based).
func bgAccount(i int) string { return "u" + pad(int64(i), 7) }

func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// given names and synthetic surnames: 2,197 surnames, so that a search for
// one matches a few dozen accounts among 100,000, as a person's name does.
var givenNames = []string{"maria", "john", "aiko", "lucas", "fatima", "noah", "elena", "kenji", "sofia", "omar",
	"hana", "david", "chloe", "ivan", "amara", "li", "marta", "yusuf", "grace", "pablo", "nina", "tomas", "sara", "ravi"}

func surnames() []string {
	syl := []string{"ka", "lo", "mi", "ren", "do", "sa", "vel", "tu", "bri", "gan", "or", "pe", "zu"}
	var out []string
	for _, a := range syl {
		for _, b := range syl {
			for _, c := range syl {
				out = append(out, a+b+c)
			}
		}
	}
	return out
}

// person is the name of background account i.
func (d *dataset) person(i int) (given, surname string) {
	h := uint64(i)*0x9E3779B97F4A7C15 ^ d.o.Seed
	return givenNames[h%uint64(len(givenNames))], d.surname[(h>>16)%uint64(len(d.surname))]
}

// tables lists every table in load order (parents before children).
func (d *dataset) tables() []table {
	ts := []table{d.accounts(), d.memberships(), d.accountJobs(), d.signins(), d.attempts()}
	ts = append(ts, d.recordTables()...)
	if d.o.Merges > 0 {
		ts = append(ts, d.merges(), d.mergeCounts())
	}
	return ts
}

func (d *dataset) accounts() table {
	cols := []string{"tenant_id", "id", "login", "email", "name", "status", "created_at"}
	return table{name: "accounts", cols: cols, rows: int64(d.o.Accounts), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		created := d.now - d.span - 1000
		for _, id := range []string{targetID, sourceID} {
			login := "heavy.learner"
			if id == sourceID {
				login = "heavy.learner.old"
			}
			if !yield([]any{tenantID, id, login, login + "@example.org", "Heavy Learner", "active", created}) {
				return
			}
		}
		for i := range d.bg {
			g, s := d.person(i)
			login := g + "." + s + strconv.Itoa(i)
			row[0], row[1], row[2], row[3], row[4], row[5], row[6] = tenantID, bgAccount(i), login, login+"@example.org",
				g+" "+s, "active", created+int64(i)
			if !yield(row) {
				return
			}
		}
	}}
}

func (d *dataset) memberships() table {
	v := volumes[usermerge.KindMemberships]
	cols := []string{"tenant_id", "account_id", "group_id"}
	return table{name: "memberships", cols: cols, rows: int64(v.source + v.target + d.bg), gen: func(yield func([]any) bool) {
		for i := range v.target {
			if !yield([]any{tenantID, targetID, "g" + pad(int64(i), 3)}) {
				return
			}
		}
		for i := range v.source {
			if !yield([]any{tenantID, sourceID, "g" + pad(int64(i), 3)}) {
				return
			}
		}
		for i := range d.bg {
			if !yield([]any{tenantID, bgAccount(i), "g" + pad(int64(i%groupCount), 3)}) {
				return
			}
		}
	}}
}

func (d *dataset) accountJobs() table {
	v := volumes[usermerge.KindAccountJobs]
	cols := []string{"tenant_id", "account_id", "job_id"}
	return table{name: "account_jobs", cols: cols, rows: int64(v.source + v.target), gen: func(yield func([]any) bool) {
		for i := range v.target {
			if !yield([]any{tenantID, targetID, "j" + pad(int64(i), 3)}) {
				return
			}
		}
		for i := range v.source {
			if !yield([]any{tenantID, sourceID, "j" + pad(int64(i), 3)}) {
				return
			}
		}
	}}
}

// timeline interleaves the records of the source, the target and the
// background accounts in time order, as an access log fills up: the heavy
// source's records are spread over the table, not stored together. It
// yields (owner, the owner's record number, time); a background owner is
// bgAccount(k % bg).
func (d *dataset) timeline(nSource, nTarget, nBg int) iter.Seq2[string, [2]int64] {
	return func(yield func(string, [2]int64) bool) {
		counts := [3]int{nSource, nTarget, nBg}
		var next [3]int
		at := func(s, k int) int64 { // evenly over the span, the target's newer
			start, span := d.now-d.span, d.span
			if s == 1 {
				start, span = d.now-d.span/2, d.span/2
			}
			return start + int64((float64(k)+0.5)*float64(span)/float64(counts[s]))
		}
		for {
			best := -1
			var bt int64
			for s := range 3 {
				if next[s] < counts[s] {
					if t := at(s, next[s]); best < 0 || t < bt {
						best, bt = s, t
					}
				}
			}
			if best < 0 {
				return
			}
			k := next[best]
			next[best]++
			owner := sourceID
			switch best {
			case 1:
				owner = targetID
			case 2:
				owner = bgAccount(k % d.bg)
			}
			if !yield(owner, [2]int64{int64(k), bt}) {
				return
			}
		}
	}
}

func (d *dataset) signins() table {
	cols := []string{"tenant_id", "id", "account_id", "at", "ip", "client"}
	nT, nB := d.o.SignIns/10, bgSignIns*d.bg
	clients := []string{"web", "ios", "android", "lti"}
	return table{name: "signins", cols: cols, rows: int64(d.o.SignIns + nT + nB), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		var n int64
		for owner, kt := range d.timeline(d.o.SignIns, nT, nB) {
			n++
			k := kt[0]
			row[0], row[1], row[2], row[3] = tenantID, pad(n, 10), owner, kt[1]
			row[4], row[5] = "10."+strconv.Itoa(int(k%200))+"."+strconv.Itoa(int(k/200%250))+".7", clients[k%4]
			if !yield(row) {
				return
			}
		}
	}}
}

// attempts: the source has attemptsPerContent attempts on each of its
// contents, numbered in time order; the target has five on each of
// targetContents contents, half of them the source's last ones, at times
// interleaved with the source's, so the merge renumbers the attempts of the
// shared contents.
func (d *dataset) attempts() table {
	v := volumes[usermerge.KindAttempts]
	contents := v.source / attemptsPerContent
	cols := []string{"tenant_id", "id", "account_id", "content_id", "content_type", "attempt_no", "score", "max_score",
		"passed", "started_at", "finished_at"}
	r := d.rng(2)
	return table{name: "attempts", cols: cols, rows: int64(v.source + v.target + d.bg), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		var n int64
		for owner, kt := range d.timeline(v.source, v.target, d.bg) {
			n++
			k := kt[0]
			var content, no int64
			switch owner {
			case sourceID:
				content, no = k%int64(contents), k/int64(contents)+1
			case targetID:
				content, no = int64(contents-targetContents/2)+k%targetContents, k/targetContents+1
			default:
				content, no = int64(r.IntN(contents*2)), 1
			}
			score := float64(r.IntN(101))
			row[0], row[1], row[2], row[3], row[4], row[5] = tenantID, pad(n, 10), owner, "c"+pad(content, 5), "quiz", no
			row[6], row[7], row[8], row[9], row[10] = score, 100.0, b2i(score >= 60), kt[1], kt[1]+600_000
			if !yield(row) {
				return
			}
		}
	}}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// itemTable describes how to generate a record table of the heavy pair: the
// prefix of its item keys (for kinds with one record per item) and the
// values of the other fields, in the descriptor's field order; the table and
// its columns come from the kind's descriptor.
type itemTable struct {
	kind   usermerge.Kind
	prefix string // of item keys
	values func(r *rand.Rand, item int64, at int64) []any
}

func (d *dataset) recordTables() []table {
	var out []table
	for i, it := range itemTables() {
		out = append(out, d.itemRows(it, uint64(10+i)))
	}
	return out
}

// itemTables lists the record tables besides sign-ins and attempts, with
// how their values are made (the batch bench makes its data with them too).
func itemTables() []itemTable {
	statuses := []string{"enrolled", "in_progress", "completed"}
	progress := func(r *rand.Rand, item, at int64) []any {
		st := statuses[r.IntN(3)]
		var done any
		pct := int64(r.IntN(100))
		if st == "completed" {
			done, pct = at+int64(r.IntN(1_000_000_000)), 100
		}
		return []any{st, pct, at, done}
	}
	items := []itemTable{
		{usermerge.KindLectures, "l",
			func(r *rand.Rand, item, at int64) []any { return []any{"c" + pad(item/10, 5), int64(r.IntN(101)), at} }},
		{usermerge.KindCourses, "k", progress},
		{usermerge.KindBadges, "b",
			func(r *rand.Rand, item, at int64) []any { return []any{at} }},
		{usermerge.KindFinancial, "",
			func(r *rand.Rand, item, at int64) []any {
				return []any{[]string{"order", "payment", "refund", "invoice"}[item%4], int64(r.IntN(50_000)), "EUR", "ref-" + strconv.FormatInt(item, 10), at}
			}},
		{usermerge.KindPaths, "p", progress},
		{usermerge.KindQuizSessions, "q",
			func(r *rand.Rand, item, at int64) []any { return []any{`{"1":"b","2":"d"}`, at, nil} }},
		{usermerge.KindMasterStates, "q",
			func(r *rand.Rand, item, at int64) []any { return []any{`{"mastered":12}`, at} }},
		{usermerge.KindPolls, "o",
			func(r *rand.Rand, item, at int64) []any { return []any{[]string{"yes", "no", "maybe"}[r.IntN(3)], at} }},
		{usermerge.KindEvents, "e",
			func(r *rand.Rand, item, at int64) []any { return []any{at, int64(r.IntN(2))} }},
		{usermerge.KindCredits, "",
			func(r *rand.Rand, item, at int64) []any { return []any{int64(10 + r.IntN(90)), "course completed", at} }},
		{usermerge.KindCertificates, "",
			func(r *rand.Rand, item, at int64) []any {
				return []any{"course", "k" + pad(item, 5), "CERT-" + pad(item, 6), at}
			}},
		{usermerge.KindExternalIDs, "", nil},
	}
	return items
}

// itemRows generates one record table: the target's records, then the
// source's, then (for external IDs and course progress) one per background
// account. Item numbers: the source holds 0..source-1, the target
// source-shared..source-shared+target-1, so `shared` items are held by
// both. Kinds without items number their records the same way, which
// gives unique references, certificate numbers and external ID values.
func (d *dataset) itemRows(it itemTable, stream uint64) table {
	v := volumes[it.kind]
	bg := 0
	if it.kind == usermerge.KindExternalIDs || it.kind == usermerge.KindCourses {
		bg = d.bg
	}
	spec := it.kind.Spec()
	cols := []string{"tenant_id", "id", "account_id"}
	for _, f := range spec.Fields {
		cols = append(cols, f.Name)
	}
	r := d.rng(stream)
	return table{name: spec.Table, cols: cols, rows: int64(v.source + v.target + bg), gen: func(yield func([]any) bool) {
		var n int64
		emit := func(owner string, item int64, at int64) bool {
			n++
			row := []any{tenantID, pad(n, 9), owner}
			switch {
			case it.kind == usermerge.KindExternalIDs:
				row = append(row, "sso", owner+"-"+strconv.FormatInt(item, 10))
			case it.prefix != "":
				row = append(row, it.prefix+pad(item, 6))
				row = append(row, it.values(r, item, at)...)
			default:
				row = append(row, it.values(r, item, at)...)
			}
			return yield(row)
		}
		first := int64(v.source - v.shared)
		for k := range v.target {
			if !emit(targetID, first+int64(k), d.now-d.span/2+int64(r.IntN(int(d.span/2)))) {
				return
			}
		}
		for k := range v.source {
			if !emit(sourceID, int64(k), d.now-d.span+int64(r.IntN(int(d.span)))) {
				return
			}
		}
		for k := range bg {
			if !emit(bgAccount(k), int64(100_000+r.IntN(5_000)), d.now-d.span+int64(r.IntN(int(d.span)))) {
				return
			}
		}
	}}
}

// merges generates the merge list: Merges records among the background
// accounts (never the heavy pair), spread evenly over the span, most of
// them reverted so the sources may be merged again, a few with their target
// deleted (hidden from the default list).
func (d *dataset) merges() table {
	cols := []string{"tenant_id", "id", "operation_id", "source_id", "target_id", "by_admin", "reason", "at",
		"move_external_ids", "policy", "state", "source_prev_status", "reverted_at", "reverted_by"}
	pol, _ := json.Marshal(policy)
	r := d.rng(3)
	return table{name: "merges", cols: cols, rows: int64(d.o.Merges), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		for i := range d.o.Merges {
			id := int64(i + 1)
			at := d.now - d.span + int64((float64(i)+0.5)*float64(d.span)/float64(d.o.Merges))
			s := r.IntN(d.bg)
			t := (s + 1 + r.IntN(d.bg-1)) % d.bg
			state, revAt, revBy := "reverted", any(at+3_600_000), any(adminID)
			switch x := r.IntN(100); {
			case x < 20:
				state, revAt, revBy = "active", nil, nil
			case x < 21:
				state, revAt, revBy = "target_deleted", nil, nil
			}
			row[0], row[1], row[2], row[3], row[4], row[5], row[6] = tenantID, id, id, bgAccount(s), bgAccount(t), adminID, ""
			row[7], row[8], row[9], row[10], row[11], row[12], row[13] = at, int64(1), string(pol), state, "active", revAt, revBy
			if !yield(row) {
				return
			}
		}
	}}
}

func (d *dataset) mergeCounts() table {
	cols := []string{"tenant_id", "merge_id", "kind", "moved", "combined", "retired", "left_", "changed"}
	kinds := []usermerge.Kind{usermerge.KindSignIns, usermerge.KindAttempts, usermerge.KindCourses}
	r := d.rng(4)
	return table{name: "merge_counts", cols: cols, rows: int64(d.o.Merges * countsPerMerge), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		for i := range d.o.Merges {
			for _, k := range kinds {
				row[0], row[1], row[2], row[3] = tenantID, int64(i+1), string(k), int64(r.IntN(200))
				row[4], row[5], row[6], row[7] = int64(0), int64(0), int64(0), int64(0)
				if k == usermerge.KindCourses {
					row[4], row[5] = int64(r.IntN(3)), int64(r.IntN(3))
				}
				if !yield(row) {
					return
				}
			}
		}
	}}
}

// expected is what the heavy merge must do per kind, derived from the
// volumes; the benchmark checks the merge against it.
func (d *dataset) expected() map[usermerge.Kind]usermerge.Counts {
	out := map[usermerge.Kind]usermerge.Counts{}
	for _, k := range usermerge.Kinds {
		v := volumes[k]
		switch k {
		case usermerge.KindSignIns:
			out[k] = usermerge.Counts{Moved: int64(d.o.SignIns)}
		case usermerge.KindMemberships, usermerge.KindAccountJobs:
			out[k] = usermerge.Counts{Left: int64(v.source)}
		case usermerge.KindAttempts:
			out[k] = usermerge.Counts{Moved: int64(v.source), Changed: -1} // renumbered: checked for > 0
		case usermerge.KindLectures, usermerge.KindCourses, usermerge.KindBadges, usermerge.KindPaths, usermerge.KindEvents:
			out[k] = usermerge.Counts{Moved: int64(v.source - v.shared), Combined: int64(v.shared), Retired: int64(v.shared)}
		case usermerge.KindQuizSessions, usermerge.KindMasterStates, usermerge.KindPolls:
			// the source's record also moves where it is the newer of a pair
			out[k] = usermerge.Counts{Moved: -1, Combined: int64(v.shared), Retired: int64(v.shared)}
		default:
			out[k] = usermerge.Counts{Moved: int64(v.source)}
		}
	}
	return out
}
