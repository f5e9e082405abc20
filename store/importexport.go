package store

// Import and export of learner data: the NDJSON format of
// docs/import-format.md (import.go, export.go) and accounts as CSV (csv.go).
// This file holds what both directions share: the field lists and value
// rules of every line kind, the strict parsing of one JSON object, and the
// ordered JSON writer that makes exports byte-for-byte reproducible.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"usermerge"
)

// ImportStats counts what an import wrote.
type ImportStats struct {
	Lines   int            `json:"lines"`    // lines (NDJSON) or data rows (CSV) imported
	PerKind map[string]int `json:"per_kind"` // keyed by the line "kind" ("tenant", "account", "badge", ...)
}

// exportTime is the one time layout exports write: UTC, milliseconds, so that
// export → import → export is byte-identical.
const exportTime = "2006-01-02T15:04:05.000Z"

// maxLineBytes bounds one line of an import file; longer lines are rejected
// rather than buffered without limit.
const maxLineBytes = 16 << 20

// orgFields lists the fields each non-record line kind may carry.
var orgFields = map[string][]string{
	"tenant":      {"kind", "id", "name", "preset", "policy"},
	"group":       {"kind", "tenant", "id", "name", "parent"},
	"job":         {"kind", "tenant", "id", "title"},
	"title":       {"kind", "tenant", "catalog", "id", "title"},
	"account":     {"kind", "tenant", "id", "login", "email", "name", "status", "created_at", "deleted_at", "merged_into", "attributes"},
	"membership":  {"kind", "tenant", "account", "group"},
	"account_job": {"kind", "tenant", "account", "job"},
	"admin":       {"kind", "tenant", "id", "login", "name", "role", "account", "scopes", "password_hash"},
}

var policyFields = []string{"merge_enabled", "revert_allowed", "badges", "credits", "certificates", "move_external_ids"}

// lineFields maps every line kind to the set of fields it accepts; record
// kinds get theirs from recordTables.
var lineFields = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	add := func(kind string, names []string) {
		set := map[string]bool{}
		for _, n := range names {
			set[n] = true
		}
		m[kind] = set
	}
	for k, f := range orgFields {
		add(k, f)
	}
	for _, t := range recordTables {
		add(string(t.kind), append(append([]string{"kind", "tenant", "id", "account"}, t.colNames()...), "retired"))
	}
	return m
}()

// badLine is the error of one bad input line.
func badLine(n int, format string, args ...any) *usermerge.Error {
	return &usermerge.Error{Code: usermerge.Invalid, Reason: "bad_line",
		Message: "line " + strconv.Itoa(n) + ": " + fmt.Sprintf(format, args...)}
}

// object is one parsed JSON object of an import line (or a nested object of
// it), with accessors that check type and presence and report errors with the
// line number and the field's path.
type object struct {
	n      int    // line number
	prefix string // "policy." or "scopes[2]." for nested objects
	f      map[string]json.RawMessage
	keys   []string // in input order, for deterministic "unknown field" errors
}

// parseObject parses data as exactly one JSON object. Duplicate keys are an
// error: which of two values was meant cannot be known. The text is checked
// with json.Valid first, so the walk over its members below cannot go wrong;
// this is several times faster than a json.Decoder per line.
func parseObject(n int, prefix string, data []byte) (object, error) {
	o := object{n: n, prefix: prefix}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return o, badLine(n, "%snot valid JSON: %s", where(prefix), jsonErr(err))
	}
	data = bytes.Trim(data, " \t\r\n")
	if data[0] != '{' {
		return o, badLine(n, "%smust be a JSON object, not %s", where(prefix), jsonKind(data))
	}
	o.f = make(map[string]json.RawMessage, 16)
	i := skipSpace(data, 1)
	for data[i] != '}' {
		end := skipString(data, i)
		key := unquote(data[i:end])
		i = skipSpace(data, skipSpace(data, end)+1) // past ':'
		end = skipValue(data, i)
		if _, dup := o.f[key]; dup {
			return o, badLine(n, "field %q appears twice", prefix+key)
		}
		o.f[key] = data[i:end:end]
		o.keys = append(o.keys, key)
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return o, nil
}

// The skip functions walk text that json.Valid accepted.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

// unquote decodes a valid JSON string literal.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s) // valid by construction
	return s
}

func where(prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.TrimSuffix(prefix, ".") + ": "
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end") {
		return "unexpected end of line"
	}
	return err.Error()
}

// jsonKind names the JSON type of a value for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// checkFields rejects fields the kind does not know, the first in line order.
func (o object) checkFields(allowed map[string]bool) error {
	for _, k := range o.keys {
		if !allowed[k] {
			return badLine(o.n, "unknown field %q", o.prefix+k)
		}
	}
	return nil
}

// get returns a field's raw value; null counts as absent.
func (o object) get(name string) (json.RawMessage, bool) {
	raw, ok := o.f[name]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

func (o object) missing(name string) error {
	return badLine(o.n, "missing required field %q", o.prefix+name)
}

func (o object) wrongType(name, want string, raw json.RawMessage) error {
	return badLine(o.n, "%s must be %s, not %s %s", o.prefix+name, want, jsonKind(raw), show(raw))
}

// show quotes a raw value for an error message, cut to a readable length.
func show(raw []byte) string {
	const max = 40
	if len(raw) <= max {
		return string(raw)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return string(raw[:cut]) + "…"
}

// str returns a string field ("" and false when absent).
func (o object) str(name string) (string, bool, error) {
	raw, ok := o.get(name)
	if !ok {
		return "", false, nil
	}
	if raw[0] != '"' {
		return "", false, o.wrongType(name, "a string", raw)
	}
	s := unquote(raw)
	if strings.IndexByte(s, 0) >= 0 {
		// PostgreSQL text cannot hold NUL; refuse it on both databases.
		return "", false, badLine(o.n, "%s must not contain the NUL character (\\u0000)", o.prefix+name)
	}
	return s, true, nil
}

// id returns a required non-empty id, login or reference in its stored
// form (usermerge.CleanID: trimmed, NFC, no invisible characters).
func (o object) id(name string) (string, error) {
	s, ok, err := o.str(name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", o.missing(name)
	}
	if s, err = usermerge.CleanID(o.prefix+name, s); err != nil {
		return "", badLine(o.n, "%s", usermerge.ErrorMessage(err))
	}
	if s == "" {
		return "", badLine(o.n, "%s must not be empty", o.prefix+name)
	}
	return s, nil
}

// optID returns an optional id or reference in its stored form; ok is
// false when absent.
func (o object) optID(name string) (string, bool, error) {
	s, ok, err := o.str(name)
	if err != nil || !ok {
		return "", false, err
	}
	if s, err = usermerge.CleanID(o.prefix+name, s); err != nil {
		return "", false, badLine(o.n, "%s", usermerge.ErrorMessage(err))
	}
	return s, true, nil
}

// optStr returns an optional string field, "" when absent.
func (o object) optStr(name string) (string, error) {
	s, _, err := o.str(name)
	return s, err
}

func (o object) integer(name string) (int64, error) {
	raw, ok := o.get(name)
	if !ok {
		return 0, o.missing(name)
	}
	if jsonKind(raw) != "a number" {
		return 0, o.wrongType(name, "an integer", raw)
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, badLine(o.n, "%s is out of range: %s", o.prefix+name, show(raw))
		}
		return 0, badLine(o.n, "%s must be an integer, not %s", o.prefix+name, show(raw))
	}
	return v, nil
}

func (o object) number(name string) (float64, error) {
	raw, ok := o.get(name)
	if !ok {
		return 0, o.missing(name)
	}
	if jsonKind(raw) != "a number" {
		return 0, o.wrongType(name, "a number", raw)
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, badLine(o.n, "%s is out of range: %s", o.prefix+name, show(raw))
	}
	return v, nil
}

// boolean returns a boolean field; ok is false when absent.
func (o object) boolean(name string) (v, ok bool, err error) {
	raw, ok := o.get(name)
	if !ok {
		return false, false, nil
	}
	switch string(raw) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, o.wrongType(name, "true or false", raw)
}

// time returns a time field as stored milliseconds; ok is false when absent.
func (o object) time(name string) (ms int64, ok bool, err error) {
	raw, ok := o.get(name)
	if !ok {
		return 0, false, nil
	}
	s, _, err := o.str(name)
	if err != nil {
		return 0, false, o.wrongType(name, "an RFC 3339 time string", raw)
	}
	if ms, err = parseTime(s); err != nil {
		return 0, false, badLine(o.n, "%s must be an RFC 3339 time such as \"2024-05-01T09:30:00Z\", not %q", o.prefix+name, cut(s))
	}
	return ms, true, nil
}

func (o object) reqTime(name string) (int64, error) {
	ms, ok, err := o.time(name)
	if err == nil && !ok {
		err = o.missing(name)
	}
	return ms, err
}

// parseTime accepts any RFC 3339 time (offsets, any fraction) and returns
// its milliseconds.
func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return Millis(t), nil
}

func cut(s string) string {
	if len(s) <= 40 {
		return s
	}
	b := []byte(s)
	return show(b[:41])
}

// oneOf checks v is one of the allowed values.
func oneOf(n int, name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return badLine(n, "%s must be %s, not %q", name, orList(allowed), cut(v))
}

func orList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// jsonLine builds one export line with keys in the order they are added.
type jsonLine struct {
	b []byte
}

func (l *jsonLine) reset(kind string) {
	l.b = append(l.b[:0], `{"kind":`...)
	l.b = appendString(l.b, kind)
}

func (l *jsonLine) key(k string) {
	l.b = append(l.b, ',')
	l.b = appendString(l.b, k)
	l.b = append(l.b, ':')
}

func (l *jsonLine) str(k, v string) {
	l.key(k)
	l.b = appendString(l.b, v)
}

// optStr writes a string field only when it is not empty: empty optional
// fields are omitted.
func (l *jsonLine) optStr(k, v string) {
	if v != "" {
		l.str(k, v)
	}
}

func (l *jsonLine) int(k string, v int64) {
	l.key(k)
	l.b = strconv.AppendInt(l.b, v, 10)
}

// float writes a number the way encoding/json does, so values read back
// compare equal and print the same.
func (l *jsonLine) float(k string, f float64) {
	l.key(k)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	l.b = strconv.AppendFloat(l.b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(l.b)
		if n >= 4 && l.b[n-4] == 'e' && l.b[n-3] == '-' && l.b[n-2] == '0' {
			l.b[n-2] = l.b[n-1]
			l.b = l.b[:n-1]
		}
	}
}

func (l *jsonLine) bool(k string, v bool) {
	l.key(k)
	l.b = strconv.AppendBool(l.b, v)
}

func (l *jsonLine) time(k string, ms int64) {
	l.key(k)
	l.b = append(l.b, '"')
	l.b = FromMillis(ms).AppendFormat(l.b, exportTime)
	l.b = append(l.b, '"')
}

func (l *jsonLine) end() []byte {
	return append(l.b, '}', '\n')
}

// appendString writes s as a JSON string. Unlike encoding/json it leaves <, >
// and & alone, so exported text stays readable; invalid UTF-8 (which import
// never stores) becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
