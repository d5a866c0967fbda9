package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/clientip"
)

// Cookie names. Over https the session cookie is "__Host-" prefixed: the browser then accepts
// it only with Secure, Path=/ and no Domain, so neither a sibling subdomain nor a plain-http
// page can plant or overwrite it. Over plain http — the development case,
// http://127.0.0.1:8080 from `make run` — a Secure cookie would not be stored by every
// browser, and a __Host- one never, so the cookie has neither there; it is still HttpOnly
// and SameSite, and loopback traffic does not leave the machine. Which of the two a request
// gets (and is read under) is decided by Server.isHTTPS.
//
// SameSite=Strict, not Lax: a page elsewhere could otherwise send a signed-in user to a
// console URL that reads a customer's record or exports a list — nothing would reach that
// page, but the audit log would say this user looked. A link followed from elsewhere (a chat,
// an email) lands on the sign-in page, which returns to it.
const (
	secureCookie = "__Host-breachnotice"
	plainCookie  = "breachnotice"
)

// Sign-in limits: after maxPairFailures failures within signInWindow of one login from one
// client address, or maxAddressFailures of any logins from one address, sign-in from there is
// refused (429) until the window has passed. Failures are never counted per login alone: that
// would let anyone lock the approver out in the middle of an incident. The address ceiling is
// higher because a whole office may share one address; behind a TLS-terminating proxy the
// client's address is read from X-Forwarded-For (see Server.TrustedProxies). An IPv6 client
// is counted by its /64 (see signInSource).
const (
	signInWindow       = 15 * time.Minute
	maxPairFailures    = 5
	maxAddressFailures = 30
)

type userKey struct{}

// signedInContext is ctx of a request of u's session, whose cookie's hash is hash: the user for
// the console, the session for every audit row the request writes (breach.WithCredential). The
// session is named by a prefix of the hash, never by the cookie: the same prefix in the
// sign-in's row (with where it came from) and in an approval's tells which sign-in approved.
func signedInContext(ctx context.Context, u *breach.User, hash []byte) context.Context {
	return breach.WithCredential(context.WithValue(ctx, userKey{}, u), "session:"+hex.EncodeToString(hash[:8]))
}

// userOf returns the signed-in user of a request, or nil.
func userOf(ctx context.Context) *breach.User {
	u, _ := ctx.Value(userKey{}).(*breach.User)
	return u
}

// isHTTPS reports whether the console's session cookie is Secure and __Host- prefixed for a
// request. It always is when PublicURL is https: the console is then served over https, and
// neither a proxy that forgets X-Forwarded-Proto nor a request that reaches the server some
// other way may make the cookie weaker — or make the console read a plain-named cookie,
// which a sibling subdomain or a plain-http response can plant. Otherwise it is when the
// browser reached the console over https: directly (TLS here), or through one of
// TrustedProxies saying so in X-Forwarded-Proto; from any other peer the header is ignored,
// as X-Forwarded-For is.
func (s *Server) isHTTPS(r *http.Request) bool {
	if r.TLS != nil || s.publicHTTPS() {
		return true
	}
	peer, ok := peerAddr(r)
	if !ok || !s.trusted(peer) {
		return false
	}
	for _, v := range r.Header.Values("X-Forwarded-Proto") {
		for proto := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(proto), "https") {
				return true
			}
		}
	}
	return false
}

// publicHTTPS reports whether PublicURL is an https URL.
func (s *Server) publicHTTPS() bool {
	u, err := url.Parse(strings.TrimSpace(s.PublicURL))
	return err == nil && strings.EqualFold(u.Scheme, "https")
}

// cookieName is the session cookie's name over https or not.
func cookieName(https bool) string {
	if https {
		return secureCookie
	}
	return plainCookie
}

// sessionHash is what the store keeps of a session's cookie value.
func sessionHash(value string) []byte {
	sum := sha256.Sum256([]byte(value))
	return sum[:]
}

// signedIn lets a request through to next only with a live session whose user holds role;
// it puts the user in the request's context. A page asked for without a session redirects to
// the sign-in page (and back afterwards); anything else is refused.
func (s *Server) signedIn(role breach.Role, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			u    *breach.User
			hash []byte
		)
		if c, err := r.Cookie(cookieName(s.isHTTPS(r))); err == nil && c.Value != "" {
			var err error
			hash = sessionHash(c.Value)
			if u, err = s.Store.SessionUser(r.Context(), hash); err != nil && breach.ErrorCode(err) != breach.EUNAUTHORIZED {
				s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
				return
			}
		}
		if u == nil {
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, QueuesPath+"/api/") {
				http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again, then repeat what you were doing.")
			return
		}
		r = r.WithContext(signedInContext(r.Context(), u, hash))
		if !u.Can(role) {
			// The console refuses before any operation runs: its refusal is audited here as
			// the operations' are (access.denied: who, what was attempted, the role it takes).
			attempted := r.Pattern // "POST /campaigns/{id}/cancel": the route names its method
			if !strings.HasPrefix(attempted, r.Method+" ") {
				attempted = r.Method + " " + attempted // it was "POST POST …" for those that do
			}
			if err := s.Ops.AuditDenied(r.Context(), breach.UserActor(u), role, attempted, r.PathValue("id")); err != nil {
				s.Log.Error("audit failed", "action", breach.ActionDenied, "err", err)
			}
			s.fail(w, r, http.StatusForbidden, fmt.Sprintf("This needs the %s role, which your account (%s) does not have. Ask an administrator if you need it.", role, u.Login))
			return
		}
		next(w, r)
	})
}

type signInData struct {
	Login, Next string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", "Sign in", signInData{Next: safeNext(r.FormValue("next"))})
}

// safeNext keeps a post-sign-in destination only if it is a path of this site: "/x", not
// "//evil.example" nor "/\evil.example", which browsers read as another host, nor anything with
// a control character or a backslash — browsers drop tabs and newlines from URLs, so
// "/\t/evil.example" (or "/%09/…" before the form decodes it) would become "//evil.example".
func safeNext(next string) string {
	const home = "/campaigns"
	if next == "" || strings.ContainsAny(next, "\\") || strings.ContainsFunc(next, unicode.IsControl) {
		return home
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	// The decoded path must say the same: "/%2F/evil.example" or "/%09/evil.example" is
	// "//evil.example" to some browsers and proxies.
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") ||
		strings.ContainsAny(u.Path, "\\") || strings.ContainsFunc(u.Path, unicode.IsControl) {
		return home
	}
	return next
}

// clientIP is the address a request came from, X-Forwarded-For believed from TrustedProxies
// only (see clientip.Proxies.Of).
func (s *Server) clientIP(r *http.Request) string {
	return clientip.Proxies(s.TrustedProxies).Of(r)
}

// peerAddr is the address of the request's direct peer (see clientip.Peer).
func peerAddr(r *http.Request) (addr netip.Addr, ok bool) { return clientip.Peer(r) }

// signInSource is what the sign-in limits count a client address as: an IPv6 address by its
// /64 (see clientip.Source).
func signInSource(ip string) string { return clientip.Source(ip) }

// trusted reports whether addr is one of the TrustedProxies.
func (s *Server) trusted(addr netip.Addr) bool {
	return clientip.Proxies(s.TrustedProxies).Trusts(addr)
}

// loginKey is what the failure table keeps of a typed login: an HMAC under the server's
// secret, since people type their password into the login box, and an unkeyed hash of a
// password is guessed offline.
func (s *Server) loginKey(login string) []byte {
	m := hmac.New(sha256.New, s.signInKey)
	m.Write([]byte("signin-login:" + login))
	return m.Sum(nil)
}

// signIn checks a login and password and opens a session. Every attempt is first recorded
// as a failure of that login from the client's address (and forgotten on success), so that a
// burst of parallel guesses cannot slip past the limits while passwords are being checked;
// past the limits, sign-in is refused before the password is even looked at. Whether a login
// exists is never revealed.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	data := signInData{Login: strings.TrimSpace(r.PostFormValue("login")), Next: safeNext(r.PostFormValue("next"))}
	password := r.PostFormValue("password")
	login, loginErr := breach.ParseLogin(data.Login)
	if loginErr != nil {
		login = strings.ToLower(data.Login)
	}
	key := s.loginKey(login)
	ip := signInSource(s.clientIP(r))
	byPair, byIP, err := s.Store.RecordSignInAttempt(ctx, key, ip, signInWindow, maxPairFailures, maxAddressFailures)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	if byPair > maxPairFailures || byIP > maxAddressFailures {
		w.Header().Set("Retry-After", strconv.Itoa(int(signInWindow.Seconds())))
		s.renderError(w, r, http.StatusTooManyRequests, "signin", "Sign in", data, fmt.Sprintf(
			"Too many failed sign-ins: sign-in is paused for %d minutes. If you have forgotten your password, ask an administrator to reset it.",
			int(signInWindow.Minutes())))
		return
	}
	var (
		u    *breach.User
		hash string // "": the dummy hash
	)
	if loginErr == nil {
		u, hash, err = s.Store.UserForSignIn(ctx, login)
		if err != nil && breach.ErrorCode(err) != breach.ENOTFOUND {
			s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
			return
		}
		if u == nil {
			hash = ""
		}
	}
	// The hash is checked even for an unknown login, so that the answer takes as long; the
	// check waits for one of the console's few hashing slots (signInChecks).
	ok, err := s.checks.run(ctx, hash, password)
	if errors.Is(err, errSignInBusy) {
		w.Header().Set("Retry-After", strconv.Itoa(signInBusyRetry))
		s.renderError(w, r, http.StatusServiceUnavailable, "signin", "Sign in", data,
			"The console is busy checking other sign-ins. Please try again in a few seconds.")
		return
	}
	if err != nil {
		s.Log.Error("sign-in: unreadable password hash", "err", err)
		ok = false
	}
	// A disabled account answers as a wrong password does: saying "disabled" to the right
	// password only told whoever held a departed colleague's password that it still works.
	if u == nil || !ok || u.Disabled {
		actor := "anonymous"
		if u != nil {
			actor = u.Actor()
		}
		// Who was tried, and from where: the keyed hash of the login (people type passwords
		// there; the failure table keeps the same) ties repeated guesses at one account
		// together, the client's network shows where they come from.
		detail := map[string]any{"login_key": hex.EncodeToString(key[:8]), "source": ip}
		if u != nil && ok && u.Disabled {
			detail["disabled"] = true
		}
		if err := s.Store.Audit(ctx, actor, breach.ActionSignInFailed, "", detail); err != nil {
			s.Log.Error("audit failed", "action", breach.ActionSignInFailed, "err", err)
		}
		s.renderError(w, r, http.StatusUnauthorized, "signin", "Sign in", data, "The login or the password is wrong. If your account was disabled, ask an administrator.")
		return
	}
	if err := s.Store.ClearSignInFailures(ctx, key, ip); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	value := newSessionValue()
	if err := s.Store.CreateSession(ctx, u.ID, sessionHash(value), s.SessionTTL, s.IdleTimeout); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	https := s.isHTTPS(r)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(https), Value: value, Path: "/", MaxAge: int(s.SessionTTL.Seconds()),
		HttpOnly: true, Secure: https, SameSite: http.SameSiteStrictMode,
	})
	r = r.WithContext(signedInContext(ctx, u, sessionHash(value)))
	s.audit(r, breach.ActionSignIn, "", map[string]any{"source": ip})
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// newSessionValue is a session cookie's value: 256 random bits.
func newSessionValue() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signOut ends the session and forgets the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	https := s.isHTTPS(r)
	if c, err := r.Cookie(cookieName(https)); err == nil && c.Value != "" {
		hash := sessionHash(c.Value)
		if u, err := s.Store.SessionUser(r.Context(), hash); err == nil {
			r = r.WithContext(signedInContext(r.Context(), u, hash))
			s.audit(r, breach.ActionSignOut, "", nil)
		}
		if err := s.Store.DeleteSession(r.Context(), hash); err != nil {
			s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(https), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: https, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
}
