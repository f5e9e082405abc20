package match

import (
	"cmp"
	"strings"
)

// Name is a person's name as an account carries it.
type Name struct {
	Given  string
	Family string
}

// NameLevel is how closely two names agree, best first in the order the
// constants are listed below (NameExact is the strongest agreement,
// NameDifferent the disagreement; NameMissing says nothing either way).
type NameLevel int

const (
	NameMissing    NameLevel = iota // either name lacks its given or family part
	NameExact                       // both parts identical as typed (outer white space aside)
	NameNormalised                  // identical after NormalizeName or FoldName (case, accents, Müller/Mueller, O'Brien/OBrien)
	NameNickname                    // same family name, given names in one nickname group (Bob/Robert)
	NameInitial                     // same family name, one given name is the other's initial (J./John)
	NameSwapped                     // given and family names exchanged
	NameJW92                        // both parts Jaro-Winkler ≥ 0.92
	NameJW88                        // both parts Jaro-Winkler ≥ 0.88
	NameDifferent                   // none of the above
)

var nameLevelNames = [...]string{
	NameMissing: "missing", NameExact: "exact", NameNormalised: "normalised",
	NameNickname: "nickname", NameInitial: "initial", NameSwapped: "swapped",
	NameJW92: "jw92", NameJW88: "jw88", NameDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l NameLevel) String() string { return levelName(l, nameLevelNames[:]) }

// The Jaro-Winkler thresholds of the fuzzy levels (Splink's defaults for
// names).
const (
	NameJWHigh = 0.92
	NameJWLow  = 0.88
)

// NameComparison is the level of a pair of names and, for the explanation,
// how similar they are: the lower of the given and family similarities
// (1 for every level above the fuzzy ones, 0 when missing).
type NameComparison struct {
	Level      NameLevel
	Similarity float64
}

// PreparedName is a name normalised once, so that comparing one account
// against many costs no normalisation per pair.
type PreparedName struct {
	given, family   string // as typed, trimmed of white space
	givenN, familyN string // NormalizeName, spaces removed
	givenF, familyF string // FoldName, spaces removed
	givenFirst      string // first word of NormalizeName(given), for nicknames
	familyLast      string // the family name's last word, normalised, when it has several ("" otherwise)
	givenInitial    rune   // first rune of givenN, 0 if none
	givenIsInitial  bool   // the given name is one letter (J, J.)
}

// PrepareName normalises a name for CompareNames.
func PrepareName(n Name) PreparedName {
	g, f := NormalizeName(n.Given), NormalizeName(n.Family)
	p := PreparedName{
		given:      strings.TrimSpace(validPrefix(n.Given, MaxInputBytes)),
		family:     strings.TrimSpace(validPrefix(n.Family, MaxInputBytes)),
		givenN:     compact(g),
		familyN:    compact(f),
		givenF:     compact(FoldName(n.Given)),
		familyF:    compact(FoldName(n.Family)),
		givenFirst: firstWord(g),
	}
	if fam := strings.TrimSpace(n.Family); strings.ContainsAny(fam, " -") {
		p.familyLast = compact(NormalizeName(fam[strings.LastIndexAny(fam, " -")+1:]))
	}
	for _, r := range p.givenN {
		p.givenInitial = r
		p.givenIsInitial = len(string(r)) == len(p.givenN)
		break
	}
	return p
}

// Missing reports whether the name lacks a given or a family part once
// normalised, so that it cannot be compared as a whole name.
func (p PreparedName) Missing() bool { return p.givenN == "" || p.familyN == "" }

// CompareNames is the level at which two names agree. The levels are tried
// in order and the first that holds is the answer; see NameLevel.
func CompareNames(a, b Name) NameComparison {
	return ComparePrepared(PrepareName(a), PrepareName(b))
}

// ComparePrepared is CompareNames on names prepared once with PrepareName.
func ComparePrepared(a, b PreparedName) NameComparison {
	if a.Missing() || b.Missing() {
		return NameComparison{Level: NameMissing}
	}
	full := func(l NameLevel) NameComparison { return NameComparison{Level: l, Similarity: 1} }
	if a.given == b.given && a.family == b.family {
		return full(NameExact)
	}
	sameGiven := samePart(a.givenN, a.givenF, b.givenN, b.givenF)
	sameFamily := samePart(a.familyN, a.familyF, b.familyN, b.familyF)
	if sameGiven && sameFamily {
		return full(NameNormalised)
	}
	nick := nickname(a.givenFirst, b.givenFirst)
	if sameFamily && nick {
		return full(NameNickname)
	}
	if sameFamily && a.givenInitial == b.givenInitial && (a.givenIsInitial || b.givenIsInitial) {
		return full(NameInitial)
	}
	if samePart(a.givenN, a.givenF, b.familyN, b.familyF) && samePart(a.familyN, a.familyF, b.givenN, b.givenF) {
		return full(NameSwapped)
	}
	simGiven := 1.0
	if !sameGiven && !nick {
		simGiven = partSimilarity(a.givenN, a.givenF, b.givenN, b.givenF)
	}
	simFamily := 1.0
	if !sameFamily {
		simFamily = partSimilarity(a.familyN, a.familyF, b.familyN, b.familyF)
		// A family name of several words is also compared by its last
		// word: "Luis Hernández" (a middle name the given name did not
		// take) or "Schmidt-Weber" against "Hernández" or "Weber".
		if a.familyLast != "" || b.familyLast != "" {
			simFamily = max(simFamily, JaroWinkler(cmp.Or(a.familyLast, a.familyN), cmp.Or(b.familyLast, b.familyN)))
		}
	}
	sim := min(simGiven, simFamily)
	switch {
	case sim >= NameJWHigh:
		return NameComparison{Level: NameJW92, Similarity: sim}
	case sim >= NameJWLow:
		return NameComparison{Level: NameJW88, Similarity: sim}
	}
	return NameComparison{Level: NameDifferent, Similarity: sim}
}

// samePart: two name parts agree in either normalised form.
func samePart(an, af, bn, bf string) bool { return an == bn || af == bf }

// partSimilarity is the better Jaro-Winkler similarity of the two normalised
// forms.
func partSimilarity(an, af, bn, bf string) float64 {
	s := JaroWinkler(an, bn)
	if af != an || bf != bn {
		s = max(s, JaroWinkler(af, bf))
	}
	return s
}
