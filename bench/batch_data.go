package bench

import (
	"strconv"

	"usermerge"
)

// The batch bench's data: a tenant of Accounts accounts of which Rows
// duplicate pairs (a target and an older source account of one person),
// each source with a few hundred records of every kind and each target
// with about half as many, some on the same items (so a merge combines and
// retires as well as moves); the other accounts hold a small history. The
// records of all accounts are interleaved in the tables, as they fill up
// over time, so that one account's records are not stored together.

// batchVolumes: records per source, per target, and items both hold.
var batchVolumes = map[usermerge.Kind]volume{
	usermerge.KindSignIns:      {120, 60, 0},
	usermerge.KindAttempts:     {60, 30, 0}, // 3 attempts on each of 20 contents; the target's on 10, 5 of them shared
	usermerge.KindLectures:     {40, 30, 10},
	usermerge.KindCourses:      {15, 10, 5},
	usermerge.KindBadges:       {10, 6, 3},
	usermerge.KindFinancial:    {20, 10, 0},
	usermerge.KindPaths:        {8, 6, 3},
	usermerge.KindQuizSessions: {6, 4, 2},
	usermerge.KindMasterStates: {6, 4, 2},
	usermerge.KindPolls:        {6, 4, 2},
	usermerge.KindEvents:       {6, 4, 2},
	usermerge.KindCredits:      {5, 3, 0},
	usermerge.KindCertificates: {4, 2, 0},
	usermerge.KindExternalIDs:  {1, 1, 0},
	usermerge.KindMemberships:  {3, 2, 1},
	usermerge.KindAccountJobs:  {2, 1, 1},
}

// bgBatchSignIns: sign-ins of each background account.
const bgBatchSignIns = 3

// recordsPerSource is the records one source holds, every kind.
func recordsPerSource() (src, tgt int) {
	for _, v := range batchVolumes {
		src += v.source
		tgt += v.target
	}
	return src, tgt
}

type batchDataset struct {
	*dataset
	rows int
}

func batchTarget(i int) string { return "t" + pad(int64(i), 6) }
func batchSource(i int) string { return "s" + pad(int64(i), 6) }

// owner is the account of slot j of the interleaving: the pairs' targets
// and sources, then the background accounts.
func (d *batchDataset) bgCount() int { return d.o.Accounts - 2*d.rows }

// interleave yields, for record number k = 0, 1, ..., every account's k-th
// record where it has one: targets (nT each), sources (nS), background
// accounts (nB).
func (d *batchDataset) interleave(nS, nT, nB int, yield func(owner string, role, k int) bool) {
	for k := 0; k < max(nS, nT, nB); k++ {
		for i := range d.rows {
			if k < nT && !yield(batchTarget(i), 1, k) {
				return
			}
			if k < nS && !yield(batchSource(i), 0, k) {
				return
			}
		}
		if k < nB {
			for i := range d.bgCount() {
				if !yield(bgAccount(i), 2, k) {
					return
				}
			}
		}
	}
}

func (d *batchDataset) tables() []table {
	ts := []table{d.accounts(), d.orgTable(usermerge.KindMemberships, "group_id", "g"), d.orgTable(usermerge.KindAccountJobs, "job_id", "j"),
		d.signins(), d.attempts()}
	for i, it := range itemTables() {
		ts = append(ts, d.items(it, uint64(20+i)))
	}
	return ts
}

// login of pair i's target; the source's is the same with ".old".
func (d *batchDataset) login(i int) (login, name string) {
	g, s := d.person(d.bgCount() + i)
	return g + "." + s + "." + strconv.Itoa(i), g + " " + s
}

func (d *batchDataset) accounts() table {
	cols := []string{"tenant_id", "id", "login", "email", "name", "status", "created_at"}
	return table{name: "accounts", cols: cols, rows: int64(d.o.Accounts), gen: func(yield func([]any) bool) {
		created := d.now - d.span - 1000
		for i := range d.rows {
			login, name := d.login(i)
			if !yield([]any{tenantID, batchTarget(i), login, login + "@example.org", name, "active", created + int64(i)}) {
				return
			}
			if !yield([]any{tenantID, batchSource(i), login + ".old", login + ".old@example.net", name, "active", created + int64(i)}) {
				return
			}
		}
		for i := range d.bgCount() {
			g, s := d.person(i)
			login := g + "." + s + strconv.Itoa(i)
			if !yield([]any{tenantID, bgAccount(i), login, login + "@example.org", g + " " + s, "active", created + int64(i)}) {
				return
			}
		}
	}}
}

// orgTable: group memberships and jobs, which stay with the source.
func (d *batchDataset) orgTable(k usermerge.Kind, col, prefix string) table {
	v := batchVolumes[k]
	cols := []string{"tenant_id", "account_id", col}
	return table{name: k.Spec().Table, cols: cols, rows: int64(d.rows * (v.source + v.target)), gen: func(yield func([]any) bool) {
		d.interleave(v.source, v.target, 0, func(owner string, role, k int) bool {
			item := k
			if role == 1 {
				item = v.source - v.shared + k
			}
			return yield([]any{tenantID, owner, prefix + pad(int64(item%groupCount), 3)})
		})
	}}
}

func (d *batchDataset) at(role, k, n int) int64 {
	start, span := d.now-d.span, d.span
	if role == 1 { // the target is the newer account
		start, span = d.now-d.span/2, d.span/2
	}
	return start + int64((float64(k)+0.5)*float64(span)/float64(max(n, 1)))
}

func (d *batchDataset) signins() table {
	v := batchVolumes[usermerge.KindSignIns]
	cols := []string{"tenant_id", "id", "account_id", "at", "ip", "client"}
	clients := []string{"web", "ios", "android", "lti"}
	return table{name: "signins", cols: cols, rows: int64(d.rows*(v.source+v.target) + d.bgCount()*bgBatchSignIns), gen: func(yield func([]any) bool) {
		var n int64
		d.interleave(v.source, v.target, bgBatchSignIns, func(owner string, role, k int) bool {
			n++
			nk := []int{v.source, v.target, bgBatchSignIns}[role]
			return yield([]any{tenantID, pad(n, 10), owner, d.at(role, k, nk), "10.1." + strconv.Itoa(k%250) + ".7", clients[k%4]})
		})
	}}
}

func (d *batchDataset) attempts() table {
	v := batchVolumes[usermerge.KindAttempts]
	const contents = 20 // 3 attempts each
	cols := []string{"tenant_id", "id", "account_id", "content_id", "content_type", "attempt_no", "score", "max_score",
		"passed", "started_at", "finished_at"}
	r := d.rng(21)
	return table{name: "attempts", cols: cols, rows: int64(d.rows * (v.source + v.target)), gen: func(yield func([]any) bool) {
		var n int64
		d.interleave(v.source, v.target, 0, func(owner string, role, k int) bool {
			n++
			content, no := k%contents, k/contents+1
			nk := v.source
			if role == 1 { // 10 contents, 5 of them the source's last
				content, no, nk = contents-5+k%10, k/10+1, v.target
			}
			at := d.at(role, k, nk)
			score := float64(r.IntN(101))
			return yield([]any{tenantID, pad(n, 10), owner, "c" + pad(int64(content), 5), "quiz", int64(no), score, 100.0, b2i(score >= 60), at, at + 600_000})
		})
	}}
}

// items generates one record table of itemTables: item numbers as the
// heavy bench's (the source holds 0..source-1, the target
// source-shared..), references, numbers and external ID values unique
// by the record's number.
func (d *batchDataset) items(it itemTable, stream uint64) table {
	v := batchVolumes[it.kind]
	spec := it.kind.Spec()
	cols := []string{"tenant_id", "id", "account_id"}
	for _, f := range spec.Fields {
		cols = append(cols, f.Name)
	}
	r := d.rng(stream)
	return table{name: spec.Table, cols: cols, rows: int64(d.rows * (v.source + v.target)), gen: func(yield func([]any) bool) {
		var n int64
		d.interleave(v.source, v.target, 0, func(owner string, role, k int) bool {
			n++
			item, nk := int64(k), v.source
			if role == 1 {
				item, nk = int64(v.source-v.shared+k), v.target
			}
			at := d.at(role, k, nk)
			row := []any{tenantID, pad(n, 10), owner}
			switch {
			case it.kind == usermerge.KindExternalIDs:
				sys := "sso"
				if role == 1 {
					sys = "hr"
				}
				row = append(row, sys, owner+"-"+strconv.FormatInt(item, 10))
			case it.prefix != "":
				row = append(row, it.prefix+pad(item, 6))
				row = append(row, it.values(r, item, at)...)
			default:
				row = append(row, it.values(r, n, at)...)
			}
			return yield(row)
		})
	}}
}

// batchRows are the batch: one row per pair, the accounts named the three
// ways an administrator's file does: by id, by login, or the target by
// its external ID (hr:...) and the source by login.
func (d *batchDataset) batchRows(from, n int) []usermerge.BatchRow {
	move := true
	rows := make([]usermerge.BatchRow, 0, n)
	for i := from; i < from+n; i++ {
		login, _ := d.login(i)
		row := usermerge.BatchRow{Line: len(rows) + 2, MoveExternalIDs: &move, Reason: "SSO migration duplicates"}
		switch i % 3 {
		case 0:
			row.Target, row.Sources = batchTarget(i), []string{batchSource(i)}
		case 1:
			row.Target, row.Sources = login, []string{login + ".old"}
		default:
			row.Target, row.Sources = "hr:"+batchTarget(i)+"-"+strconv.Itoa(batchVolumes[usermerge.KindExternalIDs].source-batchVolumes[usermerge.KindExternalIDs].shared), []string{login + ".old"}
		}
		rows = append(rows, row)
	}
	return rows
}
