package usermerge

// Kind names one kind of record a learner account holds (PRODUCT.md §3).
type Kind string

const (
	KindSignIns      Kind = "signin"             // access log
	KindAttempts     Kind = "attempt"            // quiz, test, exam, vignette attempts (scores)
	KindBadges       Kind = "badge"              // badges and their acquisition time
	KindCredits      Kind = "credit"             // credits / points
	KindCertificates Kind = "certificate"        // course and learning-path certificates
	KindCourses      Kind = "course_progress"    // course enrolment, progress, completion
	KindLectures     Kind = "lecture_progress"   // lecture (lesson) progress
	KindPaths        Kind = "path_progress"      // learning-path progress and completion
	KindQuizSessions Kind = "quiz_session"       // suspended "in-study" quiz sessions
	KindMasterStates Kind = "master_state"       // master-mode quiz state
	KindPolls        Kind = "poll_response"      // poll responses
	KindEvents       Kind = "event_registration" // event registration and attendance
	KindExternalIDs  Kind = "external_id"        // external IDs (system, value)
	KindFinancial    Kind = "financial_record"   // orders, payments, refunds, invoices
	KindMemberships  Kind = "membership"         // org structure: group memberships
	KindAccountJobs  Kind = "account_job"        // org structure: jobs
)

// Kinds lists every record kind in display order.
var Kinds = []Kind{
	KindAttempts, KindBadges, KindSignIns, KindCourses, KindLectures, KindPaths,
	KindCertificates, KindCredits, KindQuizSessions, KindMasterStates, KindPolls,
	KindEvents, KindExternalIDs, KindFinancial, KindMemberships, KindAccountJobs,
}

// KindLabels are the names administrators see (the seed documents' words
// where they have one: score, badge and sign-in details).
var KindLabels = map[Kind]string{
	KindSignIns:      "Sign-ins",
	KindAttempts:     "Scores (assessment attempts)",
	KindBadges:       "Badges",
	KindCredits:      "Credits / points",
	KindCertificates: "Certificates",
	KindCourses:      "Course progress",
	KindLectures:     "Lecture progress",
	KindPaths:        "Learning-path progress",
	KindQuizSessions: "Suspended quiz sessions",
	KindMasterStates: "Master-mode quiz state",
	KindPolls:        "Poll responses",
	KindEvents:       "Event registrations",
	KindExternalIDs:  "External IDs",
	KindFinancial:    "Financial records",
	KindMemberships:  "Group memberships",
	KindAccountJobs:  "Jobs",
}

// Label is the administrator-facing name of k.
func (k Kind) Label() string {
	if l, ok := KindLabels[k]; ok {
		return l
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := KindLabels[k]; return ok }

// Rule says what a merge does with one kind under a policy, in one sentence.
// It is the text shown in previews, details and settings help.
func (k Kind) Rule(p Policy, moveExternalIDs bool) string {
	switch k {
	case KindSignIns:
		return "all move to the kept account"
	case KindAttempts:
		return "all move; attempt numbers of the same content are renumbered in time order across both accounts"
	case KindBadges:
		if p.Badges == BadgesTransfer {
			return "move; where both hold a badge the kept account takes the source's acquisition time and the source's copy is retired"
		}
		return "stay with the merged account"
	case KindCredits:
		if p.Credits == CreditsTransfer {
			return "all move to the kept account"
		}
		return "stay with the merged account"
	case KindCertificates:
		if p.Certificates == CertificatesTransfer {
			return "all move to the kept account and are all kept"
		}
		return "not merged: stay with the merged account"
	case KindCourses, KindPaths:
		return "combined per item: completion beats incompletion, earliest completion, else highest percent; earliest enrolment"
	case KindLectures:
		return "combined per lecture: highest percent, latest last access"
	case KindQuizSessions:
		return "per quiz the session with the latest study time is kept; the other is retired (not resumable, not gradeable)"
	case KindMasterStates:
		return "per quiz the state with the latest study time is kept; the other is retired"
	case KindPolls:
		return "per poll the latest answer is kept; the other is retired"
	case KindEvents:
		return "per event one registration: attended if either attended, earliest registration time"
	case KindExternalIDs:
		if moveExternalIDs {
			return "move to the kept account and resolve to it"
		}
		return "stay with the merged account (external IDs not selected)"
	case KindFinancial:
		return "all move to the kept account"
	case KindMemberships, KindAccountJobs:
		return "the kept account's org structure is kept; the merged account's stays with it"
	}
	return ""
}
