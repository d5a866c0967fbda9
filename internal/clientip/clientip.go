// Package clientip tells which client a request came from, for the limits that count per
// client (console sign-in failures, public reference-code checks): the direct peer, or behind
// trusted TLS-terminating proxies the address they report — never X-Forwarded-For from anyone
// else, which any client can write.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted proxies in front of the server (TRUSTED_PROXIES).
type Proxies []netip.Prefix

// Trusts reports whether addr is one of the proxies.
func (p Proxies) Trusts(addr netip.Addr) bool {
	for _, prefix := range p {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// Of is the address a request came from: the direct peer, unless that peer is one of the
// proxies — then the rightmost address of X-Forwarded-For that is not a trusted proxy (the
// hops to its left were written by the client and prove nothing). Without trusted proxies
// X-Forwarded-For is ignored: anyone can send it, and a per-client limit would be trivially
// evaded.
func (p Proxies) Of(r *http.Request) string {
	peer, ok := Peer(r)
	if !ok {
		return remoteHost(r)
	}
	if !p.Trusts(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage from the client's side: the last trusted hop is what is known
		}
		addr = hop.Unmap()
		if !p.Trusts(addr) {
			break
		}
	}
	return addr.String()
}

// Source is what a per-client limit counts a client address as: an IPv4 address itself (an
// IPv4-mapped IPv6 address being that IPv4 address), an IPv6 address by its /64 prefix. A /64
// is one subscriber's or one host's network — the smallest that providers hand out — and a
// client picks any of its 2^64 addresses at will, so counting per IPv6 address would give
// every attempt a fresh limit.
func Source(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return addr.String()
	}
	return prefix.String()
}

// Peer is the address of the request's direct peer, an IPv4-mapped IPv6 address as the IPv4
// address; ok is false when RemoteAddr is no IP address.
func Peer(r *http.Request) (addr netip.Addr, ok bool) {
	peer, err := netip.ParseAddr(remoteHost(r))
	if err != nil {
		return netip.Addr{}, false
	}
	return peer.Unmap(), true
}

// remoteHost is the host part of the request's peer address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
