package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// privacyRoutes are the audit log and purge.
func (s *Server) privacyRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/audit", handler: s.auditLog},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/purge", handler: s.purge},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/proof", handler: s.proof},
	}
}

// auditLog answers GET /api/v1/audit?campaign=ID&action=NAME&before=ID&limit=N: the audit
// entries, newest first, keyset-paginated on their IDs.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "campaign", "action", "before", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Ops.AuditLog(r.Context(), actor(r.Context()), operation.AuditQuery{Campaign: q.Get("campaign"),
		Action: q.Get("action"), Before: q.Get("before"), Limit: q.Get("limit")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// purge answers POST …/purge: deletes a finished campaign's personal data now, without
// waiting for its retention period. A campaign already purged answers 200 with
// already_purged; one still sending answers 409.
func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Ops.Purge(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// proofRequest is the body of POST …/proof. The address travels in the body, not the URL,
// so that it stays out of every access log on the way.
type proofRequest struct {
	Address string `json:"address"`
}

// proof answers POST …/proof: whether an address (an email, or a phone number in E.164 form)
// was notified by a purged campaign, and how, from the hashes the purge kept.
func (s *Server) proof(w http.ResponseWriter, r *http.Request) {
	var req proofRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 4<<10), &req); err != nil {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, `the body must be JSON {"address": "…"}: %v`, err))
		return
	}
	p, err := s.Ops.Proof(r.Context(), actor(r.Context()), r.PathValue("id"), req.Address)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
