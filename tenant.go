package usermerge

import "fmt"

// BadgePolicy decides what a merge does with badges.
type BadgePolicy string

const (
	// BadgesTransfer moves badges to the target; where both hold the same
	// badge, the target's acquisition time becomes the source's (learningBOX).
	BadgesTransfer BadgePolicy = "transfer"
	// BadgesStay leaves badges on the source (Schoox).
	BadgesStay BadgePolicy = "stay"
)

// CreditPolicy decides what a merge does with credits / points.
type CreditPolicy string

const (
	CreditsStay     CreditPolicy = "stay"     // Schoox, the default
	CreditsTransfer CreditPolicy = "transfer" // moved to the target
)

// CertificatePolicy decides what a merge does with certificates.
type CertificatePolicy string

const (
	CertificatesNotMerged CertificatePolicy = "not_merged" // learningBOX: stay on the source
	CertificatesTransfer  CertificatePolicy = "transfer"   // Schoox: all moved and kept
)

// Policy is a tenant's merge settings.
type Policy struct {
	MergeEnabled    bool              `json:"merge_enabled"`
	RevertAllowed   bool              `json:"revert_allowed"`
	Badges          BadgePolicy       `json:"badges"`
	Credits         CreditPolicy      `json:"credits"`
	Certificates    CertificatePolicy `json:"certificates"`
	MoveExternalIDs bool              `json:"move_external_ids"` // default of the per-merge checkbox
}

// Presets name complete policies in one word.
var Presets = map[string]Policy{
	"learningbox": {MergeEnabled: true, RevertAllowed: true, Badges: BadgesTransfer, Credits: CreditsStay, Certificates: CertificatesNotMerged, MoveExternalIDs: false},
	"schoox":      {MergeEnabled: true, RevertAllowed: false, Badges: BadgesStay, Credits: CreditsStay, Certificates: CertificatesTransfer, MoveExternalIDs: false},
}

// PresetNames lists the presets in a stable order.
var PresetNames = []string{"learningbox", "schoox"}

// PresetOf returns the name of the preset that equals p, or "custom".
func PresetOf(p Policy) string {
	for _, name := range PresetNames {
		if Presets[name] == p {
			return name
		}
	}
	return "custom"
}

// Validate checks every field holds a known value.
func (p Policy) Validate() error {
	switch p.Badges {
	case BadgesTransfer, BadgesStay:
	default:
		return Errorf(Invalid, "invalid_policy", "badges must be %q or %q, not %q", BadgesTransfer, BadgesStay, p.Badges)
	}
	switch p.Credits {
	case CreditsStay, CreditsTransfer:
	default:
		return Errorf(Invalid, "invalid_policy", "credits must be %q or %q, not %q", CreditsStay, CreditsTransfer, p.Credits)
	}
	switch p.Certificates {
	case CertificatesNotMerged, CertificatesTransfer:
	default:
		return Errorf(Invalid, "invalid_policy", "certificates must be %q or %q, not %q", CertificatesNotMerged, CertificatesTransfer, p.Certificates)
	}
	return nil
}

// PolicySettings lists the settings that can be changed one by one, with a
// sentence for help text.
var PolicySettings = []struct{ Name, Values, Help string }{
	{"merge_enabled", "true|false", "Whether administrators of this tenant may merge accounts at all."},
	{"revert_allowed", "true|false", "Whether merges may be reverted. Off makes every merge irreversible (Schoox)."},
	{"badges", "transfer|stay", "transfer: badges move to the kept account; where both hold a badge the kept account takes the source's acquisition time (learningBOX). stay: badges remain on the merged account (Schoox)."},
	{"credits", "stay|transfer", "stay: credits/points remain on the merged account (Schoox, default). transfer: they move to the kept account."},
	{"certificates", "not_merged|transfer", "not_merged: certificates remain on the merged account (learningBOX). transfer: all certificates move to the kept account (Schoox)."},
	{"move_external_ids", "true|false", "Default of the 'also merge external IDs' checkbox."},
}

// Set changes one named setting from its text form.
func (p *Policy) Set(name, value string) error {
	parseBool := func() (bool, error) {
		switch value {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return false, Errorf(Invalid, "invalid_policy", "%s must be true or false, not %q", name, value)
	}
	var err error
	switch name {
	case "merge_enabled":
		p.MergeEnabled, err = parseBool()
	case "revert_allowed":
		p.RevertAllowed, err = parseBool()
	case "move_external_ids":
		p.MoveExternalIDs, err = parseBool()
	case "badges":
		p.Badges = BadgePolicy(value)
	case "credits":
		p.Credits = CreditPolicy(value)
	case "certificates":
		p.Certificates = CertificatePolicy(value)
	default:
		return Errorf(Invalid, "unknown_setting", "unknown setting %q (known: merge_enabled, revert_allowed, badges, credits, certificates, move_external_ids)", name)
	}
	if err != nil {
		return err
	}
	return p.Validate()
}

// Tenant is one academy / organisation.
type Tenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Policy Policy `json:"policy"`
}

// Preset is the preset the tenant's policy equals, or "custom".
func (t Tenant) Preset() string { return PresetOf(t.Policy) }

func (t Tenant) String() string { return fmt.Sprintf("%s (%s)", t.Name, t.ID) }
