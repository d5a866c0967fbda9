package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// preview renders a notice: of the recipient with ?customer_id= (audited), or of a sample
// customer exposed in every category (under ?jurisdiction=, default the campaign's first);
// ?locale= forces an offered locale, ?channel=email|sms keeps one channel, ?without_code=true
// gives the sample customer no enrolment code. The answer is the notice with its lint, as
// `breachnotice preview --json` prints it.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "customer_id", "locale", "jurisdiction", "channel", "without_code")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	withoutCode, err := operation.ParseBool("without_code", q.Get("without_code"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, n, _, err := s.Ops.Preview(r.Context(), actor(r.Context()), r.PathValue("id"), operation.PreviewRequest{
		CustomerID: q.Get("customer_id"), Locale: q.Get("locale"), Jurisdiction: q.Get("jurisdiction"), Channel: q.Get("channel"),
		WithoutCode: withoutCode})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

// lint checks every variant of a campaign's notices, as `breachnotice lint` does.
func (s *Server) lint(w http.ResponseWriter, r *http.Request) {
	_, findings, err := s.Ops.Lint(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvable": notice.Approvable(findings) == nil, "findings": findings})
}
