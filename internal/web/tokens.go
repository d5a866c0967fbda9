package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// tokensData is the page of the signed-in user's API tokens.
type tokensData struct {
	Tokens []breach.TokenInfo
	Now    time.Time
}

// tokens lists the signed-in user's own API tokens (operation.Service.Tokens).
func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Ops.Tokens(r.Context(), actorOf(r.Context()))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	p := &page{Title: "Your API tokens", Data: &tokensData{Tokens: ts, Now: time.Now()}}
	if r.URL.Query().Get("done") == "revoked" {
		p.Notice = "The token is revoked: its next request is refused."
	}
	s.renderPage(w, r, http.StatusOK, "tokens", p)
}

// revokeToken revokes one of the signed-in user's tokens at once.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Ops.RevokeToken(r.Context(), actorOf(r.Context()), r.PathValue("name")); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	http.Redirect(w, r, "/tokens?"+url.Values{"done": {"revoked"}}.Encode(), http.StatusSeeOther)
}
