package usermerge

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RecentSignIn is how recent a sign-in counts as recent for the merge
// warnings: within the last 30 days.
const RecentSignIn = 30 * 24 * time.Hour

// Warning codes: what a preview or a comparison warns about. The code is for
// programs; the message is for the person about to merge.
const (
	WarnStillActive       = "still_active"            // the source is active and will be deactivated
	WarnRecentSignIn      = "recent_sign_in"          // the source signed in within RecentSignIn
	WarnBothRecent        = "both_signed_in_recently" // both accounts signed in within RecentSignIn
	WarnDifferentNames    = "different_names"
	WarnDifferentEmails   = "different_emails"
	WarnDifferentExternal = "different_external_ids" // one system, a different ID on each account
	WarnNoRevert          = "no_revert"              // the tenant does not allow reverts
)

// Warning is one thing an administrator should know before merging.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (w Warning) String() string { return w.Message }

// Messages are the warnings' messages, in order.
func Messages(ws []Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Message)
	}
	return out
}

// ExternalID is an account's identifier in another system (SSO, HR, …).
type ExternalID struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// AccountFacts is what the comparison knows of one account.
type AccountFacts struct {
	Account     Account        `json:"account"`
	Groups      []string       `json:"groups"` // each with its path up the tree: "Sales › Europe › Madrid"
	Jobs        []string       `json:"jobs"`
	LastSignIn  *time.Time     `json:"last_sign_in,omitempty"`
	ExternalIDs []ExternalID   `json:"external_ids"`
	Counts      map[Kind]int64 `json:"counts"`
}

// CompareRow is one line of the side-by-side comparison.
type CompareRow struct {
	Field   string `json:"field"` // name, email, …; a kind for record counts
	Label   string `json:"label"`
	Kept    string `json:"kept"`
	Other   string `json:"other"`
	Differs bool   `json:"differs"`
}

// Comparison sets the kept account beside one account to merge, with the
// warnings their differences raise.
type Comparison struct {
	Kept     AccountFacts `json:"kept"`
	Other    AccountFacts `json:"other"`
	Rows     []CompareRow `json:"rows"`
	Warnings []Warning    `json:"warnings,omitempty"`
}

// Compare sets kept beside other at now: the rows, and the warnings where
// the two may be different people.
func Compare(kept, other AccountFacts, now time.Time) Comparison {
	c := Comparison{Kept: kept, Other: other}
	row := func(field, label, k, o string, differs bool) {
		c.Rows = append(c.Rows, CompareRow{Field: field, Label: label, Kept: k, Other: o, Differs: differs})
	}
	ka, oa := kept.Account, other.Account
	row("login", "Login", ka.Login, oa.Login, false) // always differ: not a difference worth marking
	row("name", "Name", ka.Name, oa.Name, !sameName(ka.Name, oa.Name))
	row("email", "Email", ka.Email, oa.Email, !strings.EqualFold(strings.TrimSpace(ka.Email), strings.TrimSpace(oa.Email)))
	row("status", "Status", string(ka.Status), string(oa.Status), ka.Status != oa.Status)
	row("created", "Created", ka.CreatedAt.UTC().Format("2006-01-02"), oa.CreatedAt.UTC().Format("2006-01-02"), false)
	row("groups", "Groups", listOr(kept.Groups), listOr(other.Groups), !sameSet(kept.Groups, other.Groups))
	row("jobs", "Jobs", listOr(kept.Jobs), listOr(other.Jobs), !sameSet(kept.Jobs, other.Jobs))
	row("last_sign_in", "Last sign-in", signInText(kept.LastSignIn, now), signInText(other.LastSignIn, now), false)
	row("external_ids", "External IDs", externalText(kept.ExternalIDs), externalText(other.ExternalIDs),
		!sameSet(externalStrings(kept.ExternalIDs), externalStrings(other.ExternalIDs)))
	for _, k := range Kinds {
		kn, on := kept.Counts[k], other.Counts[k]
		row(string(k), k.Label(), fmt.Sprint(kn), fmt.Sprint(on), false)
	}
	c.Warnings = compareWarnings(kept, other, now)
	return c
}

// compareWarnings are the warnings that suggest two different people. A
// missing value (no email, never signed in) warns of nothing.
func compareWarnings(kept, other AccountFacts, now time.Time) []Warning {
	var out []Warning
	ka, oa := kept.Account, other.Account
	if ka.Name != "" && oa.Name != "" && !sameName(ka.Name, oa.Name) {
		out = append(out, Warning{WarnDifferentNames, fmt.Sprintf("the names differ: %s is %q, %s is %q", ka.Login, ka.Name, oa.Login, oa.Name)})
	}
	ke, oe := strings.TrimSpace(ka.Email), strings.TrimSpace(oa.Email)
	if ke != "" && oe != "" && !strings.EqualFold(ke, oe) {
		out = append(out, Warning{WarnDifferentEmails, fmt.Sprintf("the emails differ: %s has %s, %s has %s", ka.Login, ke, oa.Login, oe)})
	}
	if Recent(kept.LastSignIn, now) && Recent(other.LastSignIn, now) {
		out = append(out, Warning{WarnBothRecent, fmt.Sprintf("both accounts signed in within the last 30 days (%s %s, %s %s): two people may be using them",
			ka.Login, daysAgo(*kept.LastSignIn, now), oa.Login, daysAgo(*other.LastSignIn, now))})
	}
	for _, sys := range systemsOf(kept.ExternalIDs, other.ExternalIDs) {
		kv, ov := valuesIn(kept.ExternalIDs, sys), valuesIn(other.ExternalIDs, sys)
		if len(kv) > 0 && len(ov) > 0 && !sameSet(kv, ov) {
			name := sys
			if name == "" {
				name = "an unnamed system"
			}
			out = append(out, Warning{WarnDifferentExternal, fmt.Sprintf("different IDs in %s: %s has %s, %s has %s",
				name, ka.Login, strings.Join(kv, ", "), oa.Login, strings.Join(ov, ", "))})
		}
	}
	return out
}

// Recent reports whether a sign-in at t is within RecentSignIn of now.
func Recent(t *time.Time, now time.Time) bool { return t != nil && now.Sub(*t) < RecentSignIn }

func daysAgo(t, now time.Time) string {
	switch d := int(now.Sub(t).Hours() / 24); d {
	case 0:
		return "today"
	case 1:
		return "yesterday"
	default:
		return fmt.Sprintf("%d days ago", d)
	}
}

func signInText(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02") + " (" + daysAgo(*t, now) + ")"
}

// sameName compares names as a person would: case, spacing and accents
// aside ("María García" is "Maria Garcia", "Jürgen Müller" is "Juergen
// Mueller"), and an initial stands for any word it begins ("C. Okafor" is
// "Chinedu Okafor"). Nicknames ("Bob" for "Robert") still differ.
func sameName(a, b string) bool {
	fa, fb := strings.Fields(foldName(a)), strings.Fields(foldName(b))
	if len(fa) != len(fb) {
		return false
	}
	for i := range fa {
		x, y := fa[i], fb[i]
		if x == y || initialOf(x, y) || initialOf(y, x) {
			continue
		}
		return false
	}
	return true
}

// initialOf reports whether x is an initial ("c." or "c") of the word y.
func initialOf(x, y string) bool {
	x = strings.TrimSuffix(x, ".")
	return len(x) == 1 && len(y) > 1 && strings.HasPrefix(y, x)
}

var accentFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a", "ą", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "ę", "e", "ě", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o", "ø", "o", "ő", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u", "ű", "u", "ů", "u",
	"ñ", "n", "ń", "n", "ç", "c", "č", "c", "ć", "c", "š", "s", "ś", "s", "ž", "z", "ź", "z", "ż", "z",
	"ý", "y", "ÿ", "y", "ł", "l", "ř", "r", "ß", "ss",
	// German transliterations meet the folded umlauts.
	"ae", "a", "oe", "o", "ue", "u",
)

// foldName lowers, folds accents, drops hyphens and apostrophes ("Al-Farsi"
// is "Alfarsi", "O'Brien" "OBrien") and doubled letters ("Mohammed" is
// "Mohamed"): spelling variants of one name, not two people.
func foldName(s string) string {
	s = accentFold.Replace(strings.ToLower(s))
	var b strings.Builder
	var last rune
	for _, r := range s {
		switch {
		case r == '-' || r == '\'' || r == '’':
			continue
		case r == last && r != ' ':
			continue
		}
		b.WriteRune(r)
		last = r
	}
	return b.String()
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func listOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

func externalStrings(ids []ExternalID) []string {
	var out []string
	for _, x := range ids {
		out = append(out, x.System+": "+x.Value)
	}
	return out
}

func externalText(ids []ExternalID) string { return listOr(externalStrings(ids)) }

func systemsOf(a, b []ExternalID) []string {
	var out []string
	for _, x := range append(slices.Clone(a), b...) {
		if !slices.Contains(out, x.System) {
			out = append(out, x.System)
		}
	}
	slices.Sort(out)
	return out
}

func valuesIn(ids []ExternalID, system string) []string {
	var out []string
	for _, x := range ids {
		if x.System == system {
			out = append(out, x.Value)
		}
	}
	slices.Sort(out)
	return out
}
