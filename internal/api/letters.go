package api

import (
	"io"
	"net/http"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// letterRoutes are the postal letters: the print run as a zip, and the print vendor's and the
// post's answers (mailed, returned).
func (s *Server) letterRoutes() []Route {
	return []Route{
		// POST, not GET: a run records its letters printed (deliveries, events, audit rows),
		// which a link prefetcher, a proxy's retry or a cross-site link must not do.
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/letters", handler: s.letters},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/letters/mailed", handler: s.lettersMailed},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/letters/returned", handler: s.lettersReturned},
	}
}

// letters answers POST …/letters: the campaign's letters (one PDF each) and manifest.csv as a
// zip streamed as it is written (operation.Service.Letters, which records them printed).
func (s *Server) letters(w http.ResponseWriter, r *http.Request) {
	started := false
	rep, err := s.Ops.Letters(r.Context(), actor(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (operation.LetterSink, error) {
		started = true
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="letters-`+c.ID+`.zip"`)
		w.Header().Set("Cache-Control", "no-store")
		return operation.NewZipSink(w, time.Now()), nil
	})
	switch {
	case err != nil && !started:
		s.writeError(w, r, err)
	case err != nil:
		// The zip is half sent: break the connection so that the client sees a failed
		// download, never a short archive that looks whole.
		s.Log.Error("letters failed midway", "campaign", r.PathValue("id"), "letters", rep.Letters, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// lettersMailed answers POST …/letters/mailed: with ?all=true every printed letter becomes
// mailed; otherwise the body (raw, or the "file" part of a multipart form) is a CSV naming the
// customers whose letters were posted — an empty body is an empty file, refused as one.
func (s *Server) lettersMailed(w http.ResponseWriter, r *http.Request) {
	var (
		file io.Reader
		all  bool
	)
	switch v := r.URL.Query().Get("all"); v {
	case "true":
		all = true
	case "", "false":
		body := http.MaxBytesReader(w, r.Body, 16<<20)
		f, _, err := uploadedFile(r, body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		file = f
	default:
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "all: true or false, not %q", breach.QuoteText(v)))
		return
	}
	if all && hasBody(r) {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "letters mailed: all=true takes no file; without it, the file names the letters posted"))
		return
	}
	rep, err := s.Ops.LettersMailed(r.Context(), actor(r.Context()), r.PathValue("id"), all, file)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// lettersReturned answers POST …/letters/returned: the returned-mail CSV (raw body, or the
// "file" part of a multipart form) moves the letters it names to returned; the answer lists
// the lines it could not use, with why.
func (s *Server) lettersReturned(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, 16<<20)
	file, _, err := uploadedFile(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Ops.LettersReturned(r.Context(), actor(r.Context()), r.PathValue("id"), file)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// hasBody reports whether r carries a body of at least a byte, whatever its framing (a
// chunked body has no Content-Length): one byte is read to know.
func hasBody(r *http.Request) bool {
	if r.ContentLength > 0 {
		return true
	}
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	var b [1]byte
	n, _ := io.ReadFull(r.Body, b[:])
	return n > 0
}
