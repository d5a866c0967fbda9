package web

import (
	"net/http"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/breach"
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
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	f := breach.AuditFilter{CampaignID: c.ID, Limit: auditPageSize}
	if v := r.URL.Query().Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			s.fail(w, r, http.StatusBadRequest, "This page of the audit log does not exist: go back to the newest entries.")
			return
		}
	}
	d := &auditData{C: c, Newest: f.Before == 0}
	if d.Entries, err = s.Store.AuditLog(r.Context(), f); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	if len(d.Entries) == f.Limit {
		d.Before = d.Entries[len(d.Entries)-1].ID
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log: "+c.Name, d)
}
