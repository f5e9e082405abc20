package demo

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"usermerge"
)

var idPrefix = map[usermerge.Kind]string{
	usermerge.KindSignIns:      "si",
	usermerge.KindAttempts:     "at",
	usermerge.KindBadges:       "bd",
	usermerge.KindCredits:      "cr",
	usermerge.KindCertificates: "ce",
	usermerge.KindCourses:      "cp",
	usermerge.KindLectures:     "lp",
	usermerge.KindPaths:        "pp",
	usermerge.KindQuizSessions: "qs",
	usermerge.KindMasterStates: "ms",
	usermerge.KindPolls:        "pr",
	usermerge.KindEvents:       "er",
	usermerge.KindExternalIDs:  "ex",
	usermerge.KindFinancial:    "fr",
}

// add appends a record of kind k held by a. Ids are numbered per kind in
// the order records are made, so sorting by id keeps that order.
func (g *gen) add(k usermerge.Kind, a *account, fields ...kv) {
	id := fmt.Sprintf("%s-%06d", idPrefix[k], len(g.recs[k])+1)
	l := append(line{{"kind", string(k)}, {"tenant", g.spec.id}, {"id", id}, {"account", a.id}}, fields...)
	g.recs[k] = append(g.recs[k], l)
}

// in returns a random time in a's activity window.
func (g *gen) in(a *account) time.Time { return g.between(a.from, a.to) }

// inRange returns a random time in [lo, hi] within a's activity window.
func (g *gen) inRange(a *account, lo, hi time.Time) time.Time {
	lo, hi = later(lo, a.from), earlier(hi, a.to)
	return g.between(lo, hi)
}

// early returns a random time in the first four fifths of a's window, so
// that something can follow it.
func (g *gen) early(a *account) time.Time {
	return g.between(a.from, a.from.Add(a.to.Sub(a.from)*4/5))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sortedTimes returns n sorted random times in [lo, hi].
func (g *gen) sortedTimes(n int, lo, hi time.Time) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = g.between(lo, hi)
	}
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	return ts
}

// choose picks up to k items of ids that a does not hold yet, and marks them held.
func (g *gen) choose(a *account, kind string, ids []string, k int) []string {
	var out []string
	for _, i := range g.r.Perm(len(ids)) {
		if len(out) == k {
			break
		}
		if key := kind + "/" + ids[i]; !a.has[key] {
			a.has[key] = true
			out = append(out, ids[i])
		}
	}
	return out
}

func (g *gen) course(id string) course {
	for _, c := range g.spec.courses {
		if c.id == id {
			return c
		}
	}
	panic("unknown course " + id)
}

func (g *gen) courseIDs() []string {
	ids := make([]string, len(g.spec.courses))
	for i, c := range g.spec.courses {
		ids[i] = c.id
	}
	return ids
}

func lectureID(courseID string, n int) string {
	return fmt.Sprintf("l-%s-%02d", strings.TrimPrefix(courseID, "c-"), n)
}

// coursePercent is the course's progress from its lectures' percents.
func coursePercent(lp []int) (status string, percent int) {
	sum, started, done := 0, 0, 0
	for _, p := range lp {
		sum += p
		if p > 0 {
			started++
		}
		if p == 100 {
			done++
		}
	}
	switch {
	case done == len(lp):
		return "completed", 100
	case started == 0:
		return "enrolled", 0
	}
	return "in_progress", min(99, max(1, int(math.Round(float64(sum)/float64(len(lp))))))
}

// addCourse writes an enrolment in c and the progress of its lectures: lp[i]
// is lecture i+1's percent, 0 meaning not started (no record). It returns
// the completion time, zero if the course is not complete.
func (g *gen) addCourse(a *account, c course, lp []int, enrolled time.Time) time.Time {
	a.has["course/"+c.id] = true
	var started []int
	for i, p := range lp {
		if p > 0 {
			started = append(started, i)
		}
	}
	times := g.sortedTimes(len(started), enrolled.Add(10*time.Minute), earlier(a.to, enrolled.Add(120*day)))
	status, percent := coursePercent(lp)
	fields := []kv{{"course_id", c.id}, {"status", status}, {"percent", percent}, {"enrolled_at", enrolled}}
	var completed time.Time
	if status == "completed" {
		completed = times[len(times)-1]
		fields = append(fields, kv{"completed_at", completed})
	}
	g.add(usermerge.KindCourses, a, fields...)
	for j, i := range started {
		g.add(usermerge.KindLectures, a, kv{"lecture_id", lectureID(c.id, i+1)}, kv{"course_id", c.id},
			kv{"percent", lp[i]}, kv{"last_access", times[j]})
	}
	if !completed.IsZero() && c.cert {
		g.addCert(a, "course", c.id, completed)
	}
	return completed
}

// randomLectures is a plausible lecture progress: complete, under way or not started.
func (g *gen) randomLectures(c course) []int {
	lp := make([]int, c.lectures)
	switch n := g.r.IntN(100); {
	case n < 45:
		for i := range lp {
			lp[i] = 100
		}
	case n < 85:
		k := g.r.IntN(c.lectures)
		for i := range k {
			lp[i] = 100
		}
		lp[k] = 5 + g.r.IntN(90)
	}
	return lp
}

func (g *gen) addPath(a *account, id, status string, percent int, enrolled, completed time.Time) {
	a.has["path/"+id] = true
	fields := []kv{{"path_id", id}, {"status", status}, {"percent", percent}, {"enrolled_at", enrolled}}
	if status == "completed" {
		fields = append(fields, kv{"completed_at", completed})
	}
	g.add(usermerge.KindPaths, a, fields...)
}

func (g *gen) addCert(a *account, subjectType, subject string, completed time.Time) {
	g.certSeq++
	issued := earlier(completed.Add(time.Duration(30+g.r.IntN(300))*time.Second), a.to)
	g.add(usermerge.KindCertificates, a, kv{"subject_type", subjectType}, kv{"subject_id", subject},
		kv{"number", fmt.Sprintf("%s-%d-%05d", g.spec.certPrefix, issued.Year(), g.certSeq)}, kv{"issued_at", issued})
}

func (g *gen) content(id string) content {
	for _, c := range g.spec.contents {
		if c.id == id {
			return c
		}
	}
	panic("unknown content " + id)
}

// addAttempt writes attempt no of c; skill (0..1) is how well it went.
func (g *gen) addAttempt(a *account, c content, no int, skill float64, started time.Time, abandoned bool) {
	pass := 0.6
	if c.typ == "exam" || c.typ == "vignette" {
		pass = 0.7
	}
	fields := []kv{{"content_id", c.id}, {"content_type", c.typ}, {"attempt_no", no}}
	if abandoned {
		fields = append(fields, kv{"score", 0.0}, kv{"max_score", float64(c.max)}, kv{"passed", false}, kv{"started_at", started})
	} else {
		score := math.Round(min(1, skill)*float64(c.max)*2) / 2
		if c.max <= 50 {
			score = math.Round(score)
		}
		finished := earlier(started.Add(time.Duration(90+g.r.IntN(40*60))*time.Second), a.to)
		fields = append(fields, kv{"score", score}, kv{"max_score", float64(c.max)},
			kv{"passed", score >= pass*float64(c.max)}, kv{"started_at", started}, kv{"finished_at", finished})
	}
	g.add(usermerge.KindAttempts, a, fields...)
}

func (g *gen) addBadge(a *account, id string, at time.Time) {
	a.has["badge/"+id] = true
	g.add(usermerge.KindBadges, a, kv{"badge_id", id}, kv{"acquired_at", at})
}

func (g *gen) addCredit(a *account, at time.Time) {
	points := []int{5, 10, 10, 15, 20, 25, 50}[g.r.IntN(7)]
	g.add(usermerge.KindCredits, a, kv{"points", points}, kv{"reason", pick(g.r, g.spec.creditReasons)}, kv{"awarded_at", at})
}

// answersJSON is the saved answers of a suspended quiz: where the learner
// stopped and what they had answered so far.
func (g *gen) answersJSON() string {
	n := 1 + g.r.IntN(8)
	var b strings.Builder
	fmt.Fprintf(&b, `{"position":%d,"answers":{`, n+1)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if g.r.IntN(6) == 0 {
			fmt.Fprintf(&b, `"q%d":["%c","%c"]`, i+1, 'A'+g.r.IntN(2), 'C'+g.r.IntN(2))
		} else {
			fmt.Fprintf(&b, `"q%d":"%c"`, i+1, 'A'+g.r.IntN(4))
		}
	}
	b.WriteString("}}")
	return b.String()
}

// resultsJSON is a master-mode state: questions mastered and still to go.
func (g *gen) resultsJSON() string {
	total := 8 + g.r.IntN(8)
	var mastered, remaining []string
	for i := range total {
		q := fmt.Sprintf(`"q%d"`, i+1)
		if g.r.IntN(100) < 55 {
			mastered = append(mastered, q)
		} else {
			remaining = append(remaining, q)
		}
	}
	return fmt.Sprintf(`{"round":%d,"mastered":[%s],"remaining":[%s]}`, 1+g.r.IntN(5),
		strings.Join(mastered, ","), strings.Join(remaining, ","))
}

func (g *gen) addSession(a *account, quiz string, last time.Time, graded bool) {
	a.has["quiz/"+quiz] = true
	fields := []kv{{"quiz_id", quiz}, {"answers", g.answersJSON()}, {"last_studied_at", last}}
	if graded {
		fields = append(fields, kv{"graded_at", earlier(last.Add(time.Duration(1+g.r.IntN(72))*time.Hour), a.to)})
	}
	g.add(usermerge.KindQuizSessions, a, fields...)
}

func (g *gen) addMaster(a *account, quiz string, last time.Time) {
	a.has["master/"+quiz] = true
	g.add(usermerge.KindMasterStates, a, kv{"quiz_id", quiz}, kv{"results", g.resultsJSON()}, kv{"last_studied_at", last})
}

func (g *gen) addPoll(a *account, p poll, answer string, at time.Time) {
	a.has["poll/"+p.id] = true
	g.add(usermerge.KindPolls, a, kv{"poll_id", p.id}, kv{"answer", answer}, kv{"answered_at", at})
}

func (g *gen) addEvent(a *account, id string, at time.Time, attended bool) {
	a.has["event/"+id] = true
	g.add(usermerge.KindEvents, a, kv{"event_id", id}, kv{"registered_at", at}, kv{"attended", attended})
}

// addExternalID gives a a new ID in system, unique within the tenant.
func (g *gen) addExternalID(a *account, system string) {
	for _, s := range g.spec.externalSystems {
		if s.name != system {
			continue
		}
		v := s.value(g.r)
		for g.extIDs[system+"/"+v] {
			v = s.value(g.r)
		}
		g.extIDs[system+"/"+v] = true
		g.add(usermerge.KindExternalIDs, a, kv{"system", system}, kv{"value", v})
		return
	}
	panic("unknown external system " + system)
}

// price converts a list price in US cents to the minor unit of currency
// (yen have none, so JPY amounts are whole yen).
func price(usCents int, currency string) int {
	switch currency {
	case "EUR":
		return int(math.Round(float64(usCents)*0.92/100))*100 - 1
	case "JPY":
		return int(math.Round(float64(usCents)*1.5/100)) * 100
	}
	return usCents
}

// purchase writes an order of a paid course, its payment and invoice, and
// sometimes a refund.
func (g *gen) purchase(a *account, c course, at time.Time) {
	g.docSeq++
	cur := pickWeighted(g.r, g.spec.currencies)
	amount := price(c.price, cur)
	n := g.docSeq
	g.add(usermerge.KindFinancial, a, kv{"type", "order"}, kv{"amount_cents", amount}, kv{"currency", cur},
		kv{"reference", fmt.Sprintf("ORD-%d %s", n, c.id)}, kv{"at", at})
	paid := earlier(at.Add(time.Duration(5+g.r.IntN(600))*time.Second), a.to)
	g.add(usermerge.KindFinancial, a, kv{"type", "payment"}, kv{"amount_cents", amount}, kv{"currency", cur},
		kv{"reference", fmt.Sprintf("PAY-%d", n)}, kv{"at", paid})
	g.add(usermerge.KindFinancial, a, kv{"type", "invoice"}, kv{"amount_cents", amount}, kv{"currency", cur},
		kv{"reference", fmt.Sprintf("INV-%d", n)}, kv{"at", earlier(paid.Add(time.Minute), a.to)})
	if g.r.IntN(12) == 0 {
		g.add(usermerge.KindFinancial, a, kv{"type", "refund"}, kv{"amount_cents", amount}, kv{"currency", cur},
			kv{"reference", fmt.Sprintf("RFD-%d", n)}, kv{"at", g.inRange(a, paid.Add(day), paid.Add(14*day))})
	}
	a.has["finance"] = true
}

// signIns writes n sign-ins spread over a's window, the last at a.to.
func (g *gen) signIns(a *account, n int) {
	times := append(g.sortedTimes(n-1, a.from, a.to), a.to)
	office := fmt.Sprintf("%s%d", g.spec.officeNet, 10+g.r.IntN(40))
	for _, t := range times {
		ip, client := office, a.client
		switch n := g.r.IntN(100); {
		case n < 20:
			ip, client = a.homeIP, a.mobile
		case n < 40:
			ip = a.homeIP
		}
		g.add(usermerge.KindSignIns, a, kv{"at", t}, kv{"ip", ip}, kv{"client", client})
	}
}

// activity writes an account's ordinary history: everything it has not
// already been given by the duplicate scenarios.
func (g *gen) activity(a *account) {
	s := g.spec
	n := 3 + g.r.IntN(38)
	if a.to.Sub(a.from) < 30*day {
		n = min(n, 3+g.r.IntN(5))
	}
	g.signIns(a, n)

	for _, id := range g.choose(a, "course", g.courseIDs(), 1+g.r.IntN(5)) {
		c := g.course(id)
		enrolled := g.early(a)
		if c.price > 0 && g.r.IntN(2) == 0 {
			g.purchase(a, c, enrolled.Add(-time.Duration(1+g.r.IntN(30))*time.Minute))
		}
		g.addCourse(a, c, g.randomLectures(c), enrolled)
	}
	if !a.has["finance"] && len(g.dupOf(a)) > 0 {
		var paid []course
		for _, c := range s.courses {
			if c.price > 0 {
				paid = append(paid, c)
			}
		}
		g.purchase(a, pick(g.r, paid), g.early(a))
	}

	for _, id := range g.choose(a, "path", s.paths, g.r.IntN(3)) {
		enrolled := g.early(a)
		switch n := g.r.IntN(10); {
		case n < 4:
			done := g.inRange(a, enrolled.Add(day), enrolled.Add(180*day))
			g.addPath(a, id, "completed", 100, enrolled, done)
			if g.r.IntN(10) < 7 {
				g.addCert(a, "path", id, done)
			}
		case n < 8:
			g.addPath(a, id, "in_progress", 5+g.r.IntN(90), enrolled, time.Time{})
		default:
			g.addPath(a, id, "enrolled", 0, enrolled, time.Time{})
		}
	}

	var contentIDs []string
	for _, c := range s.contents {
		contentIDs = append(contentIDs, c.id)
	}
	for _, id := range g.choose(a, "content", contentIDs, g.r.IntN(4)) {
		c := g.content(id)
		k := 1 + g.r.IntN(3)
		times := g.sortedTimes(k, a.from, a.to.Add(-time.Hour))
		skill := 0.35 + 0.55*g.r.Float64()
		for i, t := range times {
			abandoned := i == k-1 && k > 1 && g.r.IntN(8) == 0
			g.addAttempt(a, c, i+1, skill, t, abandoned)
			if skill >= 0.75 {
				break
			}
			skill += 0.08 + 0.15*g.r.Float64()
		}
	}

	for _, id := range g.choose(a, "badge", s.badges, g.r.IntN(5)) {
		g.addBadge(a, id, g.in(a))
	}
	for range g.r.IntN(6) {
		g.addCredit(a, g.in(a))
	}
	if g.r.IntN(100) < 35 {
		for _, q := range g.choose(a, "quiz", s.quizzes, 1) {
			g.addSession(a, q, g.in(a), false)
		}
	}
	if g.r.IntN(100) < 30 {
		for _, q := range g.choose(a, "quiz", s.quizzes, 1+g.r.IntN(2)) {
			g.addSession(a, q, g.early(a), true)
		}
	}
	for _, q := range g.choose(a, "master", s.quizzes, max(0, g.r.IntN(4)-1)) {
		g.addMaster(a, q, g.in(a))
	}
	pollIDs := make([]string, len(s.polls))
	for i, p := range s.polls {
		pollIDs[i] = p.id
	}
	for _, id := range g.choose(a, "poll", pollIDs, g.r.IntN(4)) {
		p := s.polls[slices.Index(pollIDs, id)]
		g.addPoll(a, p, pick(g.r, p.options), g.in(a))
	}
	for _, id := range g.choose(a, "event", s.events, g.r.IntN(4)) {
		g.addEvent(a, id, g.in(a), g.r.IntN(10) < 6)
	}
	if !a.has["external"] {
		for _, sys := range s.externalSystems {
			if g.r.Float64() < sys.share {
				g.addExternalID(a, sys.name)
			}
		}
	}
}

// dupOf returns the duplicate group a belongs to, nil for most accounts.
func (g *gen) dupOf(a *account) []*account {
	for _, group := range g.dups {
		if slices.Contains(group, a) {
			return group
		}
	}
	return nil
}
