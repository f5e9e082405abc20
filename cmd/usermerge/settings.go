package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"usermerge"
	"usermerge/engine"
)

var settingsCmd = &command{
	name:    "settings",
	usage:   "settings [--preset learningbox|schoox] [--yes] [NAME=VALUE ...]",
	summary: "show or change the tenant's merge policy",
	help: `Without arguments, shows the tenant's merge policy: each setting with its
value and what it means, the preset the policy equals, and the rule each
kind of record follows under it.

With --preset and/or NAME=VALUE arguments, changes the policy (tenant
administrators only): the preset first, then each setting. Presets:
  learningbox  badges transfer with the source's time, certificates not
               merged, reverts allowed
  schoox       badges and credits stay with the source, certificates
               transfer, reverts not allowed

A change that stops reverts while merges are active makes them all
irreversible: it is refused, saying how many, unless --yes is given.

Examples:
  usermerge --tenant acme --as admin settings
  usermerge --tenant acme --as admin settings --preset schoox --yes
  usermerge --tenant acme --as admin settings revert_allowed=true credits=transfer`,
	db: existingDB, tenant: true, admin: true, maxArgs: -1,
	setup: func(fs *flag.FlagSet) runFunc {
		preset := fs.String("preset", "", "apply the preset `NAME` (learningbox or schoox) first")
		yes := fs.Bool("yes", false, "confirm a change that makes the active merges irreversible")
		return func(ctx context.Context, m *Main, args []string) error {
			var t usermerge.Tenant
			var err error
			if *preset == "" && len(args) == 0 {
				t, err = m.eng.Settings(ctx, m.caller)
			} else {
				ch := engine.SettingsChange{Preset: *preset, Set: map[string]string{}, ConfirmIrreversible: *yes}
				for _, a := range args {
					name, value, ok := strings.Cut(a, "=")
					if !ok || name == "" {
						return usageError("settings: %q is not NAME=VALUE (e.g. revert_allowed=false)", a)
					}
					ch.Set[name] = value
				}
				t, err = m.eng.UpdateSettings(ctx, m.caller, ch)
				if usermerge.ErrorReason(err) == engine.CodeConfirmIrreversible {
					return usermerge.Errorf(usermerge.Conflict, engine.CodeConfirmIrreversible, "%s (run it again with --yes)", usermerge.ErrorMessage(err))
				}
			}
			if err != nil {
				return err
			}
			return m.emit(usermerge.NewSettingsAnswer(t), func(w io.Writer) error { return writeSettings(w, t) })
		}
	},
}

// setting returns a policy setting's value in its text form.
func setting(p usermerge.Policy, name string) string {
	switch name {
	case "merge_enabled":
		return fmt.Sprint(p.MergeEnabled)
	case "revert_allowed":
		return fmt.Sprint(p.RevertAllowed)
	case "badges":
		return string(p.Badges)
	case "credits":
		return string(p.Credits)
	case "certificates":
		return string(p.Certificates)
	case "move_external_ids":
		return fmt.Sprint(p.MoveExternalIDs)
	}
	return ""
}

func writeSettings(w io.Writer, t usermerge.Tenant) error {
	preset := t.Preset()
	if preset == "custom" {
		preset = "custom (equals no preset)"
	} else {
		preset += " preset"
	}
	fmt.Fprintf(w, "Tenant %s: policy %s\n\n", t, preset)
	tw := newTable(w)
	fmt.Fprintln(tw, "SETTING\tVALUE\tVALUES\tMEANING")
	for _, s := range usermerge.PolicySettings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, setting(t.Policy, s.Name), s.Values, s.Help)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nWhat a merge does under this policy:")
	tw = newTable(w)
	for _, k := range usermerge.Kinds {
		fmt.Fprintf(tw, "  %s\t%s\n", k.Label(), k.Rule(t.Policy, t.Policy.MoveExternalIDs))
	}
	return tw.Flush()
}
