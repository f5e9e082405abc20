package match

// levelWords say what a comparison level means, for an explanation that
// shows more than "close": the administrator reads why two values count
// as near. Levels not listed read by their outcome alone.
var levelWords = map[string]map[string]string{
	FieldName: {
		"normalised":       "the same once case, accents and punctuation are set aside",
		"nickname":         "the given names are one name and its nickname",
		"initial":          "one given name is the other's initial",
		"swapped":          "given and family names swapped",
		"jw92":             "spelt nearly alike",
		"jw88":             "spelt alike",
		"close":            "spelt somewhat alike",
		"given_different":  "the same family name, another given name",
		"family_different": "the same given name, another family name",
	},
	FieldEmail: {
		"normalised":      "one mailbox written two ways (case, dots or a +tag)",
		"same_local_part": "the same name before the @, at another domain",
		"local_part_jw":   "names before the @ spelt alike",
	},
	FieldBirthDate: {
		"day_month_swapped": "day and month swapped",
		"one_component":     "one of day, month and year differs",
		"year_off_by_one":   "the year one apart",
	},
	FieldPhone:          {"same_last_8": "the same last eight digits"},
	FieldEmployeeNumber: {"normalised": "the same once spaces, dashes and case are set aside"},
	FieldPostcode:       {"same_prefix": "the same area (first characters)"},
	FieldSignIn: {
		"same_address": "signed in from the same address in the same month",
		"same_client":  "signed in with the same browser or app in the same month",
	},
}

// LevelWords is what level of field means in words, or "" when the
// outcome says it all.
func LevelWords(field, level string) string { return levelWords[field][level] }
