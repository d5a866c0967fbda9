package web

import (
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestSafeNext_KeepsOnlyPathsOfThisSite(t *testing.T) {
	for next, want := range map[string]string{
		"/campaigns/1":              "/campaigns/1",
		"/campaigns/1?done=created": "/campaigns/1?done=created",
		"/\t/evil.example":          "/campaigns", // browsers drop the tab: //evil.example
		"/%09/x":                    "/campaigns",
		"/%2F/x":                    "/campaigns",
		"/\n/x":                     "/campaigns",
		"//x":                       "/campaigns",
		"/\\x":                      "/campaigns",
		"https://x":                 "/campaigns",
		"x/y":                       "/campaigns",
		"":                          "/campaigns",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestClientIP_ForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tt := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client, forged header", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"through the proxy", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client forges hops to the left", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.0.0.2:443", []string{"198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"several headers", "10.0.0.2:443", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"garbage in the header", "10.0.0.2:443", []string{"not-an-address"}, "10.0.0.2"},
		{"proxy without a header", "10.0.0.2:443", nil, "10.0.0.2"},
	} {
		r := httptest.NewRequest("POST", "/sign-in", nil)
		r.RemoteAddr = tt.peer
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("%s: clientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestWithoutPath_LeavesTheCapturesNameOutOfTheError(t *testing.T) {
	_, err := os.Open("/nonexistent/20260101T000000.000000000Z-maria.quispe@gmail.com.eml")
	if got := withoutPath(err).Error(); strings.Contains(got, "maria") || !strings.Contains(got, "no such file") {
		t.Errorf("withoutPath: %q", got)
	}
}
