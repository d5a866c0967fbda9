package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/clientip"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// DefaultVerifyPerMinute is how many reference codes one client may check a minute
// (Server.VerifyPerMinute): plenty for a person checking a notice or two, and at 2^50 codes
// nothing for someone trying to find the genuine ones.
const DefaultVerifyPerMinute = 20

// verifyRoutes is the public verification of reference codes, beside the opt-out links.
func (s *Server) verifyRoutes() []Route {
	perMinute := s.VerifyPerMinute
	if perMinute <= 0 {
		perMinute = DefaultVerifyPerMinute
	}
	limit := newClientLimiter(s.Redis, "breachnotice:rate:verify:", perMinute, s.Log)
	return []Route{{Method: "GET", Pattern: notice.VerifyPath, Public: true, handler: func(w http.ResponseWriter, r *http.Request) {
		s.verify(w, r, limit)
	}}}
}

// verifyAnswer is the JSON answer of GET /verify?ref=CODE.
type verifyAnswer struct {
	Genuine bool `json:"genuine"`
	// Reference is the code as notices print it; left out when what was given is no code.
	Reference    string          `json:"reference,omitempty"`
	Organization string          `json:"organization,omitempty"`
	Domain       string          `json:"domain,omitempty"`
	SentOn       string          `json:"sent_on,omitempty"`
	Contacts     *verifyContacts `json:"contacts,omitempty"`
}

// verifyContacts are the company's official contacts, from its campaign file.
type verifyContacts struct {
	SupportURL   string          `json:"support_url,omitempty"`
	SupportPhone string          `json:"support_phone,omitempty"`
	DPO          *breach.Contact `json:"dpo,omitempty"`
}

// verify answers GET /verify: the page in the visitor's language (?lang=, Accept-Language),
// with the answer for ?ref=CODE when given, or that answer as JSON for Accept:
// application/json. Each check counts against the client's limit (per address, per /64 for
// IPv6, X-Forwarded-For believed from TrustedProxies only); over it, 429 with Retry-After.
// Neither the code nor the client's address is logged.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, limit *clientLimiter) {
	asJSON := wantsJSON(r)
	locale := s.Renderer.VerifyLocale(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	code, given := r.URL.Query()["ref"]
	check := notice.VerifyCheck{Locale: locale}
	status := http.StatusOK
	switch {
	case !given && asJSON:
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "the reference code to check is missing: GET /verify?ref=CODE"))
		return
	case !given:
	default:
		ok, retry := limit.allow(r.Context(), clientip.Source(clientip.Proxies(s.TrustedProxies).Of(r)))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int((retry+time.Second-1)/time.Second))))
			if asJSON {
				var body errorBody
				body.Error.Code, body.Error.Message = "too_many_requests", "too many reference codes checked from this address: try again in a minute"
				writeJSON(w, http.StatusTooManyRequests, body)
				return
			}
			check.Limited, status = true, http.StatusTooManyRequests
			break
		}
		v, err := s.Ops.Verify(r.Context(), strings.Join(code, ""))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if asJSON {
			writeJSON(w, http.StatusOK, answerOf(v))
			return
		}
		check.Result = v
	}
	page, err := s.Renderer.VerifyPage(check)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", locale)
	h.Set("Vary", "Accept, Accept-Language")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(page)
}

// answerOf is the JSON of a verification.
func answerOf(v *breach.Verification) verifyAnswer {
	a := verifyAnswer{Genuine: v.Genuine, Reference: v.Reference}
	if v.Genuine {
		o := v.Organization
		a.Organization, a.Domain, a.SentOn = o.Name, o.Domain, v.SentAt.UTC().Format(time.DateOnly)
		a.Contacts = &verifyContacts{SupportURL: o.SupportURL, SupportPhone: o.SupportPhone, DPO: o.DPO}
	}
	return a
}

// wantsJSON reports whether the request asks for JSON rather than the page: an Accept header
// naming application/json (or a +json type) before any HTML.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		case mt == "text/html" || mt == "application/xhtml+xml":
			return false
		}
	}
	return false
}
