package match

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Blocking: two records are compared only when they share a blocking key.
// The keys are OR-ed, so a pair missed by one (a typo in the family name)
// is found by another (the same e-mail local part, birth date or phone).
// See docs/matching.md, "Blocking".

// MinLocalPartRunes: a shorter e-mail local part or login is no key (too
// many people are "jo" or "ab").
const MinLocalPartRunes = 3

// genericLocalParts are mailbox names shared by many people, no key.
var genericLocalParts = map[string]bool{
	"info": true, "admin": true, "administrator": true, "contact": true, "office": true,
	"mail": true, "email": true, "hello": true, "support": true, "help": true,
	"noreply": true, "no-reply": true, "test": true, "user": true, "student": true,
	"students": true, "learner": true, "training": true, "hr": true, "team": true,
	"sales": true, "webmaster": true, "postmaster": true, "reception": true,
	"secretary": true, "enquiries": true, "inquiries": true, "service": true,
	"school": true, "staff": true, "accounts": true, "finance": true,
}

// keyWriter builds one record's keys in a reused buffer and hands each to
// emit with the kind of its secondary key (used to split an oversized
// block).
type keyWriter struct {
	buf  []byte
	emit func(key []byte, sec uint8)
}

// The secondary keys: the name key, or the Soundex of the given or the
// family name (for the name keys, the part the key does not hold).
const (
	secName uint8 = iota
	secGiven
	secFamily
)

// secondary is record c's secondary key of a kind.
func secondary(in *interner, c *rec, kind uint8) uint64 {
	g, f := &in.parts[c.given], &in.parts[c.family]
	switch kind {
	case secGiven:
		return hashStrings('s', g.soundex)
	case secFamily:
		return hashStrings('s', f.soundex)
	}
	if f.soundex == "" {
		return 0
	}
	return hashStrings('n', f.soundex, initial(g.initial))
}

func (w *keyWriter) key(sec uint8, parts ...string) {
	w.buf = w.buf[:0]
	for _, p := range parts {
		w.buf = append(w.buf, p...)
	}
	w.emit(w.buf, sec)
}

// recordKeys writes r's blocking keys, most selective first (the order
// decides in which shared block a pair is compared).
func recordKeys(w *keyWriter, r *Record, c *rec, in *interner, mask *[nFields]bool) {
	g, f := &in.parts[c.given], &in.parts[c.family]
	const nameSec = secName
	if mask[fExt] {
		for _, x := range c.ext {
			w.key(nameSec, "x:", x.system, ":", x.value)
		}
	}
	if mask[fEmp] && c.empN != "" {
		w.key(nameSec, "m:", c.empN)
	}
	if mask[fEmail] {
		local := ""
		if c.emailN != "" {
			local = c.emailN[:c.localLen]
			if usableLocal(local) {
				w.key(nameSec, "e:", local)
			}
		}
		if l := loginLocal(r.Login); l != local && usableLocal(l) {
			w.key(nameSec, "e:", l)
		}
	}
	if mask[fPhone] && c.phone != "" {
		p := c.phone
		if len(p) > PhoneTailDigits {
			p = p[len(p)-PhoneTailDigits:]
		}
		w.key(nameSec, "p:", p)
	}
	if mask[fName] && f.soundex != "" {
		w.key(secGiven, "n:", f.soundex, initial(g.initial))
		if g.soundex != "" {
			w.key(secFamily, "n:", g.soundex, initial(f.initial))
		}
		// A family name of several words ("Luis Hernández", a middle
		// name the given name did not take, or a double surname) is also
		// keyed by its last word, which the other account may carry alone.
		if f.lastSoundex != "" {
			w.key(secGiven, "n:", f.lastSoundex, initial(g.initial))
		}
		// A given name in the nickname table is also keyed by its
		// nickname groups, since Bob and Robert share no initial.
		for _, grp := range nicknameIndex[g.first] {
			w.key(secGiven, "k:", f.soundex, ":", strconv.Itoa(int(grp)))
		}
	}
	if mask[fBirth] && c.birth != 0 && (g.initial != 0 || f.initial != 0) {
		// The birth date with both initials, in letter order so that
		// swapped names share it: a birth date with one initial made
		// nearly half a million-account tenant's candidates.
		x, y := g.initial, f.initial
		if y < x {
			x, y = y, x
		}
		w.key(nameSec, "d:", formatDate(c.birth), ":", initial(x), initial(y))
	}
}

func initial(r rune) string {
	if r == 0 {
		return ""
	}
	var b [utf8.UTFMax]byte
	return string(b[:utf8.EncodeRune(b[:], r)])
}

func usableLocal(l string) bool {
	return utf8.RuneCountInString(l) >= MinLocalPartRunes && !genericLocalParts[l]
}

// loginLocal is a login as a key: lower case, the local part of an address.
func loginLocal(login string) string {
	login = strings.ToLower(strings.TrimSpace(validPrefix(login, MaxEmailBytes)))
	if i := strings.LastIndexByte(login, '@'); i >= 0 {
		login = login[:i]
	}
	return login
}

// BlockingKeys are the keys under which r is compared with other records;
// two records are compared when they share one. The engine uses them to find
// the candidates of one account (Check).
func BlockingKeys(r Record, rules Rules) []string {
	in := newInterner()
	mask := fieldMask(&rules)
	c := prepare(&r, &rules, in)
	var keys []string
	w := keyWriter{emit: func(k []byte, _ uint8) {
		if s := string(k); !slices.Contains(keys, s) {
			keys = append(keys, s)
		}
	}}
	recordKeys(&w, &r, &c, in, &mask)
	return keys
}

// KeyHash is the 64-bit number of a blocking key: the finder blocks by
// it, and the engine stores it for the check of one account. Never 0.
func KeyHash(key string) uint64 {
	return keyHash([]byte(key))
}

func keyHash(k []byte) uint64 {
	if h := hashBytes(k); h != 0 {
		return h
	}
	return 1 // 0 marks a dropped key
}

// BlockingKeyHashes are r's BlockingKeys as KeyHash numbers, without
// repeats.
func BlockingKeyHashes(r Record, rules Rules) []uint64 {
	var out []uint64
	for _, k := range BlockingKeys(r, rules) {
		if h := KeyHash(k); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// AddedKeys answers the hashed blocking keys (KeyHash, without repeats) of
// the record Add added last, as BlockingKeyHashes would. The slice is the
// finder's own and holds them only until the next Add or Run: a caller
// that keeps them copies them.
func (f *Finder) AddedKeys() []uint64 {
	return f.keys[f.koff[len(f.koff)-2]:]
}

// addKeys stores rec i's hashed keys (without repeats) and secondaries.
func (f *Finder) addKeys(r *Record, c *rec) {
	start := len(f.keys)
	f.kw.emit = func(k []byte, sec uint8) {
		h := keyHash(k)
		if !slices.Contains(f.keys[start:], h) {
			f.keys = append(f.keys, h)
			f.secs = append(f.secs, sec)
		}
	}
	recordKeys(&f.kw, r, c, f.in, &f.mask)
	f.koff = append(f.koff, uint32(len(f.keys)))
}

func hashBytes(b []byte) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, c := range b {
		h = (h ^ uint64(c)) * prime
	}
	return h
}

// mix combines a key with a secondary key into the key of a sub-block.
func mix(k, sec uint64) uint64 {
	h := k ^ (sec + 0x9e3779b97f4a7c15 + (k << 6) + (k >> 2))
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	if h == 0 {
		h = 1
	}
	return h
}

// entry is one record under one key.
type entry struct {
	key uint64
	rec uint32
}

// blocks are a run's blocks of 2 or more records: block i holds the
// records members[starts[i]:starts[i+1]] under the key keyOf[i]. The
// sorted entries they are built from (a key and a record each) are not
// kept: a run holds 4 bytes per record in a block instead of 16 per key.
type blocks struct {
	members  []uint32
	keyOf    []uint64
	starts   []uint32            // start of each block, then len(members)
	windowed map[uint64]struct{} // blocks still oversized after the split: compared in a sliding window
	window   int
	keys     int // distinct keys of 2 or more records
	over     int // blocks larger than MaxBlock before the split
}

// Window is how many following records each record of a block that is
// still oversized after the split is compared with (sorted by name).
func (r Rules) Window() int { return max(2, r.MaxBlock/8) }

func (f *Finder) keysOf(i uint32) []uint64 { return f.keys[f.koff[i]:f.koff[i+1]] }

// buildBlocks sorts the records' keys into blocks; a block larger than
// MaxBlock is split by the secondary key, and a part still larger is
// compared in a sliding window over its records sorted by name.
func (f *Finder) buildBlocks() blocks {
	maxBlock := f.rules.MaxBlock
	if maxBlock < 2 {
		maxBlock = 2
	}
	b := blocks{window: f.rules.Window()}
	entries := f.sortedEntries(nil)
	// Split the oversized blocks by their secondary key.
	over := false
	forRuns(entries, func(lo, hi int) {
		if hi-lo <= maxBlock {
			return
		}
		over = true
		b.over++
		for _, e := range entries[lo:hi] {
			ks := f.keysOf(e.rec)
			for p := range ks {
				if ks[p] == e.key {
					ks[p] = mix(e.key, secondary(f.in, &f.recs[e.rec], f.secs[int(f.koff[e.rec])+p]))
				}
			}
		}
	})
	f.secs = nil
	if over {
		// A split key could repeat another of the record's (only by
		// hashing's chance): drop the repeat, so no pair is compared twice.
		for i := range len(f.koff) - 1 {
			ks := f.keysOf(uint32(i))
			for p := 1; p < len(ks); p++ {
				if ks[p] != 0 && slices.Contains(ks[:p], ks[p]) {
					ks[p] = 0
				}
			}
		}
		entries = f.sortedEntries(entries[:0])
		forRuns(entries, func(lo, hi int) {
			if hi-lo <= maxBlock {
				return
			}
			if b.windowed == nil {
				b.windowed = map[uint64]struct{}{}
			}
			b.windowed[entries[lo].key] = struct{}{}
			run := entries[lo:hi]
			slices.SortFunc(run, func(x, y entry) int {
				rx, ry := &f.recs[x.rec], &f.recs[y.rec]
				if c := strings.Compare(f.in.parts[rx.family].n, f.in.parts[ry.family].n); c != 0 {
					return c
				}
				if c := strings.Compare(f.in.parts[rx.given].n, f.in.parts[ry.given].n); c != 0 {
					return c
				}
				return int(x.rec) - int(y.rec)
			})
		})
	}
	// Keep only blocks of 2 or more, in arrays of their own size.
	n := 0
	forRuns(entries, func(lo, hi int) {
		if hi-lo >= 2 {
			n += hi - lo
			b.keys++
		}
	})
	b.members = make([]uint32, 0, n)
	b.keyOf = make([]uint64, 0, b.keys)
	b.starts = make([]uint32, 0, b.keys+1)
	forRuns(entries, func(lo, hi int) {
		if hi-lo < 2 {
			return
		}
		b.starts = append(b.starts, uint32(len(b.members)))
		b.keyOf = append(b.keyOf, entries[lo].key)
		for _, e := range entries[lo:hi] {
			b.members = append(b.members, e.rec)
		}
	})
	b.starts = append(b.starts, uint32(len(b.members)))
	return b
}

func (f *Finder) sortedEntries(dst []entry) []entry {
	// One array of the exact size: at a million records the entries are
	// some 130 MB, and growing them by append would hold up to twice that.
	n := 0
	for _, k := range f.keys {
		if k != 0 {
			n++
		}
	}
	dst = slices.Grow(dst[:0], n)
	for i := range len(f.koff) - 1 {
		for _, k := range f.keysOf(uint32(i)) {
			if k != 0 {
				dst = append(dst, entry{key: k, rec: uint32(i)})
			}
		}
	}
	slices.SortFunc(dst, func(x, y entry) int {
		switch {
		case x.key < y.key:
			return -1
		case x.key > y.key:
			return 1
		}
		return int(x.rec) - int(y.rec)
	})
	return dst
}

// forRuns calls fn for each run of entries with one key.
func forRuns(es []entry, fn func(lo, hi int)) {
	for lo := 0; lo < len(es); {
		hi := lo + 1
		for hi < len(es) && es[hi].key == es[lo].key {
			hi++
		}
		fn(lo, hi)
		lo = hi
	}
}

// sample answers the blocks EM reads when the blocks hold more than about
// max pairs (nil: all of them): every k-th block by its key's hash, k
// chosen from the blocks' pair counts (windowed blocks counted by their
// window).
func (b *blocks) sample(max int64) []int32 {
	var total int64
	nb := len(b.starts) - 1
	for i := range nb {
		total += b.pairsIn(i)
	}
	if total <= max {
		return nil
	}
	k := uint64((total + max - 1) / max)
	var out []int32
	for i := range nb {
		if mix(b.keyOf[i], 0x5eed)%k == 0 {
			out = append(out, int32(i))
		}
	}
	return out
}

// pairsIn bounds the pairs block i compares.
func (b *blocks) pairsIn(i int) int64 {
	n := int64(b.starts[i+1] - b.starts[i])
	if _, w := b.windowed[b.keyOf[i]]; w {
		return n * int64(b.window)
	}
	return n * (n - 1) / 2
}

// comparedHere reports whether records x and y, which share key k, are
// compared in k's block: a pair is compared once, in the block of the
// first key (in the order of the lower record's keys) the two share.
// Windowed keys do not count as shared for an ordinary block (the pair may
// be outside the window), and in a windowed block the pair is compared only
// when it shares no ordinary key and k is its first windowed one.
func (f *Finder) comparedHere(x, y uint32, k uint64, b *blocks) bool {
	if x > y {
		x, y = y, x
	}
	kx, ky := f.keysOf(x), f.keysOf(y)
	_, inWindow := b.windowed[k]
	seen := false
	for _, h := range kx {
		if h == k {
			if !inWindow {
				return true
			}
			seen = true
			continue
		}
		if h == 0 || !slices.Contains(ky, h) {
			continue
		}
		if _, w := b.windowed[h]; !w {
			return false // an ordinary key shared: compared there
		}
		if inWindow && !seen {
			return false // an earlier windowed key shared
		}
	}
	return true
}

// eachPair calls fn for every pair of block i to compare (x < y as record
// indexes), once over all blocks.
func (f *Finder) eachPair(b *blocks, i int, focus []bool, fn func(x, y uint32)) {
	es := b.members[b.starts[i]:b.starts[i+1]]
	k := b.keyOf[i]
	if focus != nil {
		any := false
		for _, e := range es {
			if focus[e] {
				any = true
				break
			}
		}
		if !any {
			return
		}
	}
	limit := len(es)
	if _, w := b.windowed[k]; w {
		limit = b.window
	}
	for p := range es {
		for q := p + 1; q < len(es) && q-p <= limit; q++ {
			x, y := es[p], es[q]
			if x > y {
				x, y = y, x
			}
			if focus != nil && !focus[x] && !focus[y] {
				continue
			}
			if f.comparedHere(x, y, k, b) {
				fn(x, y)
			}
		}
	}
}
