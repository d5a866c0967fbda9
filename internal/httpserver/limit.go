package httpserver

import (
	"container/list"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/clientip"
)

// Limits bound the connections a server holds open: Total at once, and PerSource from one
// client source (an IPv4 address, an IPv6 /64: clientip.Source). Zero is no limit. Trusted
// proxies (Exempt) count toward Total only: every client behind them arrives from their
// addresses. Log hears, at most once a minute, how many connections were refused.
type Limits struct {
	Total, PerSource int
	Exempt           clientip.Proxies
	Log              *slog.Logger
}

// Limiter bounds the connections of the listener it wraps (Listener) and follows their state
// (ConnState, to be the http.Server's): one client opening thousands of connections — idle, or
// sending headers or a body it never finishes — took every file descriptor of the server, and
// with them the public verification page, the providers' webhooks and the operators' API (a
// review).
//
// A connection past a limit first takes the place of the oldest idle keep-alive connection
// (its source's own, for PerSource): idle ones cost their client nothing to hold, and a cap
// they could fill would let sixteen addresses lock everyone out (the review of the first
// version). Only when none is idle is the new one refused — answered 503 with Retry-After and
// closed, not left in the kernel's queue, so that accepting goes on for everyone else.
type Limiter struct {
	limits Limits

	mu       sync.Mutex
	total    int
	bySource map[string]int
	idle     *list.List // of *limitedConn, oldest first
	refused  int
	said     time.Time
}

// NewLimiter returns the limiter of l (nil when l limits nothing).
func NewLimiter(l Limits) *Limiter {
	if l.Total <= 0 && l.PerSource <= 0 {
		return nil
	}
	return &Limiter{limits: l, bySource: map[string]int{}, idle: list.New()}
}

// Listener wraps ln; a nil Limiter returns ln.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	if l == nil {
		return ln
	}
	return &limitListener{Listener: ln, l: l}
}

// ConnState follows the connections' state, for http.Server.ConnState (a nil Limiter's does
// nothing).
func (l *Limiter) ConnState(c net.Conn, s http.ConnState) {
	lc, ok := c.(*limitedConn)
	if l == nil || !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lc.idle != nil {
		l.idle.Remove(lc.idle)
		lc.idle = nil
	}
	if s == http.StateIdle {
		lc.idle = l.idle.PushBack(lc)
	}
}

type limitListener struct {
	net.Listener
	l *Limiter
}

func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: ln.l, source: ln.l.source(c)}
		if evict, ok := ln.l.take(lc); ok {
			if evict != nil {
				evict.Close()
			}
			return lc, nil
		}
		refuse(c)
	}
}

// refuse answers a connection refused for the limits and closes it.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	c.Close()
}

// source is what c counts toward per source, "" when it counts toward Total only.
func (l *Limiter) source(c net.Conn) string {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil || l.limits.PerSource <= 0 {
		return ""
	}
	addr := ap.Addr().Unmap()
	if l.limits.Exempt.Trusts(addr) {
		return ""
	}
	return clientip.Source(addr.String())
}

// take counts c in, or says it cannot be; evict is the idle connection whose place it takes,
// to be closed (outside the lock: its Close gives the place back, which is already taken).
func (l *Limiter) take(c *limitedConn) (evict *limitedConn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	overSource := c.source != "" && l.bySource[c.source] >= l.limits.PerSource
	overTotal := l.limits.Total > 0 && l.total >= l.limits.Total
	if overSource || overTotal {
		evict = l.oldestIdle(c.source, overSource)
		if evict == nil {
			l.refused++
			if now := time.Now(); l.limits.Log != nil && now.Sub(l.said) >= time.Minute {
				l.limits.Log.Warn("connections refused: the server holds as many as HTTP_MAX_CONNECTIONS or one client as many as HTTP_MAX_CONNECTIONS_PER_CLIENT, none idle",
					"refused", l.refused, "open", l.total, "max", l.limits.Total, "max_per_client", l.limits.PerSource)
				l.refused, l.said = 0, now
			}
			return nil, false
		}
		// Its place goes to c now; its Close must not give it back again.
		l.idle.Remove(evict.idle)
		evict.idle = nil
		evict.released = true
		l.total--
		l.leave(evict.source)
	}
	l.total++
	if c.source != "" {
		l.bySource[c.source]++
	}
	return evict, true
}

// oldestIdle is the oldest idle connection of source when sameSource, else of any source.
func (l *Limiter) oldestIdle(source string, sameSource bool) *limitedConn {
	for e := l.idle.Front(); e != nil; e = e.Next() {
		if c := e.Value.(*limitedConn); !sameSource || c.source == source {
			return c
		}
	}
	return nil
}

func (l *Limiter) leave(source string) {
	if source != "" {
		if l.bySource[source]--; l.bySource[source] <= 0 {
			delete(l.bySource, source)
		}
	}
}

func (l *Limiter) give(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.idle != nil {
		l.idle.Remove(c.idle)
		c.idle = nil
	}
	if c.released {
		return
	}
	c.released = true
	l.total--
	l.leave(c.source)
}

// limitedConn gives its place back once, when closed.
type limitedConn struct {
	net.Conn
	l      *Limiter
	source string
	// Under l.mu: its element in l.idle while idle, and whether its place was given back
	// (closed, or taken by another).
	idle     *list.Element
	released bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.l.give(c)
	return err
}

// CloseWrite half-closes the connection when it can, as net/http does after refusing a request
// whose headers it would not read: the wrapper must not hide it.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
