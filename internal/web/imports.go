package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// upload streams a customer list from the form's "file" part into the campaign, and shows
// the import's counts. The part is read as it arrives: a list of millions of rows is never
// held in memory nor written to a temporary file.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	var sheet string
	file, filename, err := formFileWith(r, map[string]*string{"sheet": &sheet})
	if err != nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Upload: the form could not be read (%v).", err))
		return
	}
	if file == nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Upload: choose the customer list file (CSV), then press Upload."))
		return
	}
	finished, err := s.Ops.Import(r.Context(), actorOf(r.Context()), r.PathValue("id"), operation.ImportRequest{
		Filename: filename, List: file, Options: importer.Options{Sheet: strings.TrimSpace(sheet)}})
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+finished.CampaignID+"/imports/"+finished.ID, http.StatusSeeOther)
}

// importData is the import report page.
type importData struct {
	C   *breach.Campaign
	Imp *breach.Import
}

func (s *Server) showImport(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	c, err := s.Ops.Campaign(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	imp, err := s.Ops.ImportReport(r.Context(), a, c.ID, r.PathValue("importID"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "import", "Customer list: "+imp.Filename, importData{C: c, Imp: imp})
}

// rejects streams an import's reject report as CSV (line, customer_id, field, reason).
func (s *Server) rejects(w http.ResponseWriter, r *http.Request) {
	started := false
	err := s.Ops.Rejects(r.Context(), actorOf(r.Context()), r.PathValue("id"), r.PathValue("importID"), func(imp *breach.Import) (io.Writer, error) {
		started = true
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="rejects-`+imp.ID+`.csv"`)
		return w, nil
	})
	switch {
	case err != nil && !started:
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
	case err != nil:
		s.Log.Error("stream rejects failed", "campaign", r.PathValue("id"), "err", err)
		panic(http.ErrAbortHandler) // a truncated report must not look complete
	}
}

// formFile returns the file of a form's "file" field and its name, read as it arrives
// (nothing is buffered); nil when the form is not multipart or no file was chosen. An error is
// a form that cannot be read.
func formFile(r *http.Request) (io.Reader, string, error) {
	return formFileWith(r, nil)
}

// maxFormValue bounds a text field read before the file (a sheet's name).
const maxFormValue = 1024

// formFileWith is formFile, also reading the text fields named in values that come before the
// file part (a form sends its fields in their order on the page).
func formFileWith(r *http.Request, values map[string]*string) (io.Reader, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", nil
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		if part.FormName() == "file" {
			if part.FileName() == "" {
				return nil, "", nil
			}
			return part, part.FileName(), nil
		}
		if v, ok := values[part.FormName()]; ok {
			b, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
			if err != nil {
				return nil, "", err
			}
			if len(b) > maxFormValue {
				return nil, "", fmt.Errorf("the %s field is longer than %d bytes", part.FormName(), maxFormValue)
			}
			*v = string(b)
		}
	}
}
