// Package usermerge is the domain of the account-merge service: tenants and
// their merge policies, accounts, administrators and their scopes, the record
// kinds a learner account holds, and the shape of previews, merges and
// reverts. It imports no database and no HTTP; the adapters live in
// sub-packages (store, engine) and the wiring in cmd/usermerge.
package usermerge

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Code classifies an Error. Each code maps to one HTTP status and one CLI
// exit status, in one table each.
type Code string

const (
	Invalid   Code = "invalid"   // the input is malformed or breaks a rule
	NotFound  Code = "not_found" // a named tenant, account, admin or merge does not exist
	Conflict  Code = "conflict"  // the state of the data forbids the call (already merged, busy, ...)
	Forbidden Code = "forbidden" // the caller lacks the right or the scope
	// Unauthenticated: no valid credentials (no session, a wrong password,
	// a revoked token).
	Unauthenticated Code = "unauthenticated"
	// RateLimited: too many failed sign-ins; try again later.
	RateLimited Code = "rate_limited"
	// Unavailable: the service cannot answer now (the database connection
	// is lost, or concurrent changes kept getting in the way); nothing was
	// changed, and the same call may succeed when tried again later.
	Unavailable Code = "unavailable"
	Internal    Code = "internal" // anything else; its detail is never shown to clients
)

// Error is the one domain error type. Message is safe to show to an
// administrator; Err (if any) carries internal detail for logs only.
type Error struct {
	Code    Code
	Reason  string // stable machine-readable reason, e.g. "source_already_merged"
	Message string
	Err     error
	// LeadsWithValue says the message begins with a value (usually a
	// login), which is never capitalised when the message opens a sentence.
	LeadsWithValue bool
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted, administrator-readable message.
func Errorf(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...), LeadsWithValue: strings.HasPrefix(format, "%")}
}

// InternalError wraps an unexpected error; clients see only a generic message.
func InternalError(err error) *Error {
	return &Error{Code: Internal, Reason: "internal", Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, Internal for errors that are not *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// ErrorReason returns the stable reason of err ("internal" for foreign errors).
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "internal"
}

// ErrorMessage returns the message safe to show to a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "internal error"
}

// ErrorSentence is ErrorMessage written to stand alone, as in the UI's
// notices: its first letter capitalised unless the message begins with a
// value such as a login ("mgarcia (Maria Garcia) is not active").
func ErrorSentence(err error) string {
	var e *Error
	msg := ErrorMessage(err)
	if errors.As(err, &e) && e.Code != Internal && e.LeadsWithValue {
		return msg
	}
	if r, n := utf8.DecodeRuneInString(msg); n > 0 {
		return string(unicode.ToUpper(r)) + msg[n:]
	}
	return msg
}

// Storable reports whether text can be stored by both databases: valid
// UTF-8 without NUL characters (PostgreSQL refuses both).
func Storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
