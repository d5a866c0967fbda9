package httpserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestLimiter_APlacePastTheLimitsIsAnIdleOnesOrRefused: from one source, a connection past
// PerSource is refused with a 503 while the others are busy; once one of them is idle (a
// keep-alive connection between requests) the next takes its place and the idle one is closed;
// and a trusted proxy's connections count toward Total only.
func TestLimiter_APlacePastTheLimitsIsAnIdleOnesOrRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		open   int // connections that stay open before the refused one
	}{
		{"per source", Limits{Total: 10, PerSource: 2}, 2},
		{"in all, a trusted proxy", Limits{Total: 3, PerSource: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, 3},
	} {
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l := NewLimiter(tc.limits)
		ln := l.Listener(raw)
		accepted := make(chan net.Conn, 16)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		dial := func() net.Conn {
			c, err := net.Dial("tcp", raw.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		refused := func(c net.Conn) bool {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			return err == nil && resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""
		}
		closed := func(c net.Conn) bool {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err := c.Read(make([]byte, 1))
			return err == io.EOF
		}
		var held, served []net.Conn
		for range tc.open {
			held = append(held, dial())
			served = append(served, <-accepted)
		}
		if extra := dial(); !refused(extra) {
			t.Errorf("%s: the connection past the limit was not refused with a 503", tc.name)
		}
		// The first goes idle: the next connection takes its place, and it is closed.
		l.ConnState(served[0], http.StateIdle)
		next := dial()
		select {
		case c := <-accepted:
			served = append(served, c)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no connection accepted in the idle one's place", tc.name)
		}
		if !closed(held[0]) {
			t.Errorf("%s: the idle connection whose place was taken is still open", tc.name)
		}
		// A place given back by a close is taken too, and the counts come back to nothing.
		served[1].Close()
		third := dial()
		select {
		case c := <-accepted:
			served = append(served, c)
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no connection accepted after one was closed", tc.name)
		}
		ln.Close()
		for _, c := range append(held, append(served, next, third)...) {
			c.Close()
		}
		if l.total != 0 || len(l.bySource) != 0 || l.idle.Len() != 0 {
			t.Errorf("%s: after every close, %d open, by source %v, %d idle", tc.name, l.total, l.bySource, l.idle.Len())
		}
	}
}
