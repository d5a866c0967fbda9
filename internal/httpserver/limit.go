package httpserver

import (
	"net"
	"net/netip"
	"sync"

	"github.com/breachnotice/breachnotice/internal/clientip"
)

// Limits bound the connections a server holds open: Total at once, and PerSource from one
// client source (an IPv4 address, an IPv6 /64: clientip.Source). Zero is no limit. Trusted
// proxies (Exempt) count toward Total only: every client behind them arrives from their
// addresses.
type Limits struct {
	Total, PerSource int
	Exempt           clientip.Proxies
}

// Limit wraps ln so that a connection beyond l is closed as soon as it is accepted, before a
// byte of it is read: one client opening thousands of connections — idle, or sending headers
// or a body it never finishes — took every file descriptor of the server, and with them the
// public verification page, the providers' webhooks and the operators' API (a review). Closing
// rather than leaving it in the kernel's queue keeps accepting, so the others are still served.
func Limit(ln net.Listener, l Limits) net.Listener {
	if l.Total <= 0 && l.PerSource <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, limits: l, bySource: map[string]int{}}
}

type limitListener struct {
	net.Listener
	limits Limits

	mu       sync.Mutex
	total    int
	bySource map[string]int
}

func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		source := ln.source(c)
		if ln.take(source) {
			return &limitedConn{Conn: c, release: func() { ln.give(source) }}, nil
		}
		c.Close()
	}
}

// source is what c counts toward per source, "" when it counts toward Total only.
func (ln *limitListener) source(c net.Conn) string {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil || ln.limits.PerSource <= 0 {
		return ""
	}
	addr := ap.Addr().Unmap()
	if ln.limits.Exempt.Trusts(addr) {
		return ""
	}
	return clientip.Source(addr.String())
}

func (ln *limitListener) take(source string) bool {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.limits.Total > 0 && ln.total >= ln.limits.Total ||
		source != "" && ln.bySource[source] >= ln.limits.PerSource {
		return false
	}
	ln.total++
	if source != "" {
		ln.bySource[source]++
	}
	return true
}

func (ln *limitListener) give(source string) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	ln.total--
	if source != "" {
		if ln.bySource[source]--; ln.bySource[source] <= 0 {
			delete(ln.bySource, source)
		}
	}
}

// limitedConn gives its place back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
