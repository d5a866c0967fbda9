package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// testSend answers POST …/test-send: real notices of chosen customers sent to reviewers,
// nothing recorded against the customers. Body: {"to": [...], "customers": [...]}.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	var req operation.TestSendRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 64<<10), &req); err != nil {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "the body must be JSON {\"to\": [...], \"customers\": [...]}: %v", err))
		return
	}
	res, err := s.Ops.TestSend(r.Context(), actor(r.Context()), r.PathValue("id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
