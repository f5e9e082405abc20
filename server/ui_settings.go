package server

import (
	"net/http"
	"strings"

	"usermerge"
	"usermerge/engine"
)

// Tenant settings: a preset in one step, or each rule on its own, each with
// a sentence saying what it does.

type settingsPage struct {
	uiPage
	Preset   string
	Presets  []presetView
	Rules    []ruleView
	ReadOnly bool
	Confirm  *settingsConfirm
	// Matching is the "Matching rules" section (ui_matching.go).
	Matching      *matchingView
	MatchingError string
}

// settingsConfirm asks to confirm a change that makes active merges
// irreversible; it resends the same form with the confirmation.
type settingsConfirm struct {
	Text   string
	Fields []hiddenField
}

type hiddenField struct{ Name, Value string }

type presetView struct {
	Name, Title, Text string
	Current           bool
}

type ruleView struct {
	Name, Label, Help string
	Options           []ruleOption
}

type ruleOption struct {
	Value, Label, Text string
	Checked            bool
}

var presetTitles = map[string]string{"learningbox": "learningBOX", "schoox": "Schoox"}

// presetText describes a preset's policy in one sentence.
func presetText(p usermerge.Policy) string {
	var parts []string
	if p.Badges == usermerge.BadgesTransfer {
		parts = append(parts, "badges move to the kept account, which takes the source's acquisition time where both hold one")
	} else {
		parts = append(parts, "badges stay with the merged account")
	}
	if p.Credits == usermerge.CreditsTransfer {
		parts = append(parts, "credits move")
	} else {
		parts = append(parts, "credits stay with the merged account")
	}
	if p.Certificates == usermerge.CertificatesTransfer {
		parts = append(parts, "certificates move and are all kept")
	} else {
		parts = append(parts, "certificates are not merged")
	}
	s := strings.Join(parts, "; ")
	if p.RevertAllowed {
		s += "; merges can be reverted exactly."
	} else {
		s += "; merges cannot be reverted."
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func settingsView(p usermerge.Policy) []ruleView {
	yes := func(b bool) string { return map[bool]string{true: "true", false: "false"}[b] }
	rule := func(name, label, help, current string, opts ...ruleOption) ruleView {
		for i := range opts {
			opts[i].Checked = opts[i].Value == current
		}
		return ruleView{Name: name, Label: label, Help: help, Options: opts}
	}
	return []ruleView{
		rule("merge_enabled", "Merging", "Whether administrators of this tenant may merge accounts at all.", yes(p.MergeEnabled),
			ruleOption{Value: "true", Label: "Allowed", Text: "Administrators with the merge-edit right may merge accounts in their scope."},
			ruleOption{Value: "false", Label: "Switched off", Text: "Nobody can merge accounts in this tenant; the merge list and details stay readable."}),
		rule("revert_allowed", "Reverting merges", "Whether a merge can be undone from the merge list.", yes(p.RevertAllowed),
			ruleOption{Value: "true", Label: "Allowed", Text: "Administrators with the merge-edit right can revert merges exactly from the merge list."},
			ruleOption{Value: "false", Label: "Not allowed", Text: "Every merge is irreversible once made (as in Schoox); the merge screen says so before merging."}),
		rule("badges", "Badges", "What happens to the merged account's badges.", string(p.Badges),
			ruleOption{Value: string(usermerge.BadgesTransfer), Label: "Transfer (learningBOX)", Text: "Badges move to the kept account. Where both hold the same badge, the kept account takes the source's acquisition time and the source's copy is retired."},
			ruleOption{Value: string(usermerge.BadgesStay), Label: "Stay with the merged account (Schoox)", Text: "The merged account keeps its badges; the kept account's badges do not change."}),
		rule("credits", "Credits / points", "What happens to the merged account's credits and points.", string(p.Credits),
			ruleOption{Value: string(usermerge.CreditsStay), Label: "Stay with the merged account (Schoox)", Text: "The merged account keeps its credits and points. This is the default."},
			ruleOption{Value: string(usermerge.CreditsTransfer), Label: "Transfer", Text: "All credits and points move to the kept account."}),
		rule("certificates", "Certificates", "What happens to the merged account's course and learning-path certificates.", string(p.Certificates),
			ruleOption{Value: string(usermerge.CertificatesNotMerged), Label: "Not merged (learningBOX)", Text: "Certificates stay with the merged account; the kept account gets none of them."},
			ruleOption{Value: string(usermerge.CertificatesTransfer), Label: "Transfer (Schoox)", Text: "All certificates move to the kept account, and every certificate of both accounts is kept."}),
		rule("move_external_ids", "External IDs", "How the merge screen's \"Also merge external IDs\" box starts; each merge can still choose.", yes(p.MoveExternalIDs),
			ruleOption{Value: "true", Label: "Ticked", Text: "External IDs (SSO, HR system, …) move to the kept account and resolve to it, unless the box is unticked for a merge."},
			ruleOption{Value: "false", Label: "Unticked", Text: "External IDs stay with the merged account, unless the box is ticked for a merge."}),
	}
}

func (u *uiServer) newSettingsPage(c *uiCall, t usermerge.Tenant) settingsPage {
	p := settingsPage{uiPage: c.page, Preset: t.Preset(), Rules: settingsView(t.Policy), ReadOnly: !c.rights.TenantAdmin}
	p.Tenant = t
	p.Title, p.Section = "Tenant settings", "settings"
	for _, name := range usermerge.PresetNames {
		p.Presets = append(p.Presets, presetView{Name: name, Title: presetTitles[name], Text: presetText(usermerge.Presets[name]), Current: name == p.Preset})
	}
	return p
}

func (u *uiServer) settings(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	t, err := u.s.eng.Settings(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	p := u.newSettingsPage(c, t)
	rules, err := u.s.eng.MatchingRules(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	p.Matching = newMatchingView(rules)
	return u.render(w, http.StatusOK, "settings", p)
}

func (u *uiServer) saveSettings(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	f := r.PostForm
	var ch engine.SettingsChange
	switch f.Get("action") {
	case "preset":
		ch.Preset = f.Get("preset")
		if ch.Preset == "" {
			return u.done(w, r, c.page.T()+"/settings", "", usermerge.Errorf(usermerge.Invalid, "preset_required", "choose a preset"))
		}
	case "rules":
		ch.Set = map[string]string{}
		for _, s := range usermerge.PolicySettings {
			if v := f.Get(s.Name); v != "" {
				ch.Set[s.Name] = v
			}
		}
	default:
		return badRequest("the form names no action")
	}
	ch.ConfirmIrreversible = f.Get("confirm_irreversible") == "1"
	t, err := u.s.eng.UpdateSettings(r.Context(), c.Caller, ch)
	if usermerge.ErrorReason(err) == engine.CodeConfirmIrreversible {
		// Nothing changed: the page asks, with the change it would make.
		msg := usermerge.ErrorMessage(err)
		cur, err := u.s.eng.Settings(r.Context(), c.Caller)
		if err != nil {
			return err
		}
		p := u.newSettingsPage(c, cur)
		p.Confirm = &settingsConfirm{Text: capitalise(msg) + "."}
		names := []string{"action", "preset"}
		for _, s := range usermerge.PolicySettings {
			names = append(names, s.Name)
		}
		for _, name := range names {
			if f.Has(name) {
				p.Confirm.Fields = append(p.Confirm.Fields, hiddenField{name, f.Get(name)})
			}
		}
		return u.render(w, http.StatusConflict, "settings", p)
	}
	text := "Settings saved."
	if err == nil {
		if name := t.Preset(); name != "custom" {
			text = "Settings saved: the tenant follows the " + presetTitles[name] + " preset."
		} else {
			text = "Settings saved: the tenant uses its own combination of rules."
		}
	}
	return u.done(w, r, c.page.T()+"/settings", text, err)
}

// capitalise starts a sentence with a capital; a sentence that starts with
// a login is left alone by the engine's messages, which start with words.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
