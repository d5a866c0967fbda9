package api

import (
	"net/http"
	"slices"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// preview renders a notice: of the recipient with ?customer_id=, or of a sample customer
// exposed in every category (under ?jurisdiction=, default the campaign's first); ?locale=
// forces an offered locale, ?channel=email|sms keeps one channel. The answer is the notice with its lint, as `breachnotice preview --json` prints it.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	switch q.Get("channel") {
	case "", string(notice.Email), string(notice.Text):
	default:
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "channel %q: use email or sms", q.Get("channel")))
		return
	}
	var rec *breach.Recipient
	if id := q.Get("customer_id"); id != "" {
		if err := c.NeedsPersonalData("preview a customer's notice"); err != nil {
			s.writeError(w, r, err)
			return
		}
		if rec, err = s.Store.Recipient(r.Context(), c.ID, id); err != nil {
			s.writeError(w, r, err)
			return
		}
	} else {
		v := notice.Variants(c)[0]
		if l := q.Get("locale"); l != "" {
			v.Locale = l
		}
		if j := q.Get("jurisdiction"); j != "" {
			if !slices.Contains(breach.KnownJurisdictions, j) {
				s.writeError(w, r, breach.Errorf(breach.EINVALID, "jurisdiction %q: use one of %v", j, breach.KnownJurisdictions))
				return
			}
			v.Jurisdiction = j
		}
		rec = notice.Sample(c, v)
	}
	n, err := s.Renderer.Preview(c, rec, notice.Options{Locale: q.Get("locale")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch q.Get("channel") {
	case string(notice.Email):
		n.SMS = notice.SMS{}
	case string(notice.Text):
		n.Subject, n.HTML, n.Text = "", "", ""
	}
	writeJSON(w, http.StatusOK, n)
}

// lint checks every variant of a campaign's notices, as `breachnotice lint` does.
func (s *Server) lint(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	findings := s.Renderer.Lint(c)
	if findings == nil {
		findings = []notice.Finding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvable": notice.Approvable(findings) == nil, "findings": findings})
}
