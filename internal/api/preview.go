package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// preview renders a notice: of the recipient with ?customer_id=, or of a sample customer
// exposed in every category (under ?jurisdiction=, default the campaign's first); ?locale=
// forces an offered locale, ?channel=email|sms keeps one channel. The choice's rules are
// notice.PreviewChoice's, which the console's preview follows too. The answer is the notice
// with its lint, as `breachnotice preview --json` prints it.
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
	rec, choice, err := notice.PreviewChoice{Locale: q.Get("locale"), Jurisdiction: q.Get("jurisdiction"), CustomerID: q.Get("customer_id")}.
		Recipient(r.Context(), c, s.Store.Recipient)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Renderer.Preview(c, rec, notice.Options{Locale: choice.Locale})
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
