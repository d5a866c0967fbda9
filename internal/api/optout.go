package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/optout"
)

// maxOptOutBody bounds an opt-out POST: its body is "List-Unsubscribe=One-Click" or
// "confirm=1".
const maxOptOutBody = 1 << 10

// optOut answers GET and POST /u/{token}, the public opt-out link of every notice.
//
// GET shows a page in the customer's language asking to confirm (a mail client or a security
// scanner following links must not opt anyone out); POST records the opt-out — the page's form,
// and the one-click POST of RFC 8058 that mailbox providers send (List-Unsubscribe=One-Click,
// no cookies, no redirect, 200). A forged, altered or unknown token gets 404 and the same
// answer whatever is wrong with it. Nothing about the customer is shown or logged.
func (s *Server) optOut(w http.ResponseWriter, r *http.Request) {
	t, err := optout.Parse(s.Secret, r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, t.CampaignID)
	if err != nil {
		s.notFoundOr(w, r, err)
		return
	}
	rc, err := s.Store.RecipientByID(ctx, c.ID, t.RecipientID)
	if err != nil {
		s.notFoundOr(w, r, err)
		return
	}
	address := rc.Address(t.Channel)
	if address == "" {
		http.NotFound(w, r)
		return
	}
	done := false
	if r.Method == http.MethodPost {
		if !validOptOutBody(w, r) {
			http.Error(w, "the body must be List-Unsubscribe=One-Click (RFC 8058) or the page's form", http.StatusBadRequest)
			return
		}
		if err := s.Store.Suppress(ctx, t.Channel, address, "optout", "the customer opted out", c.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
		done = true
	}
	page, err := s.Renderer.OptOutPage(c, rc, done)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(page)
}

// validOptOutBody accepts a form (urlencoded or multipart, as RFC 8058 allows) carrying
// List-Unsubscribe=One-Click or the page's confirm=1.
func validOptOutBody(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxOptOutBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		if r.ParseForm() != nil {
			return false
		}
	case "multipart/form-data":
		if r.ParseMultipartForm(maxOptOutBody) != nil {
			return false
		}
	default:
		return false
	}
	return strings.EqualFold(r.PostFormValue("List-Unsubscribe"), "One-Click") || r.PostFormValue("confirm") == "1"
}

// notFoundOr answers 404 for a token naming nothing (a purged campaign, say), else the error.
func (s *Server) notFoundOr(w http.ResponseWriter, r *http.Request, err error) {
	if breach.ErrorCode(err) == breach.ENOTFOUND {
		http.NotFound(w, r)
		return
	}
	s.writeError(w, r, err)
}
