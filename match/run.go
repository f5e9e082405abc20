package match

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Finder finds duplicates among records added to it. It is not safe for
// concurrent use; Add every record, then Run once.
type Finder struct {
	rules Rules
	mask  [nFields]bool
	in    *interner
	recs  []rec
	// Each record's blocking keys (hashed), flat: record i's are
	// keys[koff[i]:koff[i+1]]; secs are the kinds of their secondary
	// keys until the blocks are built.
	keys []uint64
	secs []uint8
	koff []uint32
	kw   keyWriter

	// unsorted is set when a record was added out of ascending id
	// order; index then answers an id's record (built when first needed).
	unsorted bool
	index    map[string]uint32

	dismissed   map[[2]string]struct{}
	focus       map[string]bool
	focusParams *Params
	pairs       []Pair
}

// NewFinder returns a finder that applies rules. A MaxBlock of 0 or less is
// DefaultRules' MaxBlock, and thresholds that fail Validate are
// DefaultRules' (a possible threshold of 0 would keep every compared pair).
func NewFinder(rules Rules) *Finder {
	def := DefaultRules()
	if rules.MaxBlock <= 0 {
		rules.MaxBlock = def.MaxBlock
	}
	if rules.Validate() != nil {
		rules.Certain, rules.Probable, rules.Possible = def.Certain, def.Probable, def.Possible
	}
	return &Finder{rules: rules, mask: fieldMask(&rules), in: newInterner(), koff: []uint32{0}}
}

// Grow makes room for n more records, so that a run that knows how many
// it will add (the engine counts a tenant's live accounts first) does not
// copy its records array as it grows: at a million records each copy is a
// quarter of a gigabyte, and the copies are garbage the collector must
// reclaim. A wrong n costs nothing but room: Add grows past it.
func (f *Finder) Grow(n int) {
	if n <= 0 {
		return
	}
	f.recs = slices.Grow(f.recs, n)
	f.koff = slices.Grow(f.koff, n)
}

// Add adds one record.
func (f *Finder) Add(r Record) {
	c := prepare(&r, &f.rules, f.in)
	f.addKeys(&r, &c)
	if n := len(f.recs); n > 0 && c.id <= f.recs[n-1].id {
		f.unsorted = true
	}
	f.recs = append(f.recs, c)
}

// lookup answers the index of the record added with id: by binary search
// when the records came in id order (as the engine reads them), else from
// an index of every id.
func (f *Finder) lookup(id string) (uint32, bool) {
	if !f.unsorted {
		i, ok := slices.BinarySearchFunc(f.recs, id, func(r rec, id string) int { return strings.Compare(r.id, id) })
		return uint32(i), ok
	}
	if f.index == nil {
		f.index = make(map[string]uint32, len(f.recs))
		for i := range f.recs {
			f.index[f.recs[i].id] = uint32(i)
		}
	}
	i, ok := f.index[id]
	return i, ok
}

// Live is what ChooseKeeps learns of an account after a run: its count of
// learning records, which a run does not read for every account, and
// whether it may not be a source now.
type Live struct {
	Records   int64
	NotSource bool
}

// ChooseKeeps chooses again the account to keep of each suggestion in
// list, by the rules Cluster chose it with, from the records added and
// what live answers of each account: its Live facts, or false for one
// merged away or deleted since it was added, which is left out of the
// choice. A suggestion that holds an account that may not be a source, or
// fewer than two accounts both added and live, keeps its choice. The kept
// account goes first in Accounts, the others stay in their order.
func (f *Finder) ChooseKeeps(list []Suggestion, live func(id string) (Live, bool)) {
	for i := range list {
		s := &list[i]
		var fs []keepFacts
		guarded := false
		for _, id := range s.Accounts {
			x, ok := f.lookup(id)
			if !ok {
				continue
			}
			l, ok := live(id)
			if !ok {
				continue
			}
			k := recFacts(&f.recs[x])
			k.records, k.notSource = l.Records, l.NotSource
			guarded = guarded || k.notSource
			fs = append(fs, k)
		}
		if guarded || len(fs) < 2 {
			continue
		}
		keep, reason := chooseKeep(fs)
		s.Keep, s.KeepReason = keep, reason
		accounts := append(make([]string, 0, len(s.Accounts)), keep)
		for _, id := range s.Accounts {
			if id != keep {
				accounts = append(accounts, id)
			}
		}
		s.Accounts = accounts
	}
}

// Dismiss tells the finder that accounts a and b are not the same person
// (an administrator said so): the pair is never linked, directly or through
// a cluster.
func (f *Finder) Dismiss(a, b string) {
	if f.dismissed == nil {
		f.dismissed = map[[2]string]struct{}{}
	}
	f.dismissed[pairKey(a, b)] = struct{}{}
}

func pairKey(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Focus limits the comparisons to pairs with at least one record in ids
// (the accounts changed since the last run) and makes Run score with p
// instead of fitting new parameters. The engine keeps the earlier run's
// pairs of unchanged accounts and clusters both with Cluster.
func (f *Finder) Focus(ids map[string]bool, p Params) {
	f.focus = ids
	f.focusParams = &p
}

// Pairs answers every pair the last Run scored at or above the possible
// threshold, for the engine to store, ordered by account ids.
func (f *Finder) Pairs() []Pair { return f.pairs }

// Run blocks, fits the parameters, scores the candidate pairs and clusters
// them into suggestions. progress, if not nil, is called now and then, from
// the goroutine that called Run.
func (f *Finder) Run(ctx context.Context, progress func(Progress)) (Result, error) {
	report := func(p Progress) {
		if progress != nil {
			progress(p)
		}
	}
	res := Result{Stats: Stats{Records: len(f.recs)}}
	report(Progress{Phase: "blocking", Total: int64(len(f.recs))})
	b := f.buildBlocks()
	res.Stats.BlockingKeys = b.keys
	res.Stats.OversizedBlocks = b.over
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var focus []bool
	if f.focus != nil {
		focus = make([]bool, len(f.recs))
		for i := range f.recs {
			focus[i] = f.focus[f.recs[i].id]
		}
	}

	var params Params
	if f.focusParams != nil {
		params = *f.focusParams
	} else {
		tf := termFrequencies(f.in, &f.mask, f.recs)
		tw := newWeights(&tf, &f.rules)
		tw.indexTF(f.in)
		counts := make([]map[uint64]float64, workers())
		for i := range counts {
			counts[i] = map[uint64]float64{}
		}
		sample := b.sample(EMMaxPairs)
		err := f.eachCandidateOf(ctx, &b, sample, focus, "estimating", report, func(w int, x, y uint32) {
			a, c := &f.recs[x], &f.recs[y]
			if c.id < a.id {
				a, c = c, a
			}
			v := compare(f.in, &f.mask, a, c)
			p := v.pattern()
			if nameTFLevel(v.level[fName]) {
				p |= tfBucket(tw.tfAdjust(f.in, a)) << tfShift
			}
			if localTFLevel(v.level[fEmail]) {
				p |= tfBucket(tw.localAdjust(a)) << (tfShift + 4)
			}
			counts[w][p]++
		})
		if err != nil {
			return res, err
		}
		merged := counts[0]
		for _, c := range counts[1:] {
			for p, n := range c {
				merged[p] += n
			}
		}
		patterns := make([]patternCount, 0, len(merged))
		for p, n := range merged {
			patterns = append(patterns, patternCount{p, n})
		}
		slices.SortFunc(patterns, func(a, b patternCount) int { return cmp.Compare(a.p, b.p) })
		params = fit(f.in, &f.mask, f.recs, patterns, tf)
	}
	res.Params = params

	w := newWeights(&params, &f.rules)
	w.indexTF(f.in)
	type kept struct{ x, y uint32 }
	keep := make([][]kept, workers())
	compared := make([]int64, workers())
	err := f.eachCandidate(ctx, &b, focus, "scoring", report, func(wk int, x, y uint32) {
		compared[wk]++
		a, c := &f.recs[x], &f.recs[y]
		if c.id < a.id {
			a, c = c, a
			x, y = y, x
		}
		v := compare(f.in, &f.mask, a, c)
		if Probability(w.score(f.in, a, &v)) >= f.rules.Possible {
			keep[wk] = append(keep[wk], kept{x, y})
		}
	})
	if err != nil {
		return res, err
	}
	for _, n := range compared {
		res.Stats.PairsCompared += n
	}
	b = blocks{}
	f.keys, f.koff = nil, nil

	var all []kept
	for _, k := range keep {
		all = append(all, k...)
	}
	keep = nil
	// A bound on what a run answers, whatever the parameters: the
	// strongest MaxPairsPerRecord pairs per record at most.
	if limit := MaxPairsPerRecord*len(f.recs) + 1000; len(all) > limit {
		weight := make(map[kept]float64, len(all))
		for _, k := range all {
			v := compare(f.in, &f.mask, &f.recs[k.x], &f.recs[k.y])
			weight[k] = w.score(f.in, &f.recs[k.x], &v)
		}
		slices.SortFunc(all, func(p, q kept) int {
			if c := cmp.Compare(weight[q], weight[p]); c != 0 {
				return c
			}
			if c := strings.Compare(f.recs[p.x].id, f.recs[q.x].id); c != 0 {
				return c
			}
			return strings.Compare(f.recs[p.y].id, f.recs[q.y].id)
		})
		res.Stats.PairsLeftOut = int64(len(all) - limit)
		all = all[:limit]
	}
	slices.SortFunc(all, func(p, q kept) int {
		if c := strings.Compare(f.recs[p.x].id, f.recs[q.x].id); c != 0 {
			return c
		}
		return strings.Compare(f.recs[p.y].id, f.recs[q.y].id)
	})
	f.pairs = make([]Pair, len(all))
	for i, k := range all {
		f.pairs[i] = scorePair(f.in, w, &f.recs[k.x], &f.recs[k.y])
	}
	res.Stats.PairsScored = int64(len(f.pairs))

	report(Progress{Phase: "clustering", Total: int64(len(f.pairs))})
	byID := make(map[string]uint32, 2*len(all))
	for _, k := range all {
		byID[f.recs[k.x].id] = k.x
		byID[f.recs[k.y].id] = k.y
	}
	facts := func(id string) keepFacts {
		if i, ok := byID[id]; ok {
			return recFacts(&f.recs[i])
		}
		return keepFacts{id: id}
	}
	dismissed := func(a, b string) bool {
		_, ok := f.dismissed[pairKey(a, b)]
		return ok
	}
	res.Suggestions = cluster(f.pairs, f.rules, facts, dismissed)
	report(Progress{Phase: "clustering", Done: int64(len(f.pairs)), Total: int64(len(f.pairs))})
	return res, ctx.Err()
}

// MaxPairsPerRecord bounds the pairs a run keeps (see Stats.PairsLeftOut):
// a tenant has far fewer likely duplicates than accounts, so more means
// parameters gone wrong, and the bound keeps the run's memory in check.
const MaxPairsPerRecord = 2

func workers() int { return max(1, min(runtime.GOMAXPROCS(0), 8)) }

// eachCandidate calls fn(worker, x, y) for every candidate pair, blocks
// shared out among the workers, and reports progress from this goroutine
// while they work.
func (f *Finder) eachCandidate(ctx context.Context, b *blocks, focus []bool, phase string, report func(Progress), fn func(w int, x, y uint32)) error {
	return f.eachCandidateOf(ctx, b, nil, focus, phase, report, fn)
}

// eachCandidateOf is eachCandidate over the blocks listed in only (every
// block when nil).
func (f *Finder) eachCandidateOf(ctx context.Context, b *blocks, only []int32, focus []bool, phase string, report func(Progress), fn func(w int, x, y uint32)) error {
	nb := len(b.starts) - 1
	if only != nil {
		nb = len(only)
	}
	if nb <= 0 {
		report(Progress{Phase: phase})
		return nil
	}
	const chunk = 256
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := range workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= nb {
					return
				}
				hi := min(lo+chunk, nb)
				for i := lo; i < hi; i++ {
					bi := i
					if only != nil {
						bi = int(only[i])
					}
					f.eachPair(b, bi, focus, func(x, y uint32) { fn(w, x, y) })
				}
				done.Add(int64(hi - lo))
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	report(Progress{Phase: phase, Total: int64(nb)})
	for {
		select {
		case <-finished:
			report(Progress{Phase: phase, Done: int64(nb), Total: int64(nb)})
			return ctx.Err()
		case <-tick.C:
			report(Progress{Phase: phase, Done: done.Load(), Total: int64(nb)})
		}
	}
}
