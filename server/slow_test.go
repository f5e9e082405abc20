package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// newServedEnv is newEnv behind the real http.Server settings and the
// connection cap, as `usermerge serve` runs it.
func newServedEnv(t *testing.T, cfg Config, maxConns int) *env {
	t.Helper()
	return newServedEnvWatched(t, cfg, maxConns, nil)
}

// newServedEnvWatched is newServedEnv with connState called on each of the
// server's connections' changes of state.
func newServedEnvWatched(t *testing.T, cfg Config, maxConns int, connState func(net.Conn, http.ConnState)) *env {
	t.Helper()
	db := storetest.Open(t)
	db.Now = func() time.Time { return testNow }
	e := &env{t: t, db: db, eng: engine.New(db, nil)}
	seedHTTPFixture(t, db)
	cfg.Engine = e.eng
	srv := New(cfg)
	e.srv = httptest.NewUnstartedServer(nil)
	e.srv.Config = srv.HTTPServer()
	e.srv.Config.ConnState = connState
	e.srv.Listener = LimitListener(e.srv.Listener, maxConns)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	return e
}

// dripBody is a request body sent one byte a second until stop is closed
// (and at least min bytes have gone), then all at once.
type dripBody struct {
	data     []byte
	min      int
	stop     chan struct{}
	finished chan struct{} // closed when the last byte has been handed over
	sent     int
}

func (d *dripBody) Read(p []byte) (int, error) {
	if d.sent == len(d.data) {
		return 0, io.EOF
	}
	fast := false
	if d.sent >= d.min {
		select {
		case <-d.stop:
			fast = true
		default:
		}
	}
	if !fast && d.sent > 0 {
		if d.sent < d.min {
			time.Sleep(time.Second)
		} else {
			select {
			case <-time.After(time.Second):
			case <-d.stop:
			}
		}
	}
	n := 1
	if fast {
		n = copy(p, d.data[d.sent:])
	} else {
		p[0] = d.data[d.sent]
	}
	d.sent += n
	if d.sent == len(d.data) {
		close(d.finished)
	}
	return n, nil
}

// An import sent one byte a second holds nobody up: while it trickles in,
// another tenant's administrator signs in and merges, three times, and
// every call completes before the slow body has been sent.
// When the body is in, the import is written.
func TestSlowImportDoesNotStallOtherTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newServedEnv(t, Config{}, 0)
		err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
			for _, id := range []string{"G3", "G4"} {
				a := usermerge.Account{TenantID: "globex", ID: id, Login: id, Name: id, Status: usermerge.Active, CreatedAt: testNow}
				if err := tx.PutAccount(context.Background(), a); err != nil {
					return err
				}
				if err := tx.PutMembership(context.Background(), "globex", id, "groot"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slow := e.withToken("acme", "admin")
		line := `{"kind":"tenant","id":"acme","name":"Acme, slowly"}` + "\n"
		body := &dripBody{data: []byte(line), min: 4, stop: make(chan struct{}), finished: make(chan struct{})}
		req, _ := http.NewRequest("POST", e.base+"/api/v1/tenants/acme/import", body)
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+slow.token)
		req.ContentLength = -1
		type answer struct {
			status int
			body   string
			err    error
		}
		imported := make(chan answer, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				imported <- answer{err: err}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			imported <- answer{status: resp.StatusCode, body: string(b)}
		}()

		// The other tenant's work, while the body trickles in. The drip
		// goes on until it is done (at most the body's length, 50-odd
		// seconds, if it is stalled).
		func() {
			defer close(body.stop)
			// globex's policy forbids reverts: each merge takes another
			// account.
			for _, src := range []string{"G2", "G3", "G4"} {
				g := e.signIn("gadmin")
				if st := g.call("POST", "/api/v1/tenants/globex/merges", map[string]any{"target": "G1", "sources": []string{src}}, nil); st != http.StatusCreated {
					t.Errorf("merge %s in globex during the slow import: status %d", src, st)
					return
				}
			}
			select {
			case <-body.finished:
				t.Errorf("the other tenant's work completed only after the slow body had been sent")
			default:
			}
		}()

		a := <-imported
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("the slow import: %v %d %s", a.err, a.status, a.body)
		}
		var name string
		if err := e.db.SQL().QueryRow(`SELECT name FROM tenants WHERE id = 'acme'`).Scan(&name); err != nil || name != "Acme, slowly" {
			t.Errorf("after the slow import the tenant is named %q (%v)", name, err)
		}
	})
}

// An import body that does not arrive within the import timeout is
// refused with 408, and nothing is imported.
func TestImportBodyDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newServedEnv(t, Config{ImportTimeout: 2 * time.Second, MaxImportBytes: 1000}, 0)
		c := e.withToken("acme", "admin")
		before := e.snapshotAll()
		line := `{"kind":"tenant","id":"acme","name":"never"}` + "\n"
		body := &dripBody{data: []byte(line), min: len(line), stop: make(chan struct{}), finished: make(chan struct{})}
		defer close(body.stop)
		req, _ := http.NewRequest("POST", e.base+"/api/v1/tenants/acme/import", body)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || errorOf(t, b).Error.Reason != "upload_too_slow" {
			t.Errorf("a body slower than the import timeout: %d %s, want 408 upload_too_slow", resp.StatusCode, b)
		}
		select {
		case <-body.finished:
			t.Errorf("the server waited for the whole body")
		default:
		}
		// Over the size cap: refused, nothing imported.
		big := `{"kind":"tenant","id":"acme","name":"` + strings.Repeat("x", 2000) + `"}`
		if st, b := c.raw("POST", "/api/v1/tenants/acme/import", "application/x-ndjson", []byte(big)); st != http.StatusUnprocessableEntity ||
			errorOf(t, b).Error.Reason != "too_large" {
			t.Errorf("a body over the cap: %d %s, want 422 too_large", st, b)
		}
		// A broken line is refused before anything is written.
		if st, b := c.raw("POST", "/api/v1/tenants/acme/import", "application/x-ndjson", []byte(`{"kind":"tenant","id":"acme"}`+"\n{oops\n")); st != http.StatusUnprocessableEntity ||
			!strings.Contains(errorOf(t, b).Error.Message, "line 2: not valid JSON") {
			t.Errorf("a broken line: %d %s", st, b)
		}
		if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
			t.Errorf("refused imports changed the database (-before +after):\n%s", diff)
		}
	})
}

// At most MaxConnections are served at once; one more is answered 503
// with Retry-After at once, and served again when a connection closes.
func TestConnectionCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newServedEnv(t, Config{}, 2)
		addr := strings.TrimPrefix(e.base, "http://")
		hold := func() net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			// One request answered: the server has taken the connection,
			// which stays open (keep-alive).
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("held connection: %v %v", resp, err)
			}
			resp.Body.Close()
			return c
		}
		c1, c2 := hold(), hold()
		defer c2.Close()
		fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := fresh.Get(e.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" || errorOf(t, b).Error.Reason != "too_many_connections" {
			t.Errorf("a third connection: %d %q %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		c1.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/healthz", nil)
			resp, err := fresh.Do(req)
			if err != nil {
				t.Fatalf("after a connection closed, no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// An export streams for as long as the client keeps reading, past the
// write timeout; a client that stops reading is cut off within it, so it
// cannot hold the export's read snapshot.
func TestExportStreamsPastTheWriteTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		const writeTimeout = 300 * time.Millisecond
		closed := make(chan struct{}, 1) // the server closed the stalled client's connection
		var mu sync.Mutex
		var local string // that client's address
		e := newServedEnvWatched(t, Config{Timeouts: Timeouts{Write: writeTimeout}}, 0, func(c net.Conn, st http.ConnState) {
			mu.Lock()
			stalled := local != "" && c.RemoteAddr().String() == local
			mu.Unlock()
			if st == http.StateClosed && stalled {
				select {
				case closed <- struct{}{}:
				default:
				}
			}
		})
		// About 15 MB of sign-ins: more than socket buffers hold.
		if _, err := e.db.SQL().Exec(`INSERT INTO signins (tenant_id, id, account_id, at, ip, client)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
			SELECT 'acme', 'bulk-' || CAST(i AS TEXT), 'T', i, '10.1.2.3', 'a client string long enough to make the lines longer' FROM n`); err != nil {
			t.Fatal(err)
		}
		c := e.withToken("acme", "admin")
		get := func() *http.Response {
			req, _ := http.NewRequest("GET", e.base+"/api/v1/tenants/acme/export", nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("export: %v %v", resp, err)
			}
			return resp
		}

		// Read steadily but slowly: the whole export takes several write
		// timeouts and arrives complete.
		resp := get()
		start, lines := time.Now(), 0
		br := bufio.NewReaderSize(resp.Body, 1<<16)
		for {
			line, err := br.ReadSlice('\n')
			if err == io.EOF && len(line) == 0 {
				break
			}
			if err != nil {
				t.Fatalf("after %d lines: %v", lines, err)
			}
			lines++
			if lines%10000 == 0 {
				time.Sleep(writeTimeout / 3)
			}
		}
		resp.Body.Close()
		if lines < 100000 {
			t.Errorf("the export ended after %d lines", lines)
		}
		if took := time.Since(start); took < 2*writeTimeout {
			t.Logf("the slow read took only %v; the test did not outlast the write timeout", took)
		}

		// Stop reading: once the buffers between them are full, the server's
		// write blocks, and after one write timeout it gives up and closes
		// the connection. The test waits for that close, not for a fixed
		// time: on a loaded machine the server may take long to fill the
		// buffers.
		// The client's receive buffer is capped: Linux may grow it to
		// tens of megabytes, enough to take the whole export unread.
		alone := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetReadBuffer(256 << 10)
					mu.Lock()
					local = tc.LocalAddr().String()
					mu.Unlock()
				}
				return conn, err
			}}}
		req, _ := http.NewRequest("GET", e.base+"/api/v1/tenants/acme/export", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := alone.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %v %v", resp, err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadFull(resp.Body, make([]byte, 1<<16)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-closed:
		case <-time.After(100 * writeTimeout):
			t.Errorf("a stalled reader's connection is still open after %v", 100*writeTimeout)
		}
		if n, err := io.Copy(io.Discard, resp.Body); err == nil {
			t.Errorf("a stalled reader got the rest of the export (%d more bytes); want the connection cut", n)
		}
	})
}
