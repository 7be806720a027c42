package remote

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// transport carries calls to one process over plain HTTP/1.1 keep-alive
// connections, on the calling goroutine: the caller writes its request and
// reads the answer itself.
//
// http.Transport hands every request to a goroutine that writes it and gets
// the answer from another that reads it, and each hand-off readies a
// goroutine, which wakes an idle thread when the process has a processor to
// spare. A call that would take a few microseconds of work then waits for
// thread wake-ups, and on a small, mostly idle machine (a shop's processes
// on a few vCPUs) those are what a remote call costs: BenchmarkRemoteCall
// in cmd/modshop. Here a call wakes its goroutine once, when the answer
// arrives.
//
// It serves http:// base URLs (an https:// one goes through http.Transport).
type transport struct {
	addr string // host:port
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu   sync.Mutex
	idle []*conn // the most recently used last
}

// conn is one keep-alive connection, used by one call at a time.
type conn struct {
	net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it was put back in the pool
}

const (
	maxIdleConns = 64
	// idleTimeout drops connections before the server's idle timeout
	// (90 s, platform/httpx) closes them.
	idleTimeout = 60 * time.Second
	// maxAnswer bounds an answer's body (an export of the whole catalog
	// is far smaller).
	maxAnswer = 64 << 20
)

// aLongTimeAgo is a deadline that has passed: it ends a read or write in
// progress.
var aLongTimeAgo = time.Unix(1, 0)

func newTransport(addr string) *transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &transport{addr: addr, dial: d.DialContext}
}

// roundTrip sends req on an idle connection, or a new one, and returns the
// status and body of the answer. It ends when req's context does.
func (t *transport) roundTrip(req *http.Request) (int, []byte, error) {
	ctx := req.Context()
	c, err := t.get(ctx)
	if err != nil {
		return 0, nil, err
	}
	// The context's end (its deadline, or a cancel) cuts a write or read
	// that waits; no timer of our own is needed.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
	status, body, reuse, err := c.exchange(req)
	if !stop() {
		// The context ended: the connection's deadline has passed.
		reuse = false
		if err != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	}
	if reuse {
		t.put(c)
	} else {
		_ = c.Close()
	}
	return status, body, err
}

// exchange writes req and reads its answer; reuse says whether the
// connection may carry another call.
func (c *conn) exchange(req *http.Request) (status int, body []byte, reuse bool, err error) {
	if err := req.Write(c.bw); err != nil {
		return 0, nil, false, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return 0, nil, false, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err == nil && len(body) > maxAnswer {
		err = fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
	}
	// Nothing may be left to read: the next answer starts at the next byte.
	return resp.StatusCode, body, err == nil && !resp.Close && c.br.Buffered() == 0, err
}

// get takes the most recently used idle connection that is still open, or
// dials a new one.
func (t *transport) get(ctx context.Context) (*conn, error) {
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		// The server closes a connection it keeps idle too long, and every
		// one when it stops: a call must not be sent on such a one, which
		// would fail it after the fact (a call that is not idempotent is
		// not tried again).
		if time.Since(c.used) < idleTimeout && open(c.Conn) {
			return c, nil
		}
		_ = c.Close()
	}
	nc, err := t.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096)}, nil
}

// put gives a connection back to the pool, and closes those idle too long.
func (t *transport) put(c *conn) {
	c.used = time.Now()
	var stale []*conn
	t.mu.Lock()
	for len(t.idle) > 0 && (len(t.idle) >= maxIdleConns || c.used.Sub(t.idle[0].used) >= idleTimeout) {
		stale = append(stale, t.idle[0])
		t.idle[0] = nil
		t.idle = t.idle[1:]
	}
	t.idle = append(t.idle, c)
	t.mu.Unlock()
	for _, s := range stale {
		_ = s.Close()
	}
}
