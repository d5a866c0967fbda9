package web

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/breachnotice/breachnotice/internal/breach"
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

func TestSignInSource_IPv6CountsPerSlash64AndMappedIPv4AsIPv4(t *testing.T) {
	for ip, want := range map[string]string{
		"198.51.100.7":                "198.51.100.7",
		"::ffff:198.51.100.7":         "198.51.100.7",
		"2001:db8:1:2::1":             "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:ff:1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":             "2001:db8:1:3::/64",
		"fe80::1%eth0":                "fe80::/64",
		"::1":                         "::/64",
		"not-an-address":              "not-an-address",
	} {
		if got := signInSource(ip); got != want {
			t.Errorf("signInSource(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestIsHTTPS_PublicURLDecidesAndForwardedProtoIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tt := range []struct {
		name, publicURL, peer, proto string
		tls                          bool
		want                         bool
	}{
		{"https PUBLIC_URL, no header", "https://notice.example.com", "203.0.113.9:5000", "", false, true},
		{"https PUBLIC_URL, a proxy saying http", "https://notice.example.com", "10.0.0.2:443", "http", false, true},
		{"HTTPS PUBLIC_URL in capitals", "HTTPS://notice.example.com", "203.0.113.9:5000", "", false, true},
		{"http PUBLIC_URL, direct client forging https", "http://localhost:8080", "203.0.113.9:5000", "https", false, false},
		{"no PUBLIC_URL, direct client forging https", "", "203.0.113.9:5000", "https", false, false},
		{"no PUBLIC_URL, trusted proxy saying https", "", "10.0.0.2:443", "https", false, true},
		{"no PUBLIC_URL, trusted proxies appending", "", "10.0.0.2:443", "https, http", false, true},
		{"no PUBLIC_URL, trusted proxy saying http", "", "10.0.0.2:443", "http", false, false},
		{"no PUBLIC_URL, trusted proxy, IPv4-mapped peer", "", "[::ffff:10.0.0.2]:443", "https", false, true},
		{"no PUBLIC_URL, TLS here", "", "203.0.113.9:5000", "", true, true},
		{"no PUBLIC_URL, plain http", "", "127.0.0.1:5000", "", false, false},
	} {
		s := &Server{PublicURL: tt.publicURL, TrustedProxies: proxies}
		r := httptest.NewRequest("GET", "/campaigns", nil)
		r.RemoteAddr = tt.peer
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := s.isHTTPS(r); got != tt.want {
			t.Errorf("%s: isHTTPS = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// signInStore is the part of the store sign-in uses: one user, "known", whose password hash
// is cheap to check, and no limits reached. Anything else it is asked panics.
type signInStore struct {
	Store
	hash     string
	attempts atomic.Int32
}

func (f *signInStore) RecordSignInAttempt(context.Context, []byte, string, time.Duration, int, int) (int, int, error) {
	f.attempts.Add(1)
	return 1, 1, nil
}

func (f *signInStore) UserForSignIn(_ context.Context, login string) (*breach.User, string, error) {
	if login != "known" {
		return nil, "", breach.Errorf(breach.ENOTFOUND, "no such user")
	}
	return &breach.User{ID: 1, Login: "known", Roles: []breach.Role{breach.RoleViewer}}, f.hash, nil
}

func (f *signInStore) Audit(context.Context, string, string, string, map[string]any) error {
	return nil
}

// signInServer is a console on a signInStore, enough to call signIn directly.
func signInServer(t *testing.T) (*Server, *signInStore) {
	t.Helper()
	// A real argon2id hash with tiny parameters: the test counts checks, it does not time them.
	salt := []byte("0123456789abcdef")
	b64 := base64.RawStdEncoding
	store := &signInStore{hash: fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version,
		b64.EncodeToString(salt), b64.EncodeToString(argon2.IDKey([]byte("the right password"), salt, 1, 64, 1, 32)))}
	s := &Server{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), signInKey: []byte("key"), checks: newSignInChecks()}
	if err := s.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	return s, store
}

func signInRequest(peer, login, password string) *http.Request {
	form := url.Values{"login": {login}, "password": {password}}
	r := httptest.NewRequest("POST", "/sign-in", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = peer
	return r
}

// countHashes makes the sign-in's password check count how many of its runs overlap, each
// lasting at least hold, until the test ends; most returns the highest number seen at once,
// runs the total.
func countHashes(t *testing.T, s *Server, hold time.Duration) (most, runs func() int32) {
	t.Helper()
	var running, high, total atomic.Int32
	real := s.checks.check
	s.checks.check = func(hash, pw string) (bool, error) {
		n := running.Add(1)
		defer running.Add(-1)
		total.Add(1)
		for m := high.Load(); n > m && !high.CompareAndSwap(m, n); m = high.Load() {
		}
		time.Sleep(hold)
		return real(hash, pw)
	}
	return high.Load, total.Load
}

func TestSignIn_ConcurrentAttemptsNeverHashMoreThanTheCapAtOnce(t *testing.T) {
	s, _ := signInServer(t)
	most, runs := countHashes(t, s, 20*time.Millisecond)
	const attempts = 24
	statuses := make(chan int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			login := "known"
			if i%3 == 0 {
				login = "unknown" // checked against the dummy hash, in a slot like the others
			}
			w := httptest.NewRecorder()
			s.signIn(w, signInRequest(fmt.Sprintf("198.51.100.%d:4000", i+1), login, "a wrong guess"))
			statuses <- w.Code
		})
	}
	wg.Wait()
	close(statuses)
	for code := range statuses {
		if code != http.StatusUnauthorized {
			t.Errorf("an attempt got %d, want 401: waiting for a slot must not refuse a short queue", code)
		}
	}
	if got := runs(); got < attempts {
		t.Errorf("%d password hashes for %d attempts", got, attempts)
	}
	if got := most(); got > maxSignInChecks {
		t.Errorf("%d password hashes ran at once, want at most %d", got, maxSignInChecks)
	} else if got < 2 {
		t.Errorf("at most %d password hash ran at once: the checks are serialised, not capped", got)
	}
}

func TestSignIn_AttemptFindingNoFreeHashingSlotIsRefusedWith503(t *testing.T) {
	s, store := signInServer(t)
	_, runs := countHashes(t, s, 0)
	s.checks.wait = 50 * time.Millisecond
	// A flood holds every slot.
	for range maxSignInChecks {
		s.checks.slots <- struct{}{}
	}
	release := func() {
		for range maxSignInChecks {
			<-s.checks.slots
		}
	}
	w := httptest.NewRecorder()
	s.signIn(w, signInRequest("198.51.100.1:4000", "known", "the right password"))
	release()
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "busy") {
		t.Errorf("with every slot busy: %d, Retry-After %q, want 503 with Retry-After and a message\n%s",
			w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	if len(w.Result().Cookies()) != 0 {
		t.Error("a refused sign-in set a cookie")
	}
	if got := runs(); got != 0 {
		t.Errorf("%d password hashes ran while every slot was busy", got)
	}
	if got := store.attempts.Load(); got != 1 {
		t.Errorf("%d attempts recorded, want 1: the attempt still counts against the limits", got)
	}
}
