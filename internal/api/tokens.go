package api

import (
	"net/http"
)

// tokenRoutes let a token's holder see and revoke tokens: all of them for an unbound token,
// their own for a user's.
func (s *Server) tokenRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/tokens", handler: s.listTokens},
		{Method: "POST", Pattern: "/api/v1/tokens/{name}/revoke", handler: s.revokeToken},
	}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Ops.Tokens(r.Context(), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// revokeToken revokes a token at once: its next request answers 401.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Ops.RevokeToken(r.Context(), actor(r.Context()), r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": r.PathValue("name")})
}
