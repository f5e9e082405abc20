package match

// Default parameters (docs/matching.md, "Default parameters"): the m and u
// a tenant's matching starts from before any run has fitted its own, so
// that the one-account check answers on a tenant's first day, and the
// floor EM's u starts from on a tenant too small to say how often two
// people agree. m is the share of one person's pairs at the level, u the
// share of two people's pairs among the candidates a check or run
// compares (pairs that share a blocking key, so names agree more often
// than between random accounts); identifiers' u is 1/10,000, what one
// value shared by two of a 10,000-account tenant's people would give.

// DefaultPrior is the default share of matches among compared pairs.
const DefaultPrior = 0.05

// defaultMU lists, per field, each level's default m and u, in the order
// of the field's levels after missing.
var defaultMU = map[string]map[string]LevelMU{
	FieldName: {
		"exact": {0.50, 0.01}, "normalised": {0.15, 0.002}, "nickname": {0.05, 0.0005}, "initial": {0.05, 0.001},
		"swapped": {0.02, 0.0002}, "jw92": {0.08, 0.005}, "jw88": {0.03, 0.01}, "close": {0.02, 0.02},
		"given_different": {0.01, 0.45}, "family_different": {0.05, 0.10}, "different": {0.04, 0.40},
	},
	FieldEmail: {
		"exact": {0.40, 0.0001}, "normalised": {0.10, 0.0001}, "same_local_part": {0.20, 0.001},
		"local_part_jw": {0.10, 0.05}, "different": {0.20, 0.9488},
	},
	FieldBirthDate: {
		"exact": {0.85, 0.001}, "day_month_swapped": {0.02, 0.0001}, "one_component": {0.06, 0.01},
		"year_off_by_one": {0.02, 0.001}, "different": {0.05, 0.9879},
	},
	FieldPhone:          {"exact": {0.50, 0.0001}, "same_last_8": {0.10, 0.0001}, "different": {0.40, 0.9998}},
	FieldEmployeeNumber: {"exact": {0.85, 0.0001}, "normalised": {0.05, 0.0001}, "different": {0.10, 0.9998}},
	FieldPostcode:       {"exact": {0.70, 0.005}, "same_prefix": {0.15, 0.02}, "different": {0.15, 0.975}},
	FieldExternalID:     {"exact": {0.50, 0.0001}, "different": {0.50, 0.9999}},
	FieldSignIn:         {"same_address": {0.30, 0.02}, "same_client": {0.35, 0.25}, "none": {0.35, 0.73}},
	FieldGroups:         {"shared": {0.80, 0.20}, "none": {0.20, 0.80}},
}

// DefaultParams are the parameters of a tenant no run has fitted: the
// default m and u of every field rules compare, DefaultPrior, and no term
// frequencies (every name weighs as an average one).
func DefaultParams(rules Rules) Params {
	mask := fieldMask(&rules)
	p := Params{Prior: DefaultPrior, Fields: map[string]map[string]LevelMU{}}
	for f := range fields {
		if !mask[f] {
			continue
		}
		levels := map[string]LevelMU{}
		for l, mu := range defaultMU[fields[f].name] {
			levels[l] = mu
		}
		p.Fields[fields[f].name] = levels
	}
	return p
}

// defaultU is field f's default u by level index (0 for missing).
func defaultU(f int) []float64 {
	out := make([]float64, len(fields[f].levels))
	for l := 1; l < len(out); l++ {
		out[l] = defaultMU[fields[f].name][fields[f].levels[l]].U
	}
	return out
}

// defaultM is field f's default m by level index (0 for missing), summing
// to 1 over the other levels.
func defaultM(f int) []float64 {
	out := make([]float64, len(fields[f].levels))
	sum := 0.0
	for l := 1; l < len(out); l++ {
		out[l] = defaultMU[fields[f].name][fields[f].levels[l]].M
		sum += out[l]
	}
	for l := 1; l < len(out); l++ {
		out[l] /= sum
	}
	return out
}
