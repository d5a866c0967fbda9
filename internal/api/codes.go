package api

import (
	"io"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// codeRoutes are a campaign's pool of enrolment codes (operation.Service.ImportCodes, CodePool,
// ExportCodes).
func (s *Server) codeRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/codes", handler: s.importCodes},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/codes", handler: s.codePool},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/codes/export.csv", handler: s.exportCodes},
	}
}

// importCodes streams a vendor's file of codes into the campaign's pool: the raw request body
// or the part named "file" of a multipart/form-data body, as for a list upload (filename=NAME
// in the query string labels a raw body). It answers with the import's counts, its first
// rejected lines and the pool after.
func (s *Server) importCodes(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "filename")
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
	ci, err := s.Ops.ImportCodes(r.Context(), actor(r.Context()), r.PathValue("id"), operation.CodesRequest{Filename: filename, Codes: src})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ci)
}

// codePool answers the pool's counts: {"pool": null} when no codes were imported.
func (s *Server) codePool(w http.ResponseWriter, r *http.Request) {
	p, err := s.Ops.CodePool(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*breach.CodePool{"pool": p})
}

// exportCodes streams the vendor's export (code, reference) as CSV, once the read is audited.
func (s *Server) exportCodes(w http.ResponseWriter, r *http.Request) {
	started := false
	_, err := s.Ops.ExportCodes(r.Context(), actor(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (io.Writer, error) {
		started = true
		csvHeaders(w, "codes-"+c.ID+".csv")
		return w, nil
	})
	switch {
	case err != nil && !started:
		s.writeError(w, r, err)
	case err != nil:
		s.Log.Error("stream codes export failed", "campaign", r.PathValue("id"), "err", err)
		panic(http.ErrAbortHandler) // a truncated export must not look complete
	}
}
