package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// previewData is the preview page: the form's choices and the notice they give.
type previewData struct {
	C                             *breach.Campaign
	Locale, Channel, Jurisdiction string
	CustomerID                    string
	// WithoutCode: the sample customer without an enrolment code (GivesCodes offers the choice).
	WithoutCode, GivesCodes bool
	Jurisdictions           []string
	Notice                  *notice.Notice
	// EmailURL is the address of the email's HTML alone, shown in a sandboxed frame.
	EmailURL string
}

// previewNotice renders the notice the page's query asks for (operation.Service.Preview: a
// customer of the list, audited, or the sample customer of a locale and jurisdiction). d is
// nil when the campaign could not be read.
func (s *Server) previewNotice(r *http.Request) (*previewData, error) {
	q := r.URL.Query()
	req := operation.PreviewRequest{Locale: q.Get("locale"), Jurisdiction: q.Get("jurisdiction"), CustomerID: q.Get("customer_id"),
		Channel: q.Get("channel")}
	withoutCode, perr := operation.ParseBool("without_code", q.Get("without_code"))
	if perr != nil {
		// Refused before the preview, which would read (and audit) a customer's notice the
		// page then does not show.
		c, err := s.Ops.Campaign(r.Context(), actorOf(r.Context()), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return &previewData{C: c, Locale: req.Locale, Channel: string(notice.Email), Jurisdiction: req.Jurisdiction,
			CustomerID: req.CustomerID, GivesCodes: notice.GivesCodes(c), Jurisdictions: breach.KnownJurisdictions}, perr
	}
	// The form's box is about the sample customer: left ticked when a customer_id is typed,
	// it asks for nothing.
	req.WithoutCode = withoutCode && strings.TrimSpace(req.CustomerID) == ""
	c, n, req, err := s.Ops.Preview(r.Context(), actorOf(r.Context()), r.PathValue("id"), req)
	if c == nil {
		return nil, err
	}
	d := &previewData{C: c, Locale: req.Locale, Channel: cmp.Or(req.Channel, string(notice.Email)), Jurisdiction: req.Jurisdiction,
		CustomerID: req.CustomerID, WithoutCode: req.WithoutCode, GivesCodes: notice.GivesCodes(c),
		Jurisdictions: breach.KnownJurisdictions, Notice: n}
	return d, err
}

// preview shows one notice as the customer will get it: the email in a sandboxed frame with
// its plain-text alternative, or the SMS with its encoding and segments, and its lint.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	d, err := s.previewNotice(r)
	if err != nil {
		if d == nil {
			s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
			return
		}
		d.Notice = nil
		s.renderError(w, r, s.httpStatus(r, err), "preview", "Preview", d, errorMessage(err))
		return
	}
	q := url.Values{}
	for k, v := range map[string]string{"locale": d.Locale, "jurisdiction": d.Jurisdiction, "customer_id": d.CustomerID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if d.WithoutCode {
		q.Set("without_code", "1")
	}
	d.EmailURL = "/campaigns/" + d.C.ID + "/preview/email?" + q.Encode()
	s.render(w, r, http.StatusOK, "preview", "Preview", d)
}

// emailPolicy confines a previewed email: a sandbox (no script, an origin of its own), its
// inline styles and nothing else, framed only by the console. A notice loads nothing from
// elsewhere (lint forbids it), and if one did, the preview would not fetch it.
const emailPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// previewEmail answers the email's HTML alone, for the preview page's frame.
func (s *Server) previewEmail(w http.ResponseWriter, r *http.Request) {
	d, err := s.previewNotice(r)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	writeFramedHTML(w, d.Notice.HTML)
}

// writeFramedHTML answers an email's HTML under emailPolicy.
func writeFramedHTML(w http.ResponseWriter, html string) {
	h := w.Header()
	h.Set("Content-Security-Policy", emailPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(html))
}
