package web

import (
	"io"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// uploadCodes streams a vendor's file of enrolment codes from the form's "file" part into the
// campaign's pool (operation.Service.ImportCodes) and shows the import's report: counts, the
// rejected lines with their reasons, and the pool after.
func (s *Server) uploadCodes(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	const choose = "Enrolment codes: choose the vendor's file of codes (CSV with a code column), then press Upload codes."
	file, filename, err := formFile(r)
	if err != nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Enrolment codes: the form could not be read (%v).", err))
		return
	}
	if file == nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, choose))
		return
	}
	a := actorOf(r.Context())
	ci, err := s.Ops.ImportCodes(r.Context(), a, r.PathValue("id"), operation.CodesRequest{Filename: filename, Codes: file})
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	c, err := s.Ops.Campaign(r.Context(), a, ci.CampaignID)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "codes", "Enrolment codes: "+ci.Filename, codesData{C: c, Import: ci})
}

// codesData is the codes import report page.
type codesData struct {
	C      *breach.Campaign
	Import *breach.CodeImport
}

// exportCodes streams the vendor's export (code, reference) as CSV, once the read is audited.
func (s *Server) exportCodes(w http.ResponseWriter, r *http.Request) {
	started := false
	rows, err := s.Ops.ExportCodes(r.Context(), actorOf(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (io.Writer, error) {
		started = true
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="codes-`+c.ID+`.csv"`)
		return w, nil
	})
	switch {
	case err != nil && !started:
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
	case err != nil:
		s.Log.Error("codes export failed midway", "campaign", r.PathValue("id"), "rows", rows, "err", err)
		panic(http.ErrAbortHandler) // a truncated export must not look complete
	}
}
