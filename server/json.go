package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads exactly one JSON object into v, refusing unknown fields,
// wrong types, trailing data, non-UTF-8 and bodies over maxJSONBody, each
// with a message that says what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return badRequest("the request body is larger than %d bytes", maxJSONBody)
		}
		return badRequest("the request body could not be read")
	}
	return decodeBytes(body, v)
}

// decodeBytes is decode of a body already read.
func decodeBytes(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return badRequest("the request body is not valid UTF-8")
	}
	if bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return badRequest("text in the request must not contain NUL characters")
	}
	if err := noDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var pe *time.ParseError
		switch {
		case errors.As(err, &pe):
			return badRequest("times are RFC 3339 text, such as \"2027-01-31T00:00:00Z\", not %q", pe.Value)
		case errors.As(err, &se):
			return badRequest("malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			if te.Field != "" {
				return badRequest("field %q must be %s, not %s", te.Field, kindName(te.Type.Kind().String()), te.Value)
			}
			return badRequest("the body must be a JSON object, not %s", te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("the JSON body ends too early")
		}
		return badRequest("the body is not a valid JSON object")
	}
	if dec.More() {
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

// noDuplicateKeys refuses a JSON document in which an object names a key
// twice (ignoring case, as decoding does): {"target":"A","target":"B"}
// must not quietly mean B.
func noDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return nil // syntax errors are reported by the real decode
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil
				}
				key, _ := k.(string)
				if seen[strings.ToLower(key)] {
					return badRequest("field %q appears more than once", key)
				}
				seen[strings.ToLower(key)] = true
				if err := walk(); err != nil {
					return err
				}
			}
			dec.Token() // the closing }
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			dec.Token() // the closing ]
		}
		return nil
	}
	return walk()
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "bool", "ptr":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "struct", "map":
		return "an object"
	}
	return k
}

// queryInt reads an optional integer parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// queryTime reads an optional time: RFC 3339, or a date (its midnight UTC;
// as the end of a range, the midnight after it, so the day is included).
func queryTime(r *http.Request, name string, end bool) (*time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, badRequest("%s must be an RFC 3339 time (2026-05-01T09:00:00Z) or a date (2026-05-01)", name)
	}
	if end {
		t = t.Add(24 * time.Hour)
	}
	return &t, nil
}

func pathInt(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, badRequest("%s must be a positive whole number", name)
	}
	return n, nil
}
