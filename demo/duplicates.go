package demo

import (
	"time"
)

// overlap gives the accounts of one duplicate person (group[0] is kept)
// records on the same items, so that a merge of them exercises every rule:
// courses and paths to combine, lectures with different percents, a badge
// held twice, competing suspended sessions, master states and poll answers,
// one event with one attendance, and attempts on one exam that interleave in
// time so that renumbering changes numbers. Each source also gets items only
// it holds.
func (g *gen) overlap(i int, group []*account) {
	s := g.spec
	keep, sources := group[0], group[1:]
	latest := group[len(group)-1].created
	minTo := keep.to
	for _, a := range group {
		minTo = earlier(minTo, a.to)
	}

	// Three shared courses: one completed by one account only, one completed
	// by all at different times (each gets a certificate), one completed by
	// none with different percents.
	var certCourse, plain []course
	for _, ci := range g.r.Perm(len(s.courses)) {
		if c := s.courses[ci]; c.cert && len(certCourse) == 0 {
			certCourse = append(certCourse, c)
		} else if c.lectures >= 4 && len(plain) < 3 {
			plain = append(plain, c)
		}
	}
	cA, cB, cC, cOnly := plain[0], certCourse[0], plain[1], plain[2]
	// Each rule must fire in every single merge (keep, source), so roles
	// are split between the kept account and all its sources.
	keepFirst := i%2 == 1 // odd groups: the kept account completes; even: the target gains it
	for _, a := range group {
		lp := make([]int, cA.lectures)
		if (a == keep) == keepFirst {
			for j := range lp {
				lp[j] = 100
			}
		} else {
			k := 1 + g.r.IntN(cA.lectures-2)
			for j := range k {
				lp[j] = 100
			}
			lp[k] = 10 + g.r.IntN(80)
		}
		g.addCourse(a, cA, lp, g.early(a))

		lp = make([]int, cB.lectures)
		for j := range lp {
			lp[j] = 100
		}
		g.addCourse(a, cB, lp, g.early(a))
	}
	keepAhead := g.r.IntN(2) == 0
	var keepPercent int
	for _, a := range group {
		lp := make([]int, cC.lectures)
		if (a == keep) == keepAhead {
			lp[0], lp[1] = 100, 50+g.r.IntN(45)
		} else {
			lp[0], lp[1], lp[2] = 20+g.r.IntN(70), 5+g.r.IntN(40), 10+g.r.IntN(50)
		}
		_, p := coursePercent(lp)
		for ; a != keep && p == keepPercent; _, p = coursePercent(lp) {
			lp[len(lp)-1] += 5 // the last lecture is not started in either pattern
		}
		if a == keep {
			keepPercent = p
		}
		g.addCourse(a, cC, lp, g.early(a))
	}
	for _, src := range sources {
		g.addCourse(src, cOnly, g.randomLectures(cOnly), g.early(src))
	}
	keep.has["course/"+cOnly.id] = true // stays the sources' own

	// Two shared learning paths: one completed by one account only; the
	// other completed by all (even groups) or by none (odd groups).
	paths := g.r.Perm(len(s.paths))
	pA, pB := s.paths[paths[0]], s.paths[paths[1]]
	keepDone := g.r.IntN(2) == 0
	for n, a := range group {
		enrolled := g.early(a)
		if (a == keep) == keepDone {
			done := g.inRange(a, enrolled.Add(day), enrolled.Add(150*day))
			g.addPath(a, pA, "completed", 100, enrolled, done)
			g.addCert(a, "path", pA, done)
		} else {
			g.addPath(a, pA, "in_progress", 15+g.r.IntN(70), enrolled, time.Time{})
		}
		enrolled = g.early(a)
		if i%2 == 0 {
			g.addPath(a, pB, "completed", 100, enrolled, g.inRange(a, enrolled.Add(day), enrolled.Add(150*day)))
		} else {
			g.addPath(a, pB, "in_progress", 10+25*n+g.r.IntN(20), enrolled, time.Time{})
		}
	}

	// The same badge on every account, acquired at different times; each
	// source also holds a badge the kept account lacks.
	badges := g.r.Perm(len(s.badges))
	for _, a := range group {
		g.addBadge(a, s.badges[badges[0]], g.in(a))
	}
	for n, src := range sources {
		only := s.badges[badges[1+n]]
		g.addBadge(src, only, g.in(src))
		keep.has["badge/"+only] = true
	}

	// A suspended session and a master-mode state on the same quiz each, at
	// different study times; answers to the same poll; one event.
	quizzes := g.r.Perm(len(s.quizzes))
	p := s.polls[g.r.IntN(len(s.polls))]
	answers := g.r.Perm(len(p.options))
	event := pick(g.r, s.events)
	keepAttended := g.r.IntN(2) == 0
	for n, a := range group {
		g.addSession(a, s.quizzes[quizzes[0]], g.in(a), false)
		g.addMaster(a, s.quizzes[quizzes[1]], g.in(a))
		g.addPoll(a, p, p.options[answers[n%len(answers)]], g.in(a))
		g.addEvent(a, event, g.in(a), (a == keep) == keepAttended)
	}

	// Attempts on one exam: the kept account tries first, then the accounts
	// take turns, so that numbering in time order across them changes.
	var exams []content
	for _, c := range s.contents {
		if c.typ == "exam" || c.typ == "vignette" {
			exams = append(exams, c)
		}
	}
	exam := pick(g.r, exams)
	plan := []*account{keep}
	for round := range 2 {
		for n, src := range sources {
			plan = append(plan, src)
			if round == 0 && n == 0 {
				plan = append(plan, keep)
			}
		}
	}
	times := append([]time.Time{g.between(keep.from, sources[0].created)},
		g.sortedTimes(len(plan)-1, latest.Add(time.Hour), minTo.Add(-time.Hour))...)
	nos := map[*account]int{}
	skill := 0.4 + 0.2*g.r.Float64()
	for n, a := range plan {
		nos[a]++
		a.has["content/"+exam.id] = true
		g.addAttempt(a, exam, nos[a], skill, times[n], false)
		skill += 0.05 + 0.08*g.r.Float64()
	}

	// Credits, external IDs and money on every account.
	for _, a := range group {
		g.addCredit(a, g.in(a))
		a.has["external"] = true
		g.addExternalID(a, "sso")
	}
	g.addExternalID(keep, "hris")
	last := s.externalSystems[len(s.externalSystems)-1].name
	for _, src := range sources {
		if i%2 == 0 || last == "lti" {
			g.addExternalID(src, last)
		}
	}
	for _, a := range group {
		var paid []course
		for _, c := range s.courses {
			if c.price > 0 && !a.has["course/"+c.id] {
				paid = append(paid, c)
			}
		}
		c := pick(g.r, paid)
		enrolled := g.early(a)
		g.purchase(a, c, enrolled.Add(-time.Duration(1+g.r.IntN(20))*time.Minute))
		g.addCourse(a, c, g.randomLectures(c), enrolled)
	}
}
