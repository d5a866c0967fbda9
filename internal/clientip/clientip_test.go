package clientip

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestOf_ForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	proxies := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tt := range []struct {
		name, peer, xff, want string
	}{
		{"direct client, forged header", "203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},
		{"through the proxy", "10.0.0.2:443", "198.51.100.1", "198.51.100.1"},
		{"forged hops to the left", "10.0.0.2:443", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"IPv6 client through an IPv6 proxy", "[fd00::2]:443", "2001:db8:1:2::5", "2001:db8:1:2::5"},
		{"mapped IPv4 peer", "[::ffff:203.0.113.9]:5000", "", "203.0.113.9"},
		{"garbage", "10.0.0.2:443", "not-an-address", "10.0.0.2"},
	} {
		r := httptest.NewRequest("GET", "/verify", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := proxies.Of(r); got != tt.want {
			t.Errorf("%s: Of = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSource_IPv6CountsPerSlash64(t *testing.T) {
	for ip, want := range map[string]string{
		"198.51.100.7":          "198.51.100.7",
		"::ffff:198.51.100.7":   "198.51.100.7",
		"2001:db8:1:2::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::ff": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":       "2001:db8:1:3::/64",
	} {
		if got := Source(ip); got != want {
			t.Errorf("Source(%q) = %q, want %q", ip, got, want)
		}
	}
}
