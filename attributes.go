package usermerge

import (
	"fmt"
	"sort"
	"time"
	"unicode"
	"unicode/utf8"
)

// Profile attributes (PRODUCT.md §11): optional facts about the person an
// account belongs to, besides login, email and name. The known keys are
// columns of their own (duplicate detection blocks on some of them); any
// other key is a free key a tenant names, held as free text.
const (
	AttrGivenName      = "given_name"
	AttrFamilyName     = "family_name"
	AttrBirthDate      = "birth_date" // YYYY-MM-DD, a real date
	AttrPhone          = "phone"
	AttrEmployeeNumber = "employee_number"
	AttrPostcode       = "postcode"
)

// AttributeKey describes one known attribute.
type AttributeKey struct {
	Name  string // as in NDJSON, CSV, the API and the store's column
	Label string // as an administrator reads it
}

// KnownAttributes are the known attribute keys, in display order. The store
// has a column for each; free keys are stored together.
var KnownAttributes = []AttributeKey{
	{AttrGivenName, "Given name"},
	{AttrFamilyName, "Family name"},
	{AttrBirthDate, "Birth date"},
	{AttrPhone, "Phone"},
	{AttrEmployeeNumber, "Employee number"},
	{AttrPostcode, "Postcode"},
}

// Bounds of attributes: enough for any real name, number or note, small
// enough that an account line stays a line.
const (
	MaxAttributeKey   = 40  // bytes of a key
	MaxAttributeValue = 200 // characters of a value
	MaxAttributes     = 50  // keys on one account
)

// KnownAttribute reports whether key is one of KnownAttributes.
func KnownAttribute(key string) bool {
	for _, k := range KnownAttributes {
		if k.Name == key {
			return true
		}
	}
	return false
}

// AttributeLabel is how an administrator reads key: a known key's label,
// a free key as it is.
func AttributeLabel(key string) string {
	for _, k := range KnownAttributes {
		if k.Name == key {
			return k.Label
		}
	}
	return key
}

// ValidAttributeKey reports why key cannot name an attribute, or "" if it
// can: 1 to 40 characters of a-z, 0-9 and _, starting with a letter.
func ValidAttributeKey(key string) string {
	if key == "" {
		return "must not be empty"
	}
	if len(key) > MaxAttributeKey {
		return fmt.Sprintf("is longer than %d characters", MaxAttributeKey)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_' && i > 0, c >= '0' && c <= '9' && i > 0:
		default:
			return "must be lower-case letters, digits and _, starting with a letter"
		}
	}
	return ""
}

// ValidateAttribute checks one attribute; an empty value is valid (it
// means "no value"). The error is Invalid, with a message naming the key.
func ValidateAttribute(key, value string) error {
	if why := ValidAttributeKey(key); why != "" {
		return Errorf(Invalid, "invalid_attribute", "attribute key %q %s", clip(key), why)
	}
	if !utf8.ValidString(value) {
		return Errorf(Invalid, "invalid_attribute", "attribute %s is not valid UTF-8 text", key)
	}
	if n := utf8.RuneCountInString(value); n > MaxAttributeValue {
		return Errorf(Invalid, "invalid_attribute", "attribute %s is longer than %d characters", key, MaxAttributeValue)
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return Errorf(Invalid, "invalid_attribute", "attribute %s must not contain control characters (such as newlines or tabs)", key)
		}
	}
	if key == AttrBirthDate && value != "" {
		t, err := time.Parse(time.DateOnly, value)
		if err != nil || t.Format(time.DateOnly) != value {
			return Errorf(Invalid, "invalid_attribute", "attribute birth_date must be a date written YYYY-MM-DD, such as \"1990-04-23\", not %q", clip(value))
		}
	}
	return nil
}

// ValidateAttributes checks every attribute of m and their number.
func ValidateAttributes(m map[string]string) error {
	if len(m) > MaxAttributes {
		return Errorf(Invalid, "invalid_attribute", "an account has at most %d attributes, not %d", MaxAttributes, len(m))
	}
	for _, k := range AttributeKeys(m) {
		if err := ValidateAttribute(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// AttributeKeys returns the keys of m in display order: the known keys in
// the order of KnownAttributes, then the free keys alphabetically.
func AttributeKeys(m map[string]string) []string {
	var known, free []string
	for _, k := range KnownAttributes {
		if _, ok := m[k.Name]; ok {
			known = append(known, k.Name)
		}
	}
	for k := range m {
		if !KnownAttribute(k) {
			free = append(free, k)
		}
	}
	sort.Strings(free)
	return append(known, free...)
}

// CompactAttributes drops the keys without a value, so that "no value"
// has one spelling; nil when nothing is left (the API then leaves
// attributes out).
func CompactAttributes(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if v == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}
