package match

import (
	"errors"
)

// This file is the duplicate finder's contract: the record it reads, the
// rules a tenant sets, and the suggestions it answers. The engine streams
// records in, runs the finder, and stores what it answers; the server and
// the command line show it. (PRODUCT.md §11.)

// ExternalID is one identifier another system gave the account.
type ExternalID struct {
	System string
	Value  string
}

// Record is one account as the duplicate finder sees it: the facts that are
// evidence, not the account's history.
type Record struct {
	ID    string // the account's id in the tenant
	Login string
	Name  string // the display name as typed; split into Given/Family when those are empty
	Email string

	// Profile attributes ("" for none).
	Given, Family  string
	BirthDate      string // YYYY-MM-DD
	Phone          string
	EmployeeNumber string
	Postcode       string

	ExternalIDs []ExternalID
	// SignIns are the distinct (address, client, period) of the account's
	// sign-ins, at most MaxSignInKeys of them, newest first. Period is a
	// number of the same length of time for every record (the engine uses
	// 30-day periods since the Unix epoch).
	SignIns []SignInKey
	Groups  []string // ids of the groups the account is a member of

	// For the choice of the account to keep.
	Records    int64 // learning records the account holds
	LastSignIn int64 // Unix seconds, 0 for never
	Created    int64 // Unix seconds
	Active     bool

	// NotSource marks an account that may be kept but never suggested as
	// one to merge away (an administrator's own account).
	NotSource bool
}

// SignInKey is one sign-in fact: from which address and client, when.
type SignInKey struct {
	Address string
	Client  string
	Period  int64
}

// MaxSignInKeys bounds Record.SignIns.
const MaxSignInKeys = 16

// Fields the finder compares, as rules and explanations name them.
const (
	FieldName           = "name"
	FieldEmail          = "email"
	FieldBirthDate      = "birth_date"
	FieldPhone          = "phone"
	FieldEmployeeNumber = "employee_number"
	FieldPostcode       = "postcode"
	FieldExternalID     = "external_id"
	FieldSignIn         = "sign_in"
	FieldGroups         = "groups"
)

// Grade is how sure a suggestion is.
type Grade string

const (
	GradeCertain  Grade = "certain"
	GradeProbable Grade = "probable"
	GradePossible Grade = "possible"
)

// Rules are a tenant's matching rules: which fields take part and the
// match probabilities at which a pair is graded.
type Rules struct {
	// Fields lists the fields that take part; a field not listed is not
	// compared.
	Fields []string `json:"fields"`
	// StripPlusTags: see EmailOptions.
	StripPlusTags bool `json:"strip_plus_tags"`
	// Grade thresholds: the least match probability (0..1) of each grade,
	// Certain > Probable > Possible.
	Certain  float64 `json:"certain"`
	Probable float64 `json:"probable"`
	Possible float64 `json:"possible"`
	// MaxBlock caps the accounts of one blocking key; a larger block is
	// split (see docs/matching.md) so that a common surname does not make
	// the work quadratic.
	MaxBlock int `json:"max_block"`
}

// DefaultRules are the rules of a tenant that set none.
func DefaultRules() Rules {
	return Rules{
		Fields:   []string{FieldName, FieldEmail, FieldBirthDate, FieldPhone, FieldEmployeeNumber, FieldPostcode, FieldExternalID, FieldSignIn, FieldGroups},
		Certain:  0.999,
		Probable: 0.95,
		Possible: 0.6,
		MaxBlock: 50,
	}
}

// Validate answers what is wrong with r, in a sentence an administrator can
// act on, or nil.
func (r Rules) Validate() error {
	if !(r.Possible > 0 && r.Possible < r.Probable && r.Probable < r.Certain && r.Certain < 1) {
		return errors.New("the thresholds must be 0 < possible < probable < certain < 1")
	}
	return nil
}

// Params are the Fellegi–Sunter parameters fitted to a tenant's data: the
// prior probability that a compared pair is a match, and per field and level
// the m and u probabilities. They are JSON so that the engine can store them
// with a run and score one account later (Check) without fitting again.
type Params struct {
	Prior  float64                       `json:"prior"`
	Fields map[string]map[string]LevelMU `json:"fields"`
	// TermFrequencies: per field whose agreement is adjusted for how
	// common the value is, the relative frequency of its most common
	// values; values not listed have DefaultTF.
	TF        map[string]map[string]float64 `json:"tf,omitempty"`
	DefaultTF map[string]float64            `json:"default_tf,omitempty"`
	// TFMean: per such field, the mean frequency of a record's value
	// (the sum of the squared frequencies of all values), against which
	// a value's frequency adjusts its agreement's weight.
	TFMean map[string]float64 `json:"tf_mean,omitempty"`
	// EM's convergence, for the run's report.
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
}

// LevelMU is one comparison level's m (probability among matches) and u
// (among non-matches).
type LevelMU struct {
	M float64 `json:"m"`
	U float64 `json:"u"`
}

// Evidence is one field's part in a pair's score.
type Evidence struct {
	Field string `json:"field"`
	Level string `json:"level"` // the comparison level's stable name
	// Outcome: "agreed", "close", "disagreed" or "missing".
	Outcome    string  `json:"outcome"`
	Similarity float64 `json:"similarity,omitempty"` // 0..1 where the level has one
	Weight     float64 `json:"weight"`               // log2 of the Bayes factor, term frequency included
	A          string  `json:"a,omitempty"`          // the values compared, as shown to a reader
	B          string  `json:"b,omitempty"`
}

// Pair is two accounts compared and scored.
type Pair struct {
	A           string     `json:"a"` // account ids, A < B
	B           string     `json:"b"`
	Weight      float64    `json:"weight"`      // the prior's weight plus every field's
	Probability float64    `json:"probability"` // 2^Weight / (1 + 2^Weight)
	Evidence    []Evidence `json:"evidence"`
}

// Suggestion is one person with several accounts.
type Suggestion struct {
	// Accounts are the cluster's account ids, Keep first.
	Accounts   []string `json:"accounts"`
	Keep       string   `json:"keep"`
	KeepReason string   `json:"keep_reason"`
	// Probability is the suggestion's score: the least probability among
	// the pairs that join the cluster (its weakest link).
	Probability float64 `json:"probability"`
	Grade       Grade   `json:"grade"`
	// Pairs are the scored pairs inside the cluster at or above the
	// possible threshold, strongest first; they explain it.
	Pairs []Pair `json:"pairs"`
}

// Stats say how much work a run did.
type Stats struct {
	Records         int   `json:"records"`
	BlockingKeys    int   `json:"blocking_keys"`
	OversizedBlocks int   `json:"oversized_blocks"`
	PairsCompared   int64 `json:"pairs_compared"`
	PairsScored     int64 `json:"pairs_scored"` // at or above the possible threshold
	// PairsLeftOut: pairs at or above the possible threshold beyond the
	// run's bound (MaxPairsPerRecord per record), the weakest, not kept.
	PairsLeftOut int64 `json:"pairs_left_out,omitempty"`
}

// Progress is reported while a run works.
type Progress struct {
	Phase string // "blocking", "estimating", "scoring", "clustering"
	Done  int64
	Total int64
}

// Result is what a run answers.
type Result struct {
	Suggestions []Suggestion
	Params      Params
	Stats       Stats
}

// Grade of a probability under rules ("" below Possible).
func (r Rules) Grade(probability float64) Grade {
	switch {
	case probability >= r.Certain:
		return GradeCertain
	case probability >= r.Probable:
		return GradeProbable
	case probability >= r.Possible:
		return GradePossible
	}
	return ""
}
