package server

import (
	"net/url"
	"slices"

	"usermerge"
)

// The merge screen's choice of profile values (MergeRequest.Profile): per
// profile field, whose value the kept account ends with. The choice lives
// in the screen's URL as pf_FIELD=SOURCE_ID (absent: the kept account's own
// value), like the rest of mergeState.

const profileParam = "pf_"

// parseProfileChoice reads the profile choice from a query or form.
func parseProfileChoice(q url.Values) map[string]string {
	var out map[string]string
	for _, f := range usermerge.ProfileFields {
		if v := q.Get(profileParam + f.Name); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[f.Name] = v
		}
	}
	return out
}

// keepProfileChoice drops choices naming an account no longer among the
// accounts to merge (removed, or swapped to be the kept one): the choice
// was about that account's value.
func (st *mergeState) keepProfileChoice() {
	for field, src := range st.Profile {
		if !slices.Contains(st.Sources, src) {
			delete(st.Profile, field)
		}
	}
}

func (st mergeState) profileValues(v url.Values) {
	for _, f := range usermerge.ProfileFields {
		if src := st.Profile[f.Name]; src != "" {
			v.Set(profileParam+f.Name, src)
		}
	}
}

// profileChoice is one field's choice on the merge screen.
type profileChoice struct {
	Field, Label, Param string
	Options             []profileOption
}

type profileOption struct {
	ID       string // the radio's id
	Value    string // "" for the kept account's own value, else the source's id
	Login    string
	Text     string // the value
	Kept     bool   // the kept account's own value
	Same     bool   // a source's value equal to the kept account's: choosing it changes nothing
	Checked  bool
	Disabled bool // a source with no value for the field
}

// ProfileChoices are the profile fields and, for each, the kept account's
// value and each source's, the chosen one checked.
func (m mergeScreen) ProfileChoices() []profileChoice {
	if m.Keep == nil || len(m.Sources) == 0 {
		return nil
	}
	var out []profileChoice
	for _, f := range usermerge.ProfileFields {
		chosen := m.State.Profile[f.Name]
		kept := f.Get(m.Keep.Account)
		c := profileChoice{Field: f.Name, Label: f.Label, Param: profileParam + f.Name}
		c.Options = append(c.Options, profileOption{ID: "pf-" + f.Name + "-keep", Login: m.Keep.Login, Text: kept, Kept: true,
			Checked: chosen == ""})
		for _, s := range m.Sources {
			v := f.Get(s.Account)
			c.Options = append(c.Options, profileOption{ID: "pf-" + f.Name + "-" + s.ID, Value: s.ID, Login: s.Login, Text: v,
				Same: v == kept, Checked: chosen == s.ID, Disabled: v == ""})
		}
		out = append(out, c)
	}
	return out
}
