package web

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// letters downloads the campaign's letters as a zip of PDFs and manifest.csv
// (operation.Service.Letters: the letters are recorded printed).
func (s *Server) letters(w http.ResponseWriter, r *http.Request) {
	started := false
	rep, err := s.Ops.Letters(r.Context(), actorOf(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (operation.LetterSink, error) {
		started = true
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="letters-`+c.ID+`.zip"`)
		return operation.NewZipSink(w, time.Now()), nil
	})
	switch {
	case err != nil && !started:
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
	case err != nil:
		s.Log.Error("letters failed midway", "campaign", r.PathValue("id"), "letters", rep.Letters, "err", err)
		panic(http.ErrAbortHandler) // a short archive must not look whole
	}
}

// lettersData is the page that says what marking letters mailed or returned did.
type lettersData struct {
	C      *breach.Campaign
	Report *breach.LetterMarkReport
}

// lettersMailed marks every printed letter mailed (operation.Service.LettersMailed).
func (s *Server) lettersMailed(w http.ResponseWriter, r *http.Request) {
	s.markLetters(w, r, func(file io.Reader) (*breach.LetterMarkReport, error) {
		return s.Ops.LettersMailed(r.Context(), actorOf(r.Context()), r.PathValue("id"), true, nil)
	}, false)
}

// lettersReturned records the returned-mail file uploaded (field "file";
// operation.Service.LettersReturned).
func (s *Server) lettersReturned(w http.ResponseWriter, r *http.Request) {
	s.markLetters(w, r, func(file io.Reader) (*breach.LetterMarkReport, error) {
		return s.Ops.LettersReturned(r.Context(), actorOf(r.Context()), r.PathValue("id"), file)
	}, true)
}

func (s *Server) markLetters(w http.ResponseWriter, r *http.Request, mark func(io.Reader) (*breach.LetterMarkReport, error), needsFile bool) {
	var file io.Reader
	if needsFile {
		// Read as it arrives, like a list upload: a returned-mail file from a vendor can be a
		// campaign's worth of rows.
		r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
		f, _, err := formFile(r)
		if err == nil && f == nil {
			err = errors.New("no file chosen")
		}
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "Choose the returned-mail file (CSV with customer_id or reference, and reason) to upload.")
			return
		}
		file = f
	}
	rep, err := mark(file)
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	c, err := s.Ops.Campaign(r.Context(), actorOf(r.Context()), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "letters", "Letters "+string(rep.State), &lettersData{C: c, Report: rep})
}
