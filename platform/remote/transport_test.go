package remote_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/remote"
)

// wire is a bare server of the internal wire: op "count" answers how many
// calls it has had; the connections it accepted are counted.
type wire struct {
	*httptest.Server
	calls, conns atomic.Int64
	handle       func(w http.ResponseWriter, r *http.Request) // before the answer, if set
}

func newWire(t *testing.T) *wire {
	t.Helper()
	s := &wire{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.calls.Add(1)
		if s.handle != nil {
			s.handle(w, r)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"n":` + strconv.FormatInt(n, 10) + `}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

type count struct {
	N int64 `json:"n"`
}

var countOp = remote.Op1[probeIn, count]{Name: "count"}

func TestCallsShareKeepAliveConnections(t *testing.T) {
	s := newWire(t)
	c := remote.NewClient("probe", s.URL, token)
	for i := range 20 {
		if out, err := countOp.Call(context.Background(), c, probeIn{}); err != nil || out.N != int64(i+1) {
			t.Fatalf("call %d: %+v, %v", i+1, out, err)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("20 calls one after another opened %d connections, want 1", n)
	}
	// Calls at once open what they need, and the pool keeps them.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if _, err := countOp.Call(context.Background(), c, probeIn{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.calls.Load(); got != 220 {
		t.Fatalf("the server had %d calls, want 220", got)
	}
	if n := s.conns.Load(); n > 9 {
		t.Fatalf("8 callers opened %d connections", n)
	}
}

// A server that stops closes its idle connections: a call after that, even
// one that is never tried twice, goes out once on a new connection.
func TestCallAfterTheServerClosedItsConnections(t *testing.T) {
	s := newWire(t)
	c := remote.NewClient("probe", s.URL, token)
	if _, err := countOp.Call(context.Background(), c, probeIn{}); err != nil {
		t.Fatal(err)
	}
	s.CloseClientConnections()
	time.Sleep(50 * time.Millisecond) // the close reaches the client's end
	if out, err := countOp.Call(context.Background(), c, probeIn{}); err != nil || out.N != 2 {
		t.Fatalf("call after the close: %+v, %v; want the second call, once", out, err)
	}
	if n := s.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// A call is cut at its deadline, and the connection it waited on is not
// used again (its answer may still come).
func TestCallEndsAtItsDeadline(t *testing.T) {
	s := newWire(t)
	release := make(chan struct{})
	var hang atomic.Bool
	hang.Store(true)
	s.handle = func(http.ResponseWriter, *http.Request) {
		if hang.Load() {
			<-release
		}
	}
	defer close(release)
	c := remote.NewClient("probe", s.URL, token)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := countOp.Call(ctx, c, probeIn{})
	if !remote.IsUnavailable(err) || time.Since(start) > time.Second {
		t.Fatalf("%v after %s, want unavailable at the deadline", err, time.Since(start))
	}
	hang.Store(false)
	if out, err := countOp.Call(context.Background(), c, probeIn{}); err != nil || out.N != 2 {
		t.Fatalf("next call: %+v, %v", out, err)
	}
	if n := s.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a new one after the cut", n)
	}
}

// An answer that closes its connection (a server shutting down) is read,
// and the next call dials again.
func TestAnswerThatClosesItsConnection(t *testing.T) {
	s := newWire(t)
	s.handle = func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("Connection", "close") }
	c := remote.NewClient("probe", s.URL, token)
	for i := range 3 {
		if out, err := countOp.Call(context.Background(), c, probeIn{}); err != nil || out.N != int64(i+1) {
			t.Fatalf("call %d: %+v, %v", i+1, out, err)
		}
	}
	if n := s.conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}
