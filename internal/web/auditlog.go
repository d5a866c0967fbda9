package web

import (
	"net/http"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// auditPageSize is how many audit entries a page of the campaign's audit log shows.
const auditPageSize = 50

// auditData is a page of a campaign's audit log, newest first. Before is the ?before= of the
// next (older) page, 0 when this page is the last.
type auditData struct {
	C       *breach.Campaign
	Entries []breach.AuditEntry
	Before  int64
	// Newest is set when the page starts at the newest entry.
	Newest bool
}

// auditLog shows a campaign's audit log: who did what, when, newest first, a page at a time
// (?before=ID continues below that entry). The details hold counts and IDs, never personal
// data, so reading them is not itself audited.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	c, err := s.Ops.Campaign(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	before := r.URL.Query().Get("before")
	page, err := s.Ops.AuditLog(r.Context(), a, operation.AuditQuery{Campaign: c.ID, Before: before, Limit: strconv.Itoa(auditPageSize)})
	if breach.ErrorCode(err) == breach.EINVALID {
		s.fail(w, r, http.StatusBadRequest, "This page of the audit log does not exist: go back to the newest entries.")
		return
	}
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log: "+c.Name, &auditData{C: c, Entries: page.Entries, Before: page.NextBefore, Newest: before == ""})
}
