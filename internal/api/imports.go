package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// createImport streams a customer list into a campaign. The list is the raw request body
// (any content type but multipart) or the part named "file" of a multipart/form-data body;
// options come in the query string: map=COLUMN=FIELD (repeatable), encoding=NAME, and
// filename=NAME for a raw body. It answers when the import is complete, with its counts.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	mapping, err := importer.ParseMap(q["map"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts := importer.Options{Encoding: q.Get("encoding"), Map: mapping}
	body := http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	src, filename, err := uploadedFile(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if filename == "" {
		filename = q.Get("filename")
	}
	// The client's file name is a label, never a path: importer.Run stores "../../etc/passwd"
	// as "passwd".
	imp := &breach.Import{Filename: filename, CreatedBy: operator(r.Context())}
	done, err := s.Importer.Run(r.Context(), c, imp, src, opts)
	if imp.ID != "" {
		s.audit(r, "import", c.ID, imp.AuditDetail())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID+"/imports/"+done.ID)
	writeJSON(w, http.StatusCreated, done)
}

// uploadedFile returns the list's bytes: the "file" part of a multipart body, or the body.
// Nothing is buffered: a multipart part is read as it arrives.
func uploadedFile(r *http.Request, body io.Reader) (io.Reader, string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return body, "", nil
	}
	r.Body = body.(io.ReadCloser)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", breach.Errorf(breach.EINVALID, "malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", breach.Errorf(breach.EINVALID, `the multipart body has no part named "file"`)
		}
		if err != nil {
			return nil, "", breach.Errorf(breach.EINVALID, "malformed multipart body: %v", err)
		}
		if part.FormName() == "file" {
			return part, part.FileName(), nil
		}
	}
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	imp, err := s.Store.Import(r.Context(), r.PathValue("id"), r.PathValue("importID"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, imp)
}

// getRejects streams an import's reject report as CSV.
func (s *Server) getRejects(w http.ResponseWriter, r *http.Request) {
	imp, err := s.Store.Import(r.Context(), r.PathValue("id"), r.PathValue("importID"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="rejects-`+imp.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	err = importer.WriteRejectsCSV(w, func(fn func(breach.Reject) error) error {
		return s.Store.Rejects(r.Context(), imp.ID, fn)
	})
	if err != nil {
		s.Log.Error("stream rejects failed", "import", imp.ID, "err", err)
	}
}
