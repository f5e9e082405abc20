package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
)

var duplicatesCmd = &command{
	name:    "duplicates",
	usage:   "duplicates [--grade G] [--limit N] [--offset N] [--no-run] | duplicates show|dismiss|dismissals|check|run|rules ...",
	summary: "find likely duplicate accounts, review and dismiss them",
	help: `Without a subcommand, lists the tenant's likely duplicates in your scope,
strongest first: each suggestion's grade (certain, probable, possible), the
probability that its accounts are one person, the account to keep and why,
and the accounts to merge into it. When the tenant's data changed since the
last detection run, a run over what changed comes first (with its progress
on a terminal); --no-run lists the last run's suggestions as they are.

  duplicates show ID        one suggestion with its explanation: each field
                            compared, agreed, close, disagreed or missing,
                            and the weight it gave
  duplicates dismiss ID     "not the same person": every pair of the
                            suggestion's accounts is remembered, with who and
                            when, and never suggested together again
  duplicates dismiss A B    the same for two accounts (ids, logins or
                            external IDs)
  duplicates dismissals     the dismissed pairs, newest first
  duplicates check ACCOUNT  the likely duplicates of one existing account
  duplicates check --name N [--email E] [--login L] [--birth-date D]
                   [--phone P] [--employee-number N] [--postcode P]
                   [--external-id SYSTEM:VALUE] [--attr KEY=VALUE]
                            the likely duplicates of an account not yet
                            created, as a platform checks before creating it
                            (before any run, scored with the default parameters)
  duplicates run [--full]   a detection run now: over what changed since the
                            last run, or with --full over every account
  duplicates rules          the tenant's matching rules; with --fields,
                            --certain, --probable, --possible, --max-block,
                            --strip-plus-tags or --defaults, what the change
                            would do to the latest run's suggestions
                            (nothing is saved); add --yes to save it (tenant
                            administrators)

Open a suggestion as a merge with: usermerge merge --target KEEP SOURCE...

Examples:
  usermerge --tenant acme --as admin duplicates
  usermerge --tenant acme --as admin duplicates --grade certain --json
  usermerge --tenant acme --as admin duplicates run --full
  usermerge --tenant acme --as admin duplicates check --name "Ann Lee" --email ann.lee@example.com
  usermerge --tenant acme --as admin duplicates rules
  usermerge --tenant acme --as admin duplicates rules --probable 0.9 --yes
  usermerge --tenant acme --as admin duplicates dismiss <ID from duplicates>`,
	db: existingDB, tenant: true, admin: true, maxArgs: 3,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &dupOptions{}
		fs.StringVar(&o.grade, "grade", "", "list only suggestions of `GRADE`: certain, probable or possible")
		fs.IntVar(&o.limit, "limit", 50, "list at most `N` suggestions (1 to 500)")
		fs.IntVar(&o.offset, "offset", 0, "skip the first `N` suggestions")
		fs.BoolVar(&o.noRun, "no-run", false, "list the last run's suggestions without running detection first")
		fs.BoolVar(&o.full, "full", false, "with run: compare every account, not only those changed since the last run")
		fs.StringVar(&o.login, "login", "", "with check: the new account's `LOGIN`")
		fs.StringVar(&o.name, "name", "", "with check: the new account's `NAME`")
		fs.StringVar(&o.email, "email", "", "with check: the new account's `EMAIL`")
		o.attrs = map[string]string{}
		for _, k := range usermerge.KnownAttributes {
			flagName := strings.ReplaceAll(k.Name, "_", "-")
			fs.Func(flagName, "with check: the new account's "+strings.ToLower(k.Label), func(v string) error {
				o.attrs[k.Name] = v
				return nil
			})
		}
		fs.Func("attr", "with check: a profile attribute `KEY=VALUE` of the new account; repeatable", func(v string) error {
			k, val, ok := strings.Cut(v, "=")
			if !ok || k == "" {
				return fmt.Errorf("write the attribute as KEY=VALUE, such as staff_id=E-42")
			}
			o.attrs[k] = val
			return nil
		})
		fs.Func("external-id", "with check: an external ID `SYSTEM:VALUE` of the new account; repeatable", func(v string) error {
			sys, val, ok := strings.Cut(v, ":")
			if !ok || sys == "" || val == "" {
				return fmt.Errorf("write the external ID as SYSTEM:VALUE, such as sso:ann-42")
			}
			o.extIDs = append(o.extIDs, usermerge.ExternalID{System: sys, Value: val})
			return nil
		})
		fs.StringVar(&o.fields, "fields", "", "with rules: the fields compared, `F,...` (name, email, birth_date, phone, employee_number, postcode, external_id, sign_in, groups)")
		fs.StringVar(&o.certain, "certain", "", "with rules: the least probability `P` (0 to 1) of a certain suggestion")
		fs.StringVar(&o.probable, "probable", "", "with rules: the least probability `P` of a probable suggestion")
		fs.StringVar(&o.possible, "possible", "", "with rules: the least probability `P` of a possible suggestion")
		fs.StringVar(&o.maxBlock, "max-block", "", "with rules: the most accounts `N` one blocking key compares")
		fs.StringVar(&o.stripTags, "strip-plus-tags", "", "with rules: ignore +tags in every email (`true` or false)")
		fs.BoolVar(&o.defaults, "defaults", false, "with rules: start from the default rules")
		fs.BoolVar(&o.yes, "yes", false, "with rules: save the change (without it, only its preview is shown)")
		return func(ctx context.Context, m *Main, args []string) error {
			sub := ""
			if len(args) > 0 {
				sub, args = args[0], args[1:]
			}
			switch sub {
			case "":
				return m.listDuplicates(ctx, o)
			case "show":
				return m.showDuplicate(ctx, args)
			case "dismiss":
				return m.dismissDuplicate(ctx, args)
			case "dismissals":
				return m.listDismissals(ctx, o, args)
			case "check":
				return m.checkDuplicates(ctx, o, args)
			case "run":
				if len(args) > 0 {
					return usageError("duplicates run takes no arguments (--full compares every account)")
				}
				run, err := m.detect(ctx, o.full)
				if err != nil {
					return err
				}
				return m.emit(run, func(w io.Writer) error { _, err := fmt.Fprintln(w, runLine(run)); return err })
			case "rules":
				return m.duplicateRules(ctx, o, args)
			}
			return usageError("duplicates: unknown subcommand %q; the subcommands are show, dismiss, dismissals, check, run and rules", sub)
		}
	},
}

// dupOptions are the duplicates command's flags.
type dupOptions struct {
	grade                                         string
	limit, offset                                 int
	noRun, full                                   bool
	login, name, email                            string
	attrs                                         map[string]string
	extIDs                                        []usermerge.ExternalID
	fields, certain, probable, possible, maxBlock string
	stripTags                                     string
	defaults, yes                                 bool
}

func parseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%s must be a suggestion's number from `usermerge duplicates`, not %q", what, s)
	}
	return id, nil
}

// detect runs detection, showing its progress on a terminal.
func (m *Main) detect(ctx context.Context, full bool) (usermerge.DetectionRun, error) {
	var progress func(usermerge.DetectionRun)
	shown := false
	if m.isTerminal(m.Stderr) {
		var last time.Time
		progress = func(r usermerge.DetectionRun) {
			if r.Status == usermerge.RunRunning && time.Since(last) < 200*time.Millisecond {
				return
			}
			last = time.Now()
			shown = true
			fmt.Fprintf(m.Stderr, "\r\033[Kduplicates: %s", progressText(r))
		}
	}
	run, err := m.eng.Detect(ctx, m.caller, engine.DetectOptions{Full: full}, progress)
	if shown {
		fmt.Fprintln(m.Stderr)
	}
	if err != nil {
		return run, err
	}
	if run.Status != usermerge.RunDone {
		msg := run.Error
		if msg == "" {
			msg = "it ended " + run.Status
		}
		return run, usermerge.Errorf(usermerge.Conflict, "detection_"+run.Status, "detection run %d did not finish: %s", run.ID, msg)
	}
	return run, nil
}

func progressText(r usermerge.DetectionRun) string {
	phase := r.Phase
	if phase == "" {
		phase = r.Status
	}
	if r.Total > 0 {
		return fmt.Sprintf("%s %d of %d (%d %%)", phase, r.Done, r.Total, r.Done*100/r.Total)
	}
	return phase
}

// runLine says what a finished run did.
func runLine(r usermerge.DetectionRun) string {
	scope := "every account"
	if r.Scope == "changed" {
		scope = "the accounts changed since the last run"
	}
	return fmt.Sprintf("Detection run %d over %s: %d accounts, %d pairs compared, %d suggestions.", r.ID, scope,
		r.Stats.Records, r.Stats.PairsCompared, r.Suggestions)
}

func (m *Main) listDuplicates(ctx context.Context, o *dupOptions) error {
	grade := match.Grade(o.grade)
	if o.grade != "" && !slices.Contains(usermerge.Grades, grade) {
		return usageError("--grade must be certain, probable or possible, not %q", o.grade)
	}
	if o.limit < 1 || o.limit > 500 || o.offset < 0 {
		return usageError("--limit must be from 1 to 500 and --offset at least 0")
	}
	if !o.noRun {
		stale, err := m.eng.DuplicatesStale(ctx, m.caller)
		if err != nil {
			return err
		}
		if stale {
			fmt.Fprintln(m.notes(), "The data changed since the last detection run: running detection first.")
			run, err := m.detect(ctx, false)
			switch usermerge.ErrorCode(err) {
			case "":
				fmt.Fprintln(m.notes(), runLine(run))
			case usermerge.Forbidden, usermerge.Conflict:
				// Someone else's run, or no right to start one: the queue
				// as the last run left it.
				fmt.Fprintf(m.notes(), "No run now (%s); listing the last run's suggestions.\n", usermerge.ErrorMessage(err))
			default:
				return err
			}
		}
	}
	page, err := m.eng.Suggestions(ctx, m.caller, usermerge.SuggestionFilter{Grade: grade, Limit: o.limit, Offset: o.offset})
	if err != nil {
		return err
	}
	page.Counts = usermerge.GradeCounts(page.Counts)
	if page.Suggestions == nil {
		page.Suggestions = []usermerge.DuplicateSuggestion{}
	}
	return m.emit(page, func(w io.Writer) error { return writeSuggestions(w, page, grade, o.offset) })
}

func writeSuggestions(w io.Writer, page usermerge.SuggestionPage, grade match.Grade, offset int) error {
	if len(page.Suggestions) == 0 {
		what := "likely duplicates"
		if grade != "" {
			what = string(grade) + " suggestions"
		}
		_, err := fmt.Fprintf(w, "No %s in your scope.\n", what)
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tGRADE\tPROBABILITY\tKEEP\tMERGE\tWHY KEEP")
	for _, s := range page.Suggestions {
		var keep string
		var merge []string
		for _, a := range s.Accounts {
			if a.ID == s.Keep {
				keep = who(a.Account)
			} else {
				merge = append(merge, who(a.Account))
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Grade, usermerge.Percent(s.Probability), keep, strings.Join(merge, ", "), s.KeepReason)
	}
	tw.Flush()
	var counts []string
	for _, g := range usermerge.Grades {
		counts = append(counts, fmt.Sprintf("%s %d", g, page.Counts[g]))
	}
	of := fmt.Sprint(page.Total)
	if grade != "" {
		of += " " + string(grade)
	}
	fmt.Fprintf(w, "\nSuggestions %d to %d of %s (in all: %s).", offset+1, offset+len(page.Suggestions), of, strings.Join(counts, ", "))
	if page.Stale {
		fmt.Fprint(w, " The data changed since this run.")
	}
	_, err := fmt.Fprintln(w, "\nExplain one: usermerge duplicates show ID. Merge one: usermerge merge --target KEEP SOURCE.")
	return err
}

func (m *Main) showDuplicate(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("duplicates show takes one suggestion's number")
	}
	id, err := parseID("the suggestion", args[0])
	if err != nil {
		return err
	}
	s, err := m.eng.Suggestion(ctx, m.caller, id)
	if err != nil {
		return err
	}
	return m.emit(s, func(w io.Writer) error { return writeSuggestion(w, s) })
}

func writeSuggestion(w io.Writer, s usermerge.DuplicateSuggestion) error {
	fmt.Fprintf(w, "Suggestion %d: %s, %s likely the same person.\n", s.ID, s.Grade, usermerge.Percent(s.Probability))
	logins := map[string]string{}
	for _, a := range s.Accounts {
		logins[a.ID] = a.Login
		role := "merge"
		if a.ID == s.Keep {
			role = "keep "
		}
		fmt.Fprintf(w, "  %s %s, %s", role, who(a.Account), a.Email)
		for _, k := range usermerge.AttributeKeys(a.Attributes) {
			fmt.Fprintf(w, ", %s %s", strings.ToLower(usermerge.AttributeLabel(k)), a.Attributes[k])
		}
		fmt.Fprintln(w)
	}
	if s.KeepReason != "" {
		fmt.Fprintf(w, "Keep %s: %s\n", logins[s.Keep], s.KeepReason)
	}
	for _, p := range s.Pairs {
		a, b := or(logins[p.A], p.A), or(logins[p.B], p.B)
		fmt.Fprintf(w, "\n%s and %s: %s (weight %+.1f)\n", a, b, usermerge.Percent(p.Probability), p.Weight)
		tw := newTable(w)
		fmt.Fprintf(tw, "  FIELD\tOUTCOME\t%s\t%s\tWEIGHT\n", strings.ToUpper(a), strings.ToUpper(b))
		for _, e := range p.Evidence {
			outcome := e.Outcome
			if words := match.LevelWords(e.Field, e.Level); words != "" {
				outcome += ": " + words
			} else if e.Outcome == "close" && e.Similarity > 0 {
				outcome = fmt.Sprintf("close (%.0f%%)", e.Similarity*100)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%+.1f\n", e.Field, outcome, or(e.A, "-"), or(e.B, "-"), e.Weight)
		}
		tw.Flush()
	}
	_, err := fmt.Fprintf(w, "\nA weight is the evidence in bits: positive for the same person, negative against.\n")
	return err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (m *Main) dismissDuplicate(ctx context.Context, args []string) error {
	switch len(args) {
	case 1:
		id, err := parseID("the suggestion", args[0])
		if err != nil {
			return err
		}
		ds, err := m.eng.DismissSuggestion(ctx, m.caller, id)
		if err != nil {
			return err
		}
		if ds == nil {
			ds = []usermerge.Dismissal{}
		}
		return m.emit(usermerge.DismissalsAnswer{Dismissals: ds}, func(w io.Writer) error {
			fmt.Fprintf(w, "Dismissed suggestion %d as not the same person: ", id)
			var pairs []string
			for _, d := range ds {
				pairs = append(pairs, d.A+" and "+d.B)
			}
			_, err := fmt.Fprintf(w, "%s will not be suggested together again.\n", strings.Join(pairs, ", "))
			return err
		})
	case 2:
		if args[0] == args[1] {
			return usageError("duplicates dismiss: name two different accounts")
		}
		d, err := m.eng.DismissPair(ctx, m.caller, args[0], args[1])
		if err != nil {
			return err
		}
		return m.emit(d, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "Dismissed %s and %s as not the same person: they will not be suggested together again.\n", d.A, d.B)
			return err
		})
	}
	return usageError("duplicates dismiss takes a suggestion's number, or two accounts")
}

func (m *Main) listDismissals(ctx context.Context, o *dupOptions, args []string) error {
	if len(args) > 0 {
		return usageError("duplicates dismissals takes no arguments")
	}
	if o.limit < 1 || o.limit > 500 || o.offset < 0 {
		return usageError("--limit must be from 1 to 500 and --offset at least 0")
	}
	ds, err := m.eng.Dismissals(ctx, m.caller, o.limit, o.offset)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []usermerge.Dismissal{}
	}
	return m.emit(usermerge.DismissalsAnswer{Dismissals: ds}, func(w io.Writer) error {
		if len(ds) == 0 {
			_, err := fmt.Fprintln(w, "No pair has been dismissed.")
			return err
		}
		tw := newTable(w)
		fmt.Fprintln(tw, "A\tB\tBY\tAT")
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.A, d.B, d.By, fmtTime(d.At))
		}
		return tw.Flush()
	})
}

func (m *Main) checkDuplicates(ctx context.Context, o *dupOptions, args []string) error {
	described := o.login != "" || o.name != "" || o.email != "" || len(o.attrs) > 0 || len(o.extIDs) > 0
	var ref string
	var cand usermerge.Account
	switch {
	case len(args) == 1 && !described:
		ref = args[0]
	case len(args) == 0 && described:
		if err := usermerge.ValidateAttributes(o.attrs); err != nil {
			return err
		}
		cand = usermerge.Account{TenantID: m.caller.Tenant, Login: o.login, Name: o.name, Email: o.email,
			Attributes: usermerge.CompactAttributes(o.attrs), ExternalIDs: o.extIDs}
	default:
		return usageError("duplicates check takes an existing account, or a new one's --name, --email and other facts, not both")
	}
	// Before any run the check scores with the default parameters, as
	// the API does; it runs no detection first.
	list, err := m.eng.CheckAccount(ctx, m.caller, ref, cand)
	if err != nil {
		return err
	}
	if list == nil {
		list = []usermerge.DuplicateCandidate{}
	}
	return m.emit(usermerge.CandidatesAnswer{Candidates: list}, func(w io.Writer) error {
		if len(list) == 0 {
			_, err := fmt.Fprintln(w, "No likely duplicate in your scope.")
			return err
		}
		tw := newTable(w)
		fmt.Fprintln(tw, "ACCOUNT\tEMAIL\tGRADE\tPROBABILITY\tAGREED ON")
		for _, c := range list {
			var agreed []string
			for _, e := range c.Pair.Evidence {
				if e.Outcome == "agreed" || e.Outcome == "close" {
					agreed = append(agreed, e.Field)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", who(c.Account.Account), c.Account.Email, c.Grade, usermerge.Percent(c.Probability), strings.Join(agreed, ", "))
		}
		return tw.Flush()
	})
}

// changedRules applies the rules flags to the current rules; changed
// reports whether any was given.
func (o *dupOptions) changedRules(cur match.Rules) (match.Rules, bool, error) {
	r := cur
	r.Fields = slices.Clone(cur.Fields)
	changed := false
	if o.defaults {
		r, changed = match.DefaultRules(), true
	}
	if o.fields != "" {
		r.Fields, changed = nil, true
		for _, f := range strings.Split(o.fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				r.Fields = append(r.Fields, f)
			}
		}
	}
	for _, t := range []struct {
		flag, v string
		to      *float64
	}{{"certain", o.certain, &r.Certain}, {"probable", o.probable, &r.Probable}, {"possible", o.possible, &r.Possible}} {
		if t.v == "" {
			continue
		}
		x, err := strconv.ParseFloat(t.v, 64)
		if err != nil {
			return r, false, usageError("--%s must be a probability between 0 and 1, such as 0.95, not %q", t.flag, t.v)
		}
		*t.to, changed = x, true
	}
	if o.maxBlock != "" {
		n, err := strconv.Atoi(o.maxBlock)
		if err != nil {
			return r, false, usageError("--max-block must be a whole number of accounts, not %q", o.maxBlock)
		}
		r.MaxBlock, changed = n, true
	}
	if o.stripTags != "" {
		b, err := strconv.ParseBool(o.stripTags)
		if err != nil {
			return r, false, usageError("--strip-plus-tags must be true or false, not %q", o.stripTags)
		}
		r.StripPlusTags, changed = b, true
	}
	return r, changed, nil
}

func (m *Main) duplicateRules(ctx context.Context, o *dupOptions, args []string) error {
	if len(args) > 0 {
		return usageError("duplicates rules takes flags, not arguments (--probable 0.9)")
	}
	cur, err := m.eng.MatchingRules(ctx, m.caller)
	if err != nil {
		return err
	}
	rules, changed, err := o.changedRules(cur)
	if err != nil {
		return err
	}
	if !changed {
		if o.yes {
			return usageError("duplicates rules --yes saves a change: name it (--probable 0.9, --fields name,email, --defaults)")
		}
		return m.emit(usermerge.NewMatchingRulesAnswer(cur), func(w io.Writer) error { return writeRules(w, cur) })
	}
	if !o.yes {
		p, err := m.eng.PreviewMatchingRules(ctx, m.caller, rules)
		if err != nil {
			return err
		}
		p = usermerge.NormalRulesPreview(p)
		return m.emit(p, func(w io.Writer) error {
			writeRulesPreview(w, p)
			_, err := fmt.Fprintln(w, "\nNothing was saved; run it again with --yes to save these rules.")
			return err
		})
	}
	saved, err := m.eng.UpdateMatchingRules(ctx, m.caller, rules)
	if err != nil {
		return err
	}
	return m.emit(usermerge.NewMatchingRulesAnswer(saved), func(w io.Writer) error {
		fmt.Fprintln(w, "Saved the matching rules; the next detection run applies them.")
		return writeRules(w, saved)
	})
}

func writeRules(w io.Writer, r match.Rules) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "FIELD\tCOMPARED\tHOW")
	for _, f := range usermerge.MatchFields {
		on := "no"
		if slices.Contains(r.Fields, f.Name) {
			on = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, on, f.Help)
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "\nGrades: certain from %g, probable from %g, possible from %g. Largest block %d accounts. Ignore +tags in every email: %t.\n",
		r.Certain, r.Probable, r.Possible, r.MaxBlock, r.StripPlusTags)
	return err
}

func writeRulesPreview(w io.Writer, p usermerge.RulesPreview) {
	fmt.Fprintln(w, "What these rules would change in the suggestions:")
	tw := newTable(w)
	fmt.Fprintln(tw, "  GRADE\tNOW\tWITH THESE RULES")
	for _, g := range usermerge.Grades {
		fmt.Fprintf(tw, "  %s\t%d\t%d\n", g, p.Current[g], p.Proposed[g])
	}
	tw.Flush()
	if len(p.Changes) > 0 {
		fmt.Fprintln(w, "For example:")
		for _, c := range p.Changes {
			fmt.Fprintf(w, "  %s: %s -> %s\n", strings.Join(c.Accounts, ", "), usermerge.GradeText(c.From), usermerge.GradeText(c.To))
		}
	}
}
