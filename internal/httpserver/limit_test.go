package httpserver

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestLimit_ConnectionsBeyondTheLimitsAreClosedAtOnce: from one source, the connection past
// PerSource is closed as soon as accepted, and a place given back is taken again; a trusted
// proxy's connections count toward Total only.
func TestLimit_ConnectionsBeyondTheLimitsAreClosedAtOnce(t *testing.T) {
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
		ln := Limit(raw, tc.limits)
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
		closed := func(c net.Conn) bool {
			_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			return err == io.EOF
		}
		var held, served []net.Conn
		for range tc.open {
			held = append(held, dial())
			served = append(served, <-accepted)
		}
		if extra := dial(); !closed(extra) {
			t.Errorf("%s: the connection past the limit was not closed", tc.name)
		}
		// A place given back (the server closes a connection) is taken by the next one.
		served[0].Close()
		next := dial()
		select {
		case c := <-accepted:
			served = append(served, c)
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no connection accepted after one was closed", tc.name)
		}
		if closed(next) {
			t.Errorf("%s: the connection after a place was given back was closed", tc.name)
		}
		ln.Close()
		for _, c := range append(held, append(served, next)...) {
			c.Close()
		}
	}
}
