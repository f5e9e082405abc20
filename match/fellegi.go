package match

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Fellegi–Sunter scoring (docs/matching.md, "Weights"): a pair's match
// weight is log2 of the prior odds plus, per field, log2(m/u) of the level
// the field reached, where m is the level's probability among pairs of one
// person and u among pairs of two. u is counted on random pairs of the
// tenant's records; m and the prior are fitted by expectation-maximisation
// on the candidate pairs' comparison vectors.

// Limits of the estimation.
const (
	// RandomPairs is how many random pairs estimate u.
	RandomPairs = 1 << 18
	// EMMaxPairs: EM counts the vectors of about this many candidate
	// pairs at most, from a sample of whole blocks chosen by their key's
	// hash (a deterministic, even sample); a larger tenant's shares are
	// as well estimated from them, and scoring still compares every pair.
	EMMaxPairs = 4 << 20
	// EMMinCandidatePairs: with fewer candidate pairs EM's u starts from
	// random pairs, not from the candidates' own shares (see fit).
	EMMinCandidatePairs = 5000
	// EMMaxIterations caps expectation-maximisation.
	EMMaxIterations = 200
	// EMTolerance: EM has converged when no m and not the prior moved
	// more than this in one iteration.
	EMTolerance = 1e-6
	// MinM is the floor of every m: no level is impossible for one person
	// (a typo can produce anything), so no level's weight is unbounded.
	MinM = 1e-4
	// EMPseudoPairs: EM starts each iteration's sums with this many
	// pairs' worth of the initial m (a Dirichlet prior), so that a small
	// tenant with few duplicates does not drive a level's m to 0 or 1.
	EMPseudoPairs = 10
	// TFMaxValues bounds the term frequencies kept in Params: the most
	// common names; the rest share DefaultTF.
	TFMaxValues = 2000
	// seedU is the random pairs' seed: the same records give the same u.
	seedU = 0x75736572
)

// weights are Params made ready for scoring.
type weights struct {
	mask      [nFields]bool
	prior     float64
	w         [nFields][16]float64
	tfText    map[string]float64 // Params.TF[FieldName]
	tfNorm    map[uint64]float64 // the same, keyed by the run's interned names
	defaultTF float64
	tfMean    float64 // Params.TFMean[FieldName]
	// The same for e-mail local parts.
	localTF                 map[string]float64
	localDefault, localMean float64
}

func newWeights(p *Params, rules *Rules) *weights {
	w := &weights{mask: fieldMask(rules)}
	lam := min(max(p.Prior, 1e-12), 1-1e-12)
	w.prior = math.Log2(lam / (1 - lam))
	for f := range fields {
		levels := p.Fields[fields[f].name]
		for l := 1; l < len(fields[f].levels); l++ {
			mu, ok := levels[fields[f].levels[l]]
			if !ok || mu.M <= 0 || mu.U <= 0 {
				continue // unknown level: no weight
			}
			w.w[f][l] = math.Log2(mu.M / mu.U)
		}
	}
	w.tfText = p.TF[FieldName]
	w.defaultTF = p.DefaultTF[FieldName]
	w.tfMean = p.TFMean[FieldName]
	w.localTF, w.localDefault, w.localMean = p.TF[FieldEmail], p.DefaultTF[FieldEmail], p.TFMean[FieldEmail]
	return w
}

// indexTF keys the term frequencies by the interned names of a run.
func (w *weights) indexTF(in *interner) {
	w.tfNorm = make(map[uint64]float64, len(w.tfText))
	for k, tf := range w.tfText {
		g, f, ok := strings.Cut(k, " ")
		if !ok {
			continue
		}
		gi, ok1 := in.norms[g]
		fi, ok2 := in.norms[f]
		if ok1 && ok2 {
			w.tfNorm[uint64(gi)<<32|uint64(fi)] = tf
		}
	}
}

// nameTF is the weight of an exact or normalised name agreement on a's
// name: the level's log2(m/u) plus the name's term-frequency adjustment.
func (w *weights) nameTF(in *interner, a *rec, l uint8) float64 {
	return w.w[fName][l] + w.tfAdjust(in, a)
}

// tfAdjust is log2(tfMean / tf), where tf is how common a's name is and
// tfMean how common a name is on average (Σ tf²): among non-matches that
// agree on a name, a name of frequency tf turns up in proportion to tf²,
// among matches to tf, so the ratio adjusts the level's average u to the
// name's own. It is 0 for a name of average frequency, and when no
// frequencies are known.
func (w *weights) tfAdjust(in *interner, a *rec) float64 {
	if w.tfMean <= 0 {
		return 0
	}
	tf := w.defaultTF
	g, f := &in.parts[a.given], &in.parts[a.family]
	if w.tfNorm != nil {
		if v, ok := w.tfNorm[uint64(g.norm)<<32|uint64(f.norm)]; ok {
			tf = v
		}
	} else if v, ok := w.tfText[g.n+" "+f.n]; ok {
		tf = v
	}
	if tf <= 0 {
		return 0
	}
	return math.Log2(w.tfMean / tf)
}

// localAdjust is tfAdjust for a's e-mail local part.
func (w *weights) localAdjust(a *rec) float64 {
	if w.localMean <= 0 || a.emailN == "" {
		return 0
	}
	tf, ok := w.localTF[a.emailN[:a.localLen]]
	if !ok {
		tf = w.localDefault
	}
	if tf <= 0 {
		return 0
	}
	return math.Log2(w.localMean / tf)
}

// nameTFLevel and localTFLevel: the levels whose agreement is on the
// whole value, which term frequencies adjust.
func nameTFLevel(l uint8) bool { return l == uint8(NameExact) || l == uint8(NameNormalised) }
func localTFLevel(l uint8) bool {
	return l == uint8(EmailExact) || l == uint8(EmailNormalised) || l == uint8(EmailSameLocal)
}

// fieldWeight is one field's weight in a vector, term frequency included.
func (w *weights) fieldWeight(in *interner, a *rec, f int, l uint8) float64 {
	switch {
	case l == 0:
		return 0
	case f == fName && nameTFLevel(l):
		return w.nameTF(in, a, l)
	case f == fEmail && localTFLevel(l):
		return w.w[f][l] + w.localAdjust(a)
	}
	return w.w[f][l]
}

// score is a vector's match weight.
func (w *weights) score(in *interner, a *rec, v *vec) float64 {
	s := w.prior
	for f, l := range v.level {
		s += w.fieldWeight(in, a, f, l)
	}
	return s
}

// Probability is a match weight as a probability: 2^w / (1 + 2^w).
func Probability(weight float64) float64 { return 1 / (1 + math.Exp2(-weight)) }

// Score compares two records with fitted parameters.
func Score(p Params, rules Rules, a, b Record) Pair {
	if b.ID < a.ID {
		a, b = b, a
	}
	in := newInterner()
	ra, rb := prepare(&a, &rules, in), prepare(&b, &rules, in)
	w := newWeights(&p, &rules)
	return scorePair(in, w, &ra, &rb)
}

func scorePair(in *interner, w *weights, a, b *rec) Pair {
	v := compare(in, &w.mask, a, b)
	s := w.score(in, a, &v)
	return Pair{A: a.id, B: b.id, Weight: s, Probability: Probability(s), Evidence: evidence(in, a, b, &v, w)}
}

// levelCounts counts, per field, how often each level occurs.
type levelCounts [nFields][16]float64

// estimateU counts the levels of random pairs of records: among them
// nearly every pair is two people, so the shares are the u probabilities.
// All pairs are used when there are fewer than RandomPairs.
func estimateU(in *interner, mask *[nFields]bool, recs []rec) levelCounts {
	var c levelCounts
	n := len(recs)
	if n < 2 {
		return c
	}
	if total := int64(n) * int64(n-1) / 2; total <= RandomPairs {
		for i := range recs {
			for j := i + 1; j < n; j++ {
				v := compare(in, mask, &recs[i], &recs[j])
				c.add(&v.level, 1)
			}
		}
		return c
	}
	// Two halves in parallel, each with its own deterministic stream.
	var parts [2]levelCounts
	done := make(chan struct{})
	for h := range 2 {
		go func() {
			r := rand.New(rand.NewPCG(seedU, uint64(h)))
			for range RandomPairs / 2 {
				i := r.IntN(n)
				j := r.IntN(n - 1)
				if j >= i {
					j++
				}
				v := compare(in, mask, &recs[i], &recs[j])
				parts[h].add(&v.level, 1)
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	for f := range c {
		for l := range c[f] {
			c[f][l] = parts[0][f][l] + parts[1][f][l]
		}
	}
	return c
}

func (c *levelCounts) add(levels *[nFields]uint8, n float64) {
	for f, l := range levels {
		c[f][l] += n
	}
}

// UPseudoPairs: u's shares start from this many pairs' worth of the
// default u (DefaultParams), so that a field few pairs carry (a tenant
// where no account had an external ID at run time) keeps the structural u
// of an identifier's agreement, not the half-and-half of no data; counted
// on a quarter of a million pairs, they move u by well under one percent.
const UPseudoPairs = 1000

// shares turns counts into probabilities over the levels other than
// missing, with half a count added to each (so that a level random pairs
// never reached has a small u, not zero) and UPseudoPairs pairs' worth of
// the default u.
func (c *levelCounts) shares(f int) []float64 {
	L := len(fields[f].levels)
	out := make([]float64, L)
	def := defaultU(f)
	total := 0.0
	for l := 1; l < L; l++ {
		total += c[f][l] + 0.5 + UPseudoPairs*def[l]
	}
	for l := 1; l < L; l++ {
		out[l] = (c[f][l] + 0.5 + UPseudoPairs*def[l]) / total
	}
	return out
}

// initialM is EM's starting point: agreement likely for one person, each
// weaker level half as likely as the one before, disagreement rare.
func initialM(f int) []float64 {
	L := len(fields[f].levels)
	out := make([]float64, L)
	total := 0.0
	for l := 1; l < L; l++ {
		v := math.Pow(0.5, float64(l-1))
		if l == L-1 {
			v = 0.05
		}
		out[l] = v
		total += v
	}
	for l := 1; l < L; l++ {
		out[l] /= total
	}
	return out
}

// patternCount is one distinct comparison vector and how many candidate
// pairs have it.
type patternCount struct {
	p uint64
	n float64
}

// fitEM fits m, the candidate pairs' own u and the share of matches among
// them (the prior) to the candidate pairs' vectors: the E step weighs each
// distinct vector by the probability that its pairs are matches, the M step
// sets m to the match-weighed shares of the levels, u to the
// non-match-weighed shares and the prior to the weighed share of matches.
// u starts from the random pairs' u and m from initialM; both are floored.
func fitEM(patterns []patternCount, m0, u0 [nFields][]float64, mask *[nFields]bool) (m, u [nFields][]float64, prior float64, iters int, converged bool) {
	for f := range fields {
		m[f] = slices.Clone(m0[f])
		u[f] = slices.Clone(u0[f])
	}
	prior = 0.05
	if len(patterns) == 0 {
		return m, u, prior, 0, false
	}
	// The levels of each pattern are unpacked once.
	levels := make([][nFields]uint8, len(patterns))
	total := 0.0
	for i, pc := range patterns {
		for f := range fields {
			levels[i][f] = patternLevel(pc.p, f)
		}
		total += pc.n
	}
	for iters = 1; iters <= EMMaxIterations; iters++ {
		var lr [nFields][16]float64
		for f := range fields {
			for l := 1; l < len(m[f]); l++ {
				lr[f][l] = math.Log(m[f][l] / u[f][l])
			}
		}
		// Sums start from EMPseudoPairs pairs' worth of the starting
		// point, on both sides.
		var mNum, uNum [nFields][16]float64
		var mDen, uDen [nFields]float64
		for f := range fields {
			for l := 1; l < len(m0[f]); l++ {
				mNum[f][l] = EMPseudoPairs * m0[f][l]
				uNum[f][l] = EMPseudoPairs * u0[f][l]
			}
			mDen[f], uDen[f] = EMPseudoPairs, EMPseudoPairs
		}
		matches := 0.0
		logPrior := math.Log(prior / (1 - prior))
		for i, pc := range patterns {
			s := logPrior + patternTF(pc.p)*math.Ln2
			for f, l := range levels[i] {
				s += lr[f][l]
			}
			p := 1 / (1 + math.Exp(-s))
			wm, wu := p*pc.n, (1-p)*pc.n
			matches += wm
			for f, l := range levels[i] {
				if l != 0 {
					mNum[f][l] += wm
					mDen[f] += wm
					uNum[f][l] += wu
					uDen[f] += wu
				}
			}
		}
		newPrior := min(max(matches/total, 1e-9), 1-1e-9)
		delta := math.Abs(newPrior - prior)
		prior = newPrior
		for f := range fields {
			if !mask[f] {
				continue
			}
			var d float64
			m[f], d = normalised(mNum[f][:len(m[f])], mDen[f], m[f])
			delta = max(delta, d)
			u[f], d = normalised(uNum[f][:len(u[f])], uDen[f], u[f])
			delta = max(delta, d)
		}
		if delta < EMTolerance {
			return m, u, prior, iters, true
		}
	}
	return m, u, prior, EMMaxIterations, false
}

// normalised is num/den floored at MinM and summing to 1 over the levels
// other than missing, and how far it moved from old.
func normalised(num []float64, den float64, old []float64) ([]float64, float64) {
	next := make([]float64, len(num))
	sum := 0.0
	for l := 1; l < len(num); l++ {
		next[l] = max(num[l]/den, MinM)
		sum += next[l]
	}
	delta := 0.0
	for l := 1; l < len(num); l++ {
		next[l] /= sum
		delta = max(delta, math.Abs(next[l]-old[l]))
	}
	return next, delta
}

// frequencies turns value counts over total records into the most common
// values' frequencies (at most TFMaxValues, each held by two records or
// more), the frequency every other value is assumed to have (that of the
// most common value not listed) and the mean frequency of a record's value
// (Σ tf² over every value).
func frequencies(counts map[string]int32, total int) (map[string]float64, float64, float64) {
	if total == 0 {
		return nil, 0, 0
	}
	type vc struct {
		text string
		n    int32
	}
	all := make([]vc, 0, len(counts))
	for k, n := range counts {
		all = append(all, vc{k, n})
	}
	slices.SortFunc(all, func(a, b vc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	tf := map[string]float64{}
	rest := 1.0
	mean := 0.0
	for _, x := range all {
		q := float64(x.n) / float64(total)
		mean += q * q
	}
	for i, x := range all {
		if i >= TFMaxValues || x.n < 2 {
			rest = float64(x.n)
			break
		}
		tf[x.text] = float64(x.n) / float64(total)
	}
	return tf, rest / float64(total), mean
}

// nameFrequencies are the frequencies of the normalised full names.
func nameFrequencies(in *interner, recs []rec) (map[string]float64, float64, float64) {
	byNorm := map[uint64]int32{}
	named := 0
	for i := range recs {
		r := &recs[i]
		if r.given == 0 || r.family == 0 {
			continue
		}
		named++
		byNorm[uint64(in.parts[r.given].norm)<<32|uint64(in.parts[r.family].norm)]++
	}
	normText := make([]string, len(in.norms))
	for s, i := range in.norms {
		normText[i] = s
	}
	counts := make(map[string]int32, len(byNorm))
	for k, n := range byNorm {
		counts[normText[k>>32]+" "+normText[uint32(k)]] = n
	}
	return frequencies(counts, named)
}

// localFrequencies are the frequencies of the normalised e-mail local
// parts: john.smith at many providers is many people.
func localFrequencies(recs []rec) (map[string]float64, float64, float64) {
	counts := map[string]int32{}
	total := 0
	for i := range recs {
		if r := &recs[i]; r.emailN != "" {
			total++
			counts[r.emailN[:r.localLen]]++
		}
	}
	return frequencies(counts, total)
}

// termFrequencies are Params holding only the term frequencies of the
// records (names and e-mail local parts), which EM needs before it fits
// the rest.
func termFrequencies(in *interner, mask *[nFields]bool, recs []rec) Params {
	p := Params{TF: map[string]map[string]float64{}, DefaultTF: map[string]float64{}, TFMean: map[string]float64{}}
	set := func(field string, tf map[string]float64, def, mean float64) {
		if tf != nil {
			p.TF[field], p.DefaultTF[field], p.TFMean[field] = tf, def, mean
		}
	}
	if mask[fName] {
		tf, def, mean := nameFrequencies(in, recs)
		set(FieldName, tf, def, mean)
	}
	if mask[fEmail] {
		tf, def, mean := localFrequencies(recs)
		set(FieldEmail, tf, def, mean)
	}
	return p
}

// fit estimates the Params of a run: u on random pairs as EM's start, then
// m, the candidates' u and the prior by EM on the candidate pairs' vectors.
// tf holds the term frequencies (termFrequencies), which it keeps.
func fit(in *interner, mask *[nFields]bool, recs []rec, patterns []patternCount, tf Params) Params {
	// EM's u starts from the candidate pairs' own level shares (nearly
	// all of them are two people): random pairs agree on names so rarely
	// that, starting from them, namesakes look like matches to the first
	// E step, and on large tenants EM stayed there.
	var start levelCounts
	candidates := 0.0
	for _, pc := range patterns {
		candidates += pc.n
		var lv [nFields]uint8
		for f := range fields {
			lv[f] = patternLevel(pc.p, f)
		}
		start.add(&lv, pc.n)
	}
	// A small tenant's few candidate pairs are too few to say how often
	// two people agree (a dozen pairs, one of them with an employee
	// number, made that agreement look common): there u starts from, and
	// is held near by EM's pseudo-pairs, the random pairs' shares.
	if candidates < EMMinCandidatePairs {
		start = estimateU(in, mask, recs)
	}
	var m0, u [nFields][]float64
	for f := range fields {
		u[f] = start.shares(f)
		m0[f] = initialM(f)
		// A small tenant's dozen matches cannot say how often one person's
		// accounts have swapped names or a fuzzy name (one swapped pair
		// out of thirteen, or none): m starts from, and EM's pseudo-pairs
		// hold it near, the default m (DefaultParams), which the data
		// refine; a large tenant's EM starts from initialM, as it was
		// measured to fit at a million accounts.
		if candidates < EMMinCandidatePairs {
			m0[f] = defaultM(f)
		}
	}
	m, u, prior, iters, conv := fitEM(patterns, m0, u, mask)
	if candidates < EMMinCandidatePairs {
		floorFuzzyNames(&u)
	}
	p := Params{Prior: prior, Fields: map[string]map[string]LevelMU{}, Iterations: iters, Converged: conv,
		TF: tf.TF, DefaultTF: tf.DefaultTF, TFMean: tf.TFMean}
	for f := range fields {
		if !mask[f] {
			continue
		}
		levels := map[string]LevelMU{}
		for l := 1; l < len(fields[f].levels); l++ {
			levels[fields[f].levels[l]] = LevelMU{M: m[f][l], U: u[f][l]}
		}
		p.Fields[fields[f].name] = levels
	}
	return p
}

// floorFuzzyNames keeps a small tenant's u of the fuzzy name levels (jw92,
// jw88, close) at least at their default: a few hundred accounts' random
// pairs hardly ever reach them, so u came out near 10⁻⁵ and a Jaro-Winkler
// agreement alone weighed 11 bits, enough to make "Cian Ryan" and "Ciarán
// Ryan", two people, a certain suggestion. Two people's names are alike
// that often in any tenant of learners.
func floorFuzzyNames(u *[nFields][]float64) {
	def := defaultU(fName)
	for _, l := range []int{int(NameJW92), int(NameJW88), nameClose} {
		u[fName][l] = max(u[fName][l], def[l])
	}
}

// The term-frequency adjustment of a pattern, in whole bits, rides in the
// pattern's bits above the fields' so that EM weighs a common name's
// agreement as scoring will.
const (
	tfShift = 4 * nFields
	tfBias  = 8 // stored adjustment: bits + tfBias, 1..15; 0 for none
)

func tfBucket(bits float64) uint64 {
	b := int(math.Round(bits)) + tfBias
	return uint64(min(max(b, 1), 15))
}

// patternTF is the adjustment of a pattern's name (bits tfShift..+3) and
// e-mail local part (the next four bits).
func patternTF(p uint64) float64 {
	t := 0.0
	for _, sh := range [...]int{tfShift, tfShift + 4} {
		if b := int(p>>sh) & 15; b != 0 {
			t += float64(b - tfBias)
		}
	}
	return t
}
