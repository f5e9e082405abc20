package usermerge

// The shapes of answers that the API and the CLI's --json both give, so
// that a script can switch between them: one type per answer, used by both.

// AccountsAnswer is an account search: GET .../accounts, `accounts --json`.
type AccountsAnswer struct {
	Accounts []AccountSummary `json:"accounts"`
}

// MergesAnswer is the merges one merge call made: POST .../merges,
// `merge --json`.
type MergesAnswer struct {
	Merges []Merge `json:"merges"`
}

// SettingsAnswer is a tenant's settings with what each setting means:
// GET and PUT .../settings, `settings --json`.
type SettingsAnswer struct {
	Tenant   string        `json:"tenant"`
	Name     string        `json:"name"`
	Preset   string        `json:"preset"`
	Policy   Policy        `json:"policy"`
	Presets  []string      `json:"presets"`
	Settings []SettingHelp `json:"settings"`
}

// SettingHelp is one policy setting of a SettingsAnswer.
type SettingHelp struct {
	Name   string `json:"name"`
	Values string `json:"values"`
	Help   string `json:"help"`
}

// NewSettingsAnswer describes tenant t's settings.
func NewSettingsAnswer(t Tenant) SettingsAnswer {
	a := SettingsAnswer{Tenant: t.ID, Name: t.Name, Preset: t.Preset(), Policy: t.Policy, Presets: PresetNames}
	for _, s := range PolicySettings {
		a.Settings = append(a.Settings, SettingHelp{s.Name, s.Values, s.Help})
	}
	return a
}

// TokenNote goes with a new API token wherever it is shown.
const TokenNote = "this is the only time the token is shown; store it now"

// DismissalsAnswer lists dismissed pairs: GET .../dismissals, POST
// .../duplicates/{id}/dismiss, `duplicates dismiss --json`.
type DismissalsAnswer struct {
	Dismissals []Dismissal `json:"dismissals"`
}

// CandidatesAnswer is a check of one account: POST .../duplicates/check,
// `duplicates check --json`.
type CandidatesAnswer struct {
	Candidates []DuplicateCandidate `json:"candidates"`
}
