// Package demo generates the demo data set: two tenants, one per merge
// preset, each with an org tree, about 300 learners with a plausible history
// of every record kind, and a dozen people who hold two or three accounts
// whose records overlap so that every merge rule of PRODUCT.md §3 has
// something to do. Most accounts carry profile attributes (attributes.go),
// which a duplicate person's accounts partly share. The output is the documented NDJSON import format, in
// export order, and byte-identical for the same Options.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"usermerge"
	"usermerge/store"
)

// DemoPassword is the password the demo admins are meant to sign in to the
// web UI with. The generated data carries no password: whoever loads the
// demo sets it for each admin in Summary.
const DemoPassword = "demo-password"

// Options controls generation. The same Options give byte-identical output.
type Options struct {
	Seed uint64
	Now  time.Time // required reference time: every generated time is before it
}

// Tenant describes one generated tenant for the person giving the demo.
type Tenant struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Preset     string      `json:"preset"`
	Accounts   int         `json:"accounts"`
	Duplicates [][]string  `json:"duplicates"` // logins of one person's accounts; the first is the one to keep
	Admins     []AdminInfo `json:"admins"`
}

// AdminInfo is one generated admin; all sign in with DemoPassword.
type AdminInfo struct {
	Login string `json:"login"`
	Role  string `json:"role"`
	Scope string `json:"scope"` // for people, e.g. "edit over Sales"
}

// Summary describes what Write generated.
type Summary struct {
	Tenants []Tenant `json:"tenants"`
}

// Write writes the demo data set to w as NDJSON in the import format.
func Write(w io.Writer, o Options) (Summary, error) {
	if o.Now.IsZero() {
		return Summary{}, errors.New("demo: Options.Now is required")
	}
	now := o.Now.UTC().Truncate(time.Millisecond)
	bw := bufio.NewWriter(w)
	var sum Summary
	for _, spec := range tenantSpecs() {
		g := newGen(spec, o.Seed, now)
		g.build()
		g.attributes(o.Seed)
		if err := g.write(bw); err != nil {
			return Summary{}, fmt.Errorf("demo: write %s: %w", spec.id, err)
		}
		sum.Tenants = append(sum.Tenants, g.summary())
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, fmt.Errorf("demo: write: %w", err)
	}
	return sum, nil
}

// Load generates the demo data set and imports it into db.
func Load(ctx context.Context, db *store.DB, o Options) (Summary, error) {
	var buf bytes.Buffer
	sum, err := Write(&buf, o)
	if err != nil {
		return Summary{}, err
	}
	if _, err := db.Import(ctx, &buf); err != nil {
		return Summary{}, fmt.Errorf("demo: import: %w", err)
	}
	// Every demo administrator signs in with DemoPassword. One hash serves
	// them all: hashing is deliberately slow, and this is demo data.
	hash, err := usermerge.HashPassword(DemoPassword)
	if err != nil {
		return Summary{}, err
	}
	err = db.Transact(ctx, func(tx *store.Tx) error {
		for _, t := range sum.Tenants {
			for _, a := range t.Admins {
				if err := tx.SetPassword(ctx, t.ID, a.Login, hash); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("demo: passwords: %w", err)
	}
	return sum, nil
}

// gen generates one tenant.
type gen struct {
	spec     *tenantSpec
	r        *rand.Rand
	now      time.Time
	unitOf   map[string]unit
	groupOf  map[string]string // group id → name
	accounts []*account        // in creation order of the generator, not by id
	dups     [][]*account
	admin    *account
	logins   map[string]bool
	extIDs   map[string]bool // system/value pairs in use
	recs     map[usermerge.Kind][]line
	certSeq  int
	docSeq   int
}

func newGen(spec *tenantSpec, seed uint64, now time.Time) *gen {
	// Each tenant draws from its own stream, so the tenants do not depend
	// on each other's size.
	h := fnv.New64a()
	h.Write([]byte(spec.id))
	g := &gen{
		spec: spec, r: rand.New(rand.NewPCG(seed, h.Sum64())), now: now,
		unitOf: map[string]unit{}, groupOf: map[string]string{"g-root": spec.rootName},
		logins: map[string]bool{}, extIDs: map[string]bool{}, recs: map[usermerge.Kind][]line{},
		docSeq: 10000,
	}
	for _, d := range spec.divisions {
		g.groupOf[d.id] = d.name
		for _, u := range d.units {
			g.unitOf[u.id] = u
			g.groupOf[u.id] = u.name
		}
	}
	return g
}

func (g *gen) build() {
	g.buildAccounts()
	for i, group := range g.dups {
		g.overlap(i, group)
	}
	for _, a := range g.accounts {
		g.activity(a)
	}
}

// between returns a random time in [a, b), truncated to milliseconds; a if
// the range is empty.
func (g *gen) between(a, b time.Time) time.Time {
	a = a.Truncate(time.Millisecond)
	ms := b.Sub(a).Milliseconds()
	if ms <= 0 {
		return a
	}
	return a.Add(time.Duration(g.r.Int64N(ms)) * time.Millisecond)
}

// kv is one field of an NDJSON line; line keeps fields in order.
type kv struct {
	k string
	v any
}

type line []kv

const timeLayout = "2006-01-02T15:04:05.000Z"

// appendJSON appends l as one JSON object and a newline to buf. HTML
// characters are not escaped, as in exports ("Data & Analytics").
func (l line) appendJSON(buf *bytes.Buffer) error {
	if err := l.appendObject(buf); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return nil
}

// appendObject appends l as one JSON object; a field whose value is a line
// is a nested object with its fields in order.
func (l line) appendObject(buf *bytes.Buffer) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range l {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(buf, "%q:", f.k)
		if sub, ok := f.v.(line); ok {
			if err := sub.appendObject(buf); err != nil {
				return fmt.Errorf("field %s: %w", f.k, err)
			}
			continue
		}
		v := f.v
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(timeLayout)
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("field %s: %w", f.k, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return nil
}

// write writes the tenant in export order: tenant, groups, jobs, accounts,
// memberships, account jobs, admins, then records kind by kind, by id.
func (g *gen) write(w io.Writer) error {
	s := g.spec
	policy, ok := usermerge.Presets[s.preset]
	if !ok {
		return fmt.Errorf("unknown preset %q", s.preset)
	}
	lines := []line{{{"kind", "tenant"}, {"id", s.id}, {"name", s.name}, {"policy", policy}}}
	lines = append(lines, line{{"kind", "group"}, {"tenant", s.id}, {"id", "g-root"}, {"name", s.rootName}})
	divs := sortedBy(s.divisions, func(d division) string { return d.id })
	for _, d := range divs {
		lines = append(lines, line{{"kind", "group"}, {"tenant", s.id}, {"id", d.id}, {"name", d.name}, {"parent", "g-root"}})
	}
	var units []line
	for _, d := range divs {
		for _, u := range d.units {
			units = append(units, line{{"kind", "group"}, {"tenant", s.id}, {"id", u.id}, {"name", u.name}, {"parent", d.id}})
		}
	}
	lines = append(lines, sortedBy(units, lineID)...)
	for _, j := range sortedBy(s.jobs, func(j job) string { return j.id }) {
		lines = append(lines, line{{"kind", "job"}, {"tenant", s.id}, {"id", j.id}, {"title", j.title}})
	}
	lines = append(lines, titleLines(s)...)
	byID := sortedBy(g.accounts, func(a *account) string { return a.id })
	for _, a := range byID {
		status := "active"
		if a.inactive {
			status = "inactive"
		}
		l := line{{"kind", "account"}, {"tenant", s.id}, {"id", a.id}, {"login", a.login},
			{"email", a.email}, {"name", a.name}, {"status", status}, {"created_at", a.created}}
		if attrs := attributesLine(a.attrs); attrs != nil {
			l = append(l, kv{"attributes", attrs})
		}
		lines = append(lines, l)
	}
	for _, a := range byID {
		for _, u := range a.units {
			lines = append(lines, line{{"kind", "membership"}, {"tenant", s.id}, {"account", a.id}, {"group", u}})
		}
	}
	for _, a := range byID {
		for _, j := range a.jobs {
			lines = append(lines, line{{"kind", "account_job"}, {"tenant", s.id}, {"account", a.id}, {"job", j}})
		}
	}
	lines = append(lines, line{{"kind", "admin"}, {"tenant", s.id}, {"id", "adm-1"}, {"login", s.admin.login},
		{"name", s.admin.name}, {"role", string(usermerge.TenantAdmin)}, {"account", g.admin.id}})
	for i, m := range s.managers {
		lines = append(lines, line{{"kind", "admin"}, {"tenant", s.id}, {"id", fmt.Sprintf("adm-%d", i+2)}, {"login", m.login},
			{"name", m.name}, {"role", string(usermerge.GroupManager)},
			{"scopes", []usermerge.Scope{{GroupID: m.group, Right: usermerge.Right(m.right)}}}})
	}
	for _, k := range store.RecordKinds() {
		lines = append(lines, sortedBy(g.recs[k], lineID)...)
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Reset()
		if err := l.appendJSON(&buf); err != nil {
			return err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func lineID(l line) string {
	for _, f := range l {
		if f.k == "id" {
			return f.v.(string)
		}
	}
	return ""
}

func sortedBy[T any](xs []T, key func(T) string) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}

func (g *gen) summary() Tenant {
	s := g.spec
	t := Tenant{ID: s.id, Name: s.name, Preset: s.preset, Accounts: len(g.accounts)}
	for _, group := range g.dups {
		var logins []string
		for _, a := range group {
			logins = append(logins, a.login)
		}
		t.Duplicates = append(t.Duplicates, logins)
	}
	t.Admins = append(t.Admins, AdminInfo{Login: s.admin.login, Role: string(usermerge.TenantAdmin),
		Scope: "whole tenant (also learner " + s.admin.learner + ")"})
	for _, m := range s.managers {
		t.Admins = append(t.Admins, AdminInfo{Login: m.login, Role: string(usermerge.GroupManager),
			Scope: m.right + " over " + g.groupOf[m.group]})
	}
	return t
}

// titleLines names the tenant's courses, lectures, paths, contents,
// quizzes, badges, polls and events, so that merge details show titles
// beside ids; in the order an export writes them (catalog, then id).
func titleLines(s *tenantSpec) []line {
	type item struct{ catalog, id, title string }
	var items []item
	add := func(catalog, id string) { items = append(items, item{catalog, id, titleOf(id)}) }
	for _, c := range s.courses {
		add("course", c.id)
		for i := 1; i <= c.lectures; i++ {
			id := lectureID(c.id, i)
			items = append(items, item{"lecture", id, fmt.Sprintf("%s, lesson %d", titleOf(c.id), i)})
		}
	}
	for _, p := range s.paths {
		add("path", p)
	}
	for _, c := range s.contents {
		add("content", c.id)
	}
	for _, q := range s.quizzes {
		add("quiz", q)
	}
	for _, b := range s.badges {
		add("badge", b)
	}
	for _, p := range s.polls {
		add("poll", p.id)
	}
	for _, e := range s.events {
		add("event", e)
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := strings.Compare(a.catalog, b.catalog); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]line, 0, len(items))
	for _, it := range items {
		out = append(out, line{{"kind", "title"}, {"tenant", s.id}, {"catalog", it.catalog}, {"id", it.id}, {"title", it.title}})
	}
	return slices.CompactFunc(out, func(a, b line) bool { return fmt.Sprint(a) == fmt.Sprint(b) })
}

// titleOf makes a title from a demo id: "c-first-aid" → "First aid",
// "ev-town-hall-spring" → "Town hall spring".
func titleOf(id string) string {
	_, rest, ok := strings.Cut(id, "-")
	if !ok {
		rest = id
	}
	words := strings.ReplaceAll(rest, "-", " ")
	if words == "" {
		return id
	}
	return strings.ToUpper(words[:1]) + words[1:]
}
