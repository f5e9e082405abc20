package usermerge

// ProfileField is one field of an account's profile that a merge may take
// from a source instead of keeping the target's (MergeRequest.Profile). The
// set of fields is this one list: a new profile attribute is a new entry.
type ProfileField struct {
	Name  string               // as in the API ("email") and the store's column
	Label string               // as an administrator reads it
	Get   func(Account) string // the account's value
}

// ProfileFields are the fields a merge may take from a source, in display order.
var ProfileFields = []ProfileField{
	{Name: "name", Label: "Name", Get: func(a Account) string { return a.Name }},
	{Name: "email", Label: "Email", Get: func(a Account) string { return a.Email }},
}

// ProfileFieldByName returns the field called name.
func ProfileFieldByName(name string) (ProfileField, bool) {
	for _, f := range ProfileFields {
		if f.Name == name {
			return f, true
		}
	}
	return ProfileField{}, false
}

// ProfileKind names profile fields in a revert's KeptNewer: the record is
// the field ("email"), the account the kept account.
const ProfileKind Kind = "profile"

// ProfileChange is one profile field a merge gives the kept account from a
// source: in a preview what it will do, in a merge what it did.
type ProfileChange struct {
	Field  string `json:"field"`
	Label  string `json:"label"`
	Before string `json:"before"` // the target's value before the merge
	After  string `json:"after"`  // the value it takes (the source's)
	Source string `json:"source"` // login of the source whose value it takes
}
