package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// keyed guards a public route that checks a token keyed with the secret (opt-out links,
// provider reports): until this process's secret is known to be the database's
// (operation.Service.CheckSecret — serve starts before the migrations that let it say), it
// answers 503 with Retry-After, so that a provider sends its report again and a customer
// their opt-out, instead of either being taken for forged — 404, ignored — and lost. A refusal
// is remembered for keyedRecheck: anonymous requests must not each cost a database round trip
// (and a log line) while the answer is no.
func (s *Server) keyed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Ops != nil && !s.secretChecked(r.Context()) {
			w.Header().Set("Retry-After", "60")
			if strings.HasPrefix(r.URL.Path, "/u/") { // a customer's browser
				http.Error(w, "temporarily unavailable: try again in a minute", http.StatusServiceUnavailable)
			} else {
				refuse(w, http.StatusServiceUnavailable, "temporarily unavailable: send the report again later")
			}
			return
		}
		h(w, r)
	}
}

// keyedRecheck is how long the keyed routes take a refusal of the secret for the answer.
const keyedRecheck = 5 * time.Second

// secretChecked reports whether the secret is known to be the database's, asking at most once
// per keyedRecheck after a refusal (CheckSecret remembers a yes for good). It asks on a context
// of its own: a client that hangs up must not make its cancellation everyone's answer for
// keyedRecheck; and only a definite no (not the database's, or migrations behind) is
// remembered, never a hiccup.
func (s *Server) secretChecked(ctx context.Context) bool {
	if at := s.secretRefusedAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < keyedRecheck {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReadyTimeout)
	defer cancel()
	err := s.Ops.CheckSecret(ctx)
	switch code := breach.ErrorCode(err); {
	case err == nil:
		s.secretRefusedAt.Store(0)
		return true
	case code == breach.EINVALID || errors.Is(err, operation.ErrSecretUnchecked):
		s.secretRefusedAt.Store(time.Now().UnixNano())
	}
	s.Log.Warn("opt-out links and provider reports answered 503 until the secret is checked", "err", err)
	return false
}
