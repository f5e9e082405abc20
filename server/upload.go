package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"usermerge"
	"usermerge/store"
)

// DefaultMaxImportBytes caps an import over HTTP; larger loads go through
// the command line on the database.
const DefaultMaxImportBytes = 1 << 30

// timeoutCode marks a request whose body did not arrive in time: 408.
const timeoutCode usermerge.Code = "timeout"

// importData receives an upload in full, into a temporary file, checking
// it as it arrives, and only then imports it. The import's write
// transaction (on SQLite, the database's one write lock) is open only
// while a local file is read: however slowly a client sends, nobody else
// waits for it. The body may take ImportTimeout to arrive and hold
// MaxImportBytes; one import per tenant is received at a time.
func (s *Server) importData(w http.ResponseWriter, r *http.Request, c *call) error {
	format := "ndjson"
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "text/csv"):
		format = "csv"
	case ct == "", strings.HasPrefix(ct, "application/x-ndjson"), strings.HasPrefix(ct, "application/jsonl"),
		strings.HasPrefix(ct, "application/json"), strings.HasPrefix(ct, "text/plain"):
	default:
		return badRequest("send NDJSON (Content-Type: application/x-ndjson) or accounts CSV (text/csv), not %q", ct)
	}
	// Who may import is settled before a byte of the body is read.
	if err := s.eng.CheckImport(r.Context(), c.Caller); err != nil {
		return err
	}
	if _, busy := s.importing.LoadOrStore(c.Tenant, struct{}{}); busy {
		return usermerge.Errorf(usermerge.Conflict, "import_in_progress",
			"another import into tenant %s is under way; send this one when it has finished", c.Tenant)
	}
	defer s.importing.Delete(c.Tenant)

	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(s.importTimeout)) // not supported by test recorders: then none
	f, err := os.CreateTemp(s.tempDir, "usermerge-import-*")
	if err != nil {
		return usermerge.InternalError(err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	body := upload{r: http.MaxBytesReader(w, r.Body, s.maxImportBytes), max: s.maxImportBytes, timeout: s.importTimeout}
	if err := store.CheckImport(io.TeeReader(body, f), format); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return usermerge.InternalError(err)
	}
	// The body is in; writing a large import may take longer than the
	// write timeout, and its answer is small.
	rc.SetWriteDeadline(time.Time{})
	stats, err := s.eng.Import(r.Context(), c.Caller, f, format)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats)
	return nil
}

// upload turns the failures of reading a body into errors the client
// understands; nothing was imported in any of them.
type upload struct {
	r       io.Reader
	max     int64
	timeout time.Duration
}

func (u upload) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil, err == io.EOF:
	case errors.As(err, &mbe):
		return n, usermerge.Errorf(usermerge.Invalid, "too_large",
			"the import is larger than %d bytes; split it, or import it with the command line on the database", u.max)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return n, &usermerge.Error{Code: timeoutCode, Reason: "upload_too_slow",
			Message: "the upload did not arrive within " + u.timeout.String() + "; nothing was imported", Err: err}
	default: // the client went away or sent a broken body
		return n, badRequest("the upload was interrupted; nothing was imported")
	}
	return n, err
}
