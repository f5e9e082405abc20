package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// tcpProxy forwards connections to a database until it is cut: then the
// database is gone for whoever talks through it, as when a network or the
// server fails.
type tcpProxy struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns []net.Conn
}

func newTCPProxy(t *testing.T, to string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, to: to}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A lost PostgreSQL connection answers 503 with Retry-After, never 500,
// and says nothing of the driver's error.
func TestLostDatabaseAnswers503(t *testing.T) {
	storetest.PostgresURL(t)
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(storetest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		proxy := newTCPProxy(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		db, err := store.Open(context.Background(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return testNow }
		seedHTTPFixture(t, db)
		e := &env{t: t, db: db, eng: engine.New(db, nil)}
		e.srv = httptest.NewServer(New(Config{Engine: e.eng}).Handler())
		t.Cleanup(e.srv.Close)
		e.base = e.srv.URL
		c := e.withToken("acme", "admin")
		if st, body := c.raw("GET", "/api/v1/tenants/acme/accounts/S", "", nil); st != http.StatusOK {
			t.Fatalf("before the cut: %d %s", st, body)
		}

		proxy.cut()
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/api/v1/tenants/acme/accounts/S", ""},
			{"POST", "/api/v1/tenants/acme/merges", `{"target":"T","sources":["S"]}`},
			{"GET", "/healthz", ""},
		} {
			r, _ := http.NewRequest(req.method, e.base+req.path, strings.NewReader(req.body))
			r.Header.Set("Authorization", "Bearer "+c.token)
			r.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s %s with the database gone: %d %s, want 503", req.method, req.path, resp.StatusCode, b)
				continue
			}
			if req.path == "/healthz" {
				continue
			}
			if got := resp.Header.Get("Retry-After"); got != "5" {
				t.Errorf("%s %s: Retry-After %q, want 5", req.method, req.path, got)
			}
			eb := errorOf(t, b)
			if eb.Error.Code != "unavailable" || eb.Error.Reason != "database_unavailable" || strings.Contains(eb.Error.Message, "dial") ||
				strings.Contains(eb.Error.Message, "EOF") || strings.Contains(eb.Error.Message, "127.0.0.1") {
				t.Errorf("%s %s: error %+v, want unavailable/database_unavailable with a safe message", req.method, req.path, eb.Error)
			}
		}
	})
}
