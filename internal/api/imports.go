package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// createImport streams a customer list into a campaign. The list is the raw request body
// (any content type but multipart) or the part named "file" of a multipart/form-data body;
// options come in the query string: map=COLUMN=FIELD (repeatable), encoding=NAME (CSV),
// sheet=NAME (a spreadsheet's sheet), and filename=NAME for a raw body. It answers when the import is complete, with its counts.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, []string{"map"}, "map", "encoding", "sheet", "filename")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mapping, err := importer.ParseMap(q["map"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	src, filename, err := uploadedFile(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if filename == "" {
		filename = q.Get("filename")
	}
	done, err := s.Ops.Import(r.Context(), actor(r.Context()), r.PathValue("id"), operation.ImportRequest{
		Filename: filename, List: src, Options: importer.Options{Encoding: q.Get("encoding"), Sheet: q.Get("sheet"), Map: mapping}})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+done.CampaignID+"/imports/"+done.ID)
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
	imp, err := s.Ops.ImportReport(r.Context(), actor(r.Context()), r.PathValue("id"), r.PathValue("importID"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, imp)
}

// getRejects streams an import's reject report as CSV, once the read is audited.
func (s *Server) getRejects(w http.ResponseWriter, r *http.Request) {
	started := false
	err := s.Ops.Rejects(r.Context(), actor(r.Context()), r.PathValue("id"), r.PathValue("importID"), func(imp *breach.Import) (io.Writer, error) {
		started = true
		csvHeaders(w, "rejects-"+imp.ID+".csv")
		return w, nil
	})
	switch {
	case err != nil && !started:
		s.writeError(w, r, err)
	case err != nil:
		s.Log.Error("stream rejects failed", "campaign", r.PathValue("id"), "err", err)
		panic(http.ErrAbortHandler) // a truncated report must not look complete
	}
}

// csvHeaders starts a CSV download named name.
func csvHeaders(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
}
