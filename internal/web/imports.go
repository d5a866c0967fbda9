package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// upload streams a customer list from the form's "file" part into the campaign, and shows
// the import's counts. The part is read as it arrives: a list of millions of rows is never
// held in memory nor written to a temporary file.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Upload: choose the customer list file (CSV), then press Upload."))
		return
	}
	var file io.Reader
	var filename string
	for file == nil {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Upload: the form could not be read (%v).", err))
			return
		}
		if part.FormName() == "file" {
			file, filename = part, part.FileName()
		}
	}
	if file == nil || filename == "" {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Upload: choose the customer list file (CSV), then press Upload."))
		return
	}
	// The file name is a label only: importer.Run keeps its breach.FileLabel.
	imp := &breach.Import{Filename: filename, CreatedBy: userOf(ctx).Actor()}
	finished, err := s.Importer.Run(ctx, c, imp, file, importer.Options{})
	if imp.ID != "" {
		s.audit(r, "import", c.ID, imp.AuditDetail())
	}
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+c.ID+"/imports/"+finished.ID, http.StatusSeeOther)
}

// importData is the import report page.
type importData struct {
	C   *breach.Campaign
	Imp *breach.Import
}

func (s *Server) showImport(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	imp, err := s.Store.Import(r.Context(), c.ID, r.PathValue("importID"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "import", "Customer list: "+imp.Filename, importData{C: c, Imp: imp})
}

// rejects streams an import's reject report as CSV (line, customer_id, field, reason).
func (s *Server) rejects(w http.ResponseWriter, r *http.Request) {
	imp, err := s.Store.Import(r.Context(), r.PathValue("id"), r.PathValue("importID"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.audit(r, "import.rejects_download", imp.CampaignID, map[string]any{"import": imp.ID})
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="rejects-`+imp.ID+`.csv"`)
	err = importer.WriteRejectsCSV(w, func(fn func(breach.Reject) error) error {
		return s.Store.Rejects(r.Context(), imp.ID, fn)
	})
	if err != nil {
		s.Log.Error("stream rejects failed", "import", imp.ID, "err", err)
	}
}
