package usermerge

import (
	"fmt"

	"usermerge/match"
)

// A tenant's matching rules as administrators read and set them: one
// descriptor per field the finder compares, so that the API, the settings
// screen and the command line name and explain them alike.

// MatchField describes one field the duplicate finder may compare.
type MatchField struct {
	Name  string `json:"name"` // as match.Rules.Fields names it
	Label string `json:"label"`
	Help  string `json:"help"`
}

// MatchFields are the fields of match.Rules, in the order screens list them.
var MatchFields = []MatchField{
	{match.FieldName, "Name", "Given and family name, with typos, initials, nicknames, transliteration and swapped order tolerated."},
	{match.FieldEmail, "Email", "The address normalised (case, and dots or +tags where the provider ignores them); close when the local parts agree."},
	{match.FieldBirthDate, "Birth date", "The same date; close when day and month are swapped, one part differs or the year is off by one."},
	{match.FieldPhone, "Phone", "The same number once spaces, dashes and the country code are set aside; close when the last digits agree."},
	{match.FieldEmployeeNumber, "Employee number", "The same number is strong evidence."},
	{match.FieldPostcode, "Postcode", "The same postcode, ignoring spaces and case; close when it nearly agrees."},
	{match.FieldExternalID, "External IDs", "The same ID of a system is strong evidence; two different IDs of one system strong counter-evidence."},
	{match.FieldSignIn, "Sign-ins", "Sign-ins from the same address, or with the same client, in the same period."},
	{match.FieldGroups, "Groups", "Membership of the same groups."},
}

// MatchFieldLabel is how an administrator reads a field's name.
func MatchFieldLabel(name string) string {
	for _, f := range MatchFields {
		if f.Name == name {
			return f.Label
		}
	}
	return name
}

// MatchingRulesAnswer is a tenant's matching rules with the fields they may
// name and the defaults: GET and PUT .../settings/matching, `duplicates
// rules --json`.
type MatchingRulesAnswer struct {
	Rules    match.Rules  `json:"rules"`
	Defaults match.Rules  `json:"defaults"`
	Fields   []MatchField `json:"fields"`
}

// NewMatchingRulesAnswer describes rules.
func NewMatchingRulesAnswer(r match.Rules) MatchingRulesAnswer {
	if r.Fields == nil {
		r.Fields = []string{}
	}
	return MatchingRulesAnswer{Rules: r, Defaults: match.DefaultRules(), Fields: MatchFields}
}

// Grades are the grades, strongest first.
var Grades = []match.Grade{match.GradeCertain, match.GradeProbable, match.GradePossible}

// GradeCounts gives every grade a count (0 when c has none).
func GradeCounts(c map[match.Grade]int) map[match.Grade]int {
	out := make(map[match.Grade]int, len(Grades))
	for _, g := range Grades {
		out[g] = c[g]
	}
	return out
}

// NormalRulesPreview gives a preview's counts and changes their empty
// forms, never null.
func NormalRulesPreview(p RulesPreview) RulesPreview {
	p.Current, p.Proposed = GradeCounts(p.Current), GradeCounts(p.Proposed)
	if p.Changes == nil {
		p.Changes = []RuleChange{}
	}
	return p
}

// GradeText is a grade as a sentence names it ("not suggested" for none).
func GradeText(g match.Grade) string {
	if g == "" {
		return "not suggested"
	}
	return string(g)
}

// Percent is a probability as a reader sees it: "99.9 %", never rounded up
// to 100 unless it is 1.
func Percent(p float64) string {
	switch {
	case p >= 1:
		return "100 %"
	case p >= 0.999:
		return fmt.Sprintf("%.2f %%", min(p*100, 99.99))
	}
	return fmt.Sprintf("%.1f %%", p*100)
}
