package server

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// What one client may hold, so that slow or hostile clients cannot stall
// the server for everyone (PRODUCT.md §8: nothing one tenant does affects
// another).
const (
	// DefaultMaxConnections caps the connections served at once.
	DefaultMaxConnections = 512
	// DefaultImportTimeout bounds how long an import's body may take to
	// arrive (1 GiB at about 15 Mbit/s).
	DefaultImportTimeout = 10 * time.Minute
	// DefaultReadTimeout bounds reading a request, headers and body (JSON
	// bodies are at most 1 MiB); imports get DefaultImportTimeout instead.
	DefaultReadTimeout = time.Minute
	// DefaultWriteTimeout bounds handling a request and writing its answer.
	// An export streams: it may take longer as long as the client keeps
	// reading, each chunk within this time (see stallWriter).
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultIdleTimeout closes keep-alive connections left idle.
	DefaultIdleTimeout = 2 * time.Minute
	// readHeaderTimeout bounds the request line and headers.
	readHeaderTimeout = 10 * time.Second
)

// Timeouts are the http.Server timeouts; zero fields take the defaults.
type Timeouts struct {
	Read, Write, Idle time.Duration
}

func (t Timeouts) orDefaults() Timeouts {
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	return t
}

// HTTPServer returns an http.Server for s with its timeouts: a client
// cannot hold a connection by sending its headers or body slowly, nor by
// reading the answer slowly.
func (s *Server) HTTPServer() *http.Server {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       s.timeouts.Idle,
	}
	// A detection run in the background stops with the server.
	hs.RegisterOnShutdown(s.stopBG)
	return hs
}

// LimitListener serves at most n connections at once (n <= 0:
// DefaultMaxConnections). A connection over the cap is answered at once
// with 503 and Retry-After and closed, rather than left waiting unseen in
// the kernel's queue; idle keep-alive connections count, and the server's
// timeouts end them.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConnections
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), refusing: make(chan struct{}, 64)}
}

type limitListener struct {
	net.Listener
	slots    chan struct{}
	refusing chan struct{} // bounds the refusals being written at once
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
		default:
		}
		select {
		case l.refusing <- struct{}{}:
			go func() {
				defer func() { <-l.refusing }()
				refuseConn(c)
			}()
		default: // a flood: no answer at all
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

var refusal = func() []byte {
	body := `{"error":{"code":"unavailable","reason":"too_many_connections","message":"the server is serving as many connections as it may; try again shortly"}}` + "\n"
	return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: " +
		strconv.Itoa(RetryAfterSeconds) + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

// refuseConn answers a connection over the cap without parsing its
// request. It first waits (briefly) for the request's first bytes: an answer
// that arrives before the client has sent anything is, to HTTP clients such
// as Go's, an unsolicited response on an idle connection, and they report a
// broken connection instead of the 503. Then it reads and drops what the
// client sends for a moment, so that closing does not reset the connection
// before the client has read the answer.
func refuseConn(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	var first [1]byte
	if _, err := c.Read(first[:]); err != nil {
		return
	}
	if _, err := c.Write(refusal); err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// stallWriter is an export's connection: each write gets the write timeout
// anew, so an export may run as long as it needs while the client reads,
// and a client that stops reading is cut off (and the export's read
// snapshot released) within one timeout.
type stallWriter struct {
	w  io.Writer
	rc *http.ResponseController
	d  time.Duration
}

func (s stallWriter) Write(p []byte) (int, error) {
	s.rc.SetWriteDeadline(time.Now().Add(s.d))
	return s.w.Write(p)
}
