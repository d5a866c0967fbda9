// Package web serves the web console: server-rendered pages in which the incident team —
// legal, communications and security staff, mostly not engineers — does the whole job:
// create a campaign, upload its customer list, preview every notice, send test notices,
// approve, start, and watch delivery.
//
// Pages are html/template, embedded with their stylesheet and a few lines of script (live
// tracking refreshes itself; without script a meta refresh does it). The console calls the
// same Go code as the JSON API and the command line —
// never the API over HTTP: every action is an operation of package operation, so that a rule
// (the approval's lint, the two-person rule, the state machine, what is audited) holds in one
// place for every door.
//
// Security: users sign in with a password (argon2id), get a session cookie (HttpOnly,
// SameSite=Strict, Secure and __Host- prefixed over https), and act by role (viewer, operator,
// approver). Every state-changing request passes Go's http.CrossOriginProtection, sign-in
// attempts are rate-limited, and every action is written to the audit log as "user:<login>".
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// Store is what the console needs of storage beyond the operations: its users, their sessions
// and sign-ins, and the audit rows of what only the console does (sign-in, the queue
// dashboard). Implemented by package postgres.
type Store interface {
	Audit(ctx context.Context, actor, action, campaignID string, detail map[string]any) error
	AccountStore
}

// AccountStore keeps console users, their sessions and failed sign-ins.
type AccountStore interface {
	// UserForSignIn returns a user and their password hash, or ENOTFOUND.
	UserForSignIn(ctx context.Context, login string) (*breach.User, string, error)
	CreateSession(ctx context.Context, userID int64, hash []byte, ttl, idle time.Duration) error
	// SessionUser returns the user of a live session, or EUNAUTHORIZED.
	SessionUser(ctx context.Context, hash []byte) (*breach.User, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// RecordSignInAttempt counts an attempt as a failure of a login (by its keyed hash) from a
	// client address before the password is checked, and returns the failures within window,
	// this one included, of that pair and of the address; parallel attempts are counted one
	// at a time. An attempt past maxPair or maxIP, which is refused unchecked, is not recorded:
	// counted, every refused retry moved the end of the pause, and a user kept trying was kept
	// out for as long as they tried (a review).
	RecordSignInAttempt(ctx context.Context, loginHash []byte, clientIP string, window time.Duration, maxPair, maxIP int) (byPair, byIP int, err error)
	// ClearSignInFailures forgets a login's failures from an address after it signed in.
	ClearSignInFailures(ctx context.Context, loginHash []byte, clientIP string) error
}

// Server is the web console. Set the fields, then call Handler once.
type Server struct {
	// Ops runs every operator operation: the console only turns forms into calls and answers
	// into pages.
	Ops   *operation.Service
	Store Store
	// Renderer knows the campaigns' variants (the preview form's choices).
	Renderer *notice.Renderer
	Log      *slog.Logger
	// Requests logs the requests (nil: a RequestLog of Log's own; serve shares the API's).
	Requests *api.RequestLog
	// MaxUploadBytes bounds a customer-list upload (the list is streamed, never held whole).
	MaxUploadBytes int64
	// Outbox, when set, lists the local captures of email and SMS (development mode: nothing
	// is really sent, and the console shows what would have been).
	Outbox *Outbox
	// Queues, when set, is the queue dashboard (asynqmon, see Queues), served to operators
	// under /admin/queues.
	Queues http.Handler
	// SessionTTL is how long a session lasts at most (default 12 hours: a working day of an
	// incident); IdleTimeout how long it survives unused (default 1 hour).
	SessionTTL, IdleTimeout time.Duration
	// Secret keys the hashes of typed logins kept with failed sign-ins (BREACHNOTICE_SECRET);
	// when empty, a random key of the process is used, and failures are forgotten on restart.
	Secret []byte
	// TrustedProxies are the TLS-terminating proxies (TRUSTED_PROXIES) whose X-Forwarded-For
	// names the client; from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// PublicURL (PUBLIC_URL) is the service's public base URL. When it is https the session
	// cookie is always Secure and __Host- prefixed, whatever a request's headers say;
	// otherwise only over TLS or X-Forwarded-Proto: https from TrustedProxies.
	PublicURL string

	pages     map[string]*template.Template
	signInKey []byte
	checks    *signInChecks
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// QueuesPath is where the queue dashboard is served.
const QueuesPath = "/admin/queues"

// route is one console endpoint and the role it takes.
type route struct {
	pattern string
	role    breach.Role
	handler http.HandlerFunc
}

// routes lists the console's endpoints. Paths are the console's own: the JSON API keeps
// /api/v1/, and the public pages /u/, /webhooks/ and /healthz.
func (s *Server) routes() []route {
	rs := []route{
		{"GET /{$}", breach.RoleViewer, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/campaigns", http.StatusSeeOther)
		}},
		{"GET /campaigns", breach.RoleViewer, s.listCampaigns},
		{"GET /campaigns/new", breach.RoleOperator, s.newCampaign},
		{"POST /campaigns", breach.RoleOperator, s.createCampaign},
		{"GET /campaigns/{id}", breach.RoleViewer, s.showCampaign},
		{"GET /campaigns/{id}/tracking", breach.RoleViewer, s.tracking},
		{"POST /campaigns/{id}/imports", breach.RoleOperator, s.upload},
		{"GET /campaigns/{id}/imports/{importID}", breach.RoleViewer, s.showImport},
		{"GET /campaigns/{id}/imports/{importID}/rejects.csv", breach.RoleViewer, s.rejects},
		{"GET /campaigns/{id}/preview", breach.RoleViewer, s.preview},
		{"GET /campaigns/{id}/preview/email", breach.RoleViewer, s.previewEmail},
		{"GET /campaigns/{id}/recipients", breach.RoleViewer, s.lookup},
		{"GET /campaigns/{id}/audit", breach.RoleViewer, s.auditLog},
		{"GET /campaigns/{id}/regulators", breach.RoleViewer, s.regulators},
		{"GET /campaigns/{id}/regulators/samples", breach.RoleViewer, s.regulatorSamples},
		{"GET /campaigns/{id}/regulators/samples/{file}", breach.RoleViewer, s.regulatorSample},
		{"POST /campaigns/{id}/test-send", breach.RoleOperator, s.testSend},
		{"POST /campaigns/{id}/approve", breach.RoleApprover, s.approve},
		{"POST /campaigns/{id}/start", breach.RoleOperator, s.move(operation.Start, "started")},
		{"POST /campaigns/{id}/pause", breach.RoleOperator, s.move(operation.Pause, "paused")},
		{"POST /campaigns/{id}/resume", breach.RoleOperator, s.move(operation.Resume, "resumed")},
		{"POST /campaigns/{id}/retry-failed", breach.RoleOperator, s.retryFailed},
		{"POST /campaigns/{id}/cancel", breach.RoleOperator, s.move(operation.Cancel, "cancelled")},
		{"GET /campaigns/{id}/deliveries.csv", breach.RoleViewer, s.export},
		{"GET /tokens", breach.RoleViewer, s.tokens},
		{"POST /tokens/{name}/revoke", breach.RoleViewer, s.revokeToken},
		{"POST /campaigns/{id}/purge", breach.RoleOperator, s.purge},
		{"POST /campaigns/{id}/codes", breach.RoleOperator, s.uploadCodes},
		{"GET /campaigns/{id}/codes.csv", breach.RoleViewer, s.exportCodes},
		{"POST /campaigns/{id}/letters", breach.RoleOperator, s.letters},
		{"POST /campaigns/{id}/letters/mailed", breach.RoleOperator, s.lettersMailed},
		{"POST /campaigns/{id}/letters/returned", breach.RoleOperator, s.lettersReturned},
	}
	if s.Outbox != nil {
		rs = append(rs,
			route{"GET /outbox", breach.RoleViewer, s.outbox},
			route{"GET /outbox/email/{name}", breach.RoleViewer, s.outboxEmail},
			route{"GET /outbox/email/{name}/html", breach.RoleViewer, s.outboxEmailHTML},
			route{"GET /outbox/email/{name}/raw", breach.RoleViewer, s.outboxEmailRaw},
		)
	}
	return rs
}

// Handler serves the console's pages and hands every other request to next (the JSON API and
// the public pages). Console routes are protected against cross-origin requests; next is
// not, since the API authenticates by bearer token and opt-out links and provider webhooks
// are cross-origin by nature.
func (s *Server) Handler(next http.Handler) (http.Handler, error) {
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	if s.SessionTTL == 0 {
		s.SessionTTL = 12 * time.Hour
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = time.Hour
	}
	s.checks = newSignInChecks()
	s.signInKey = s.Secret
	if len(s.signInKey) == 0 {
		s.signInKey = make([]byte, 32)
		rand.Read(s.signInKey)
	}
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "This request came from another site and was refused. Use the console's own pages and buttons.")
	}))
	mux := http.NewServeMux()
	requests := s.Requests
	if requests == nil {
		requests = api.NewRequestLog(s.Log)
	}
	protect := func(h http.Handler) http.Handler { return requests.Handler(csrf.Handler(h)) }
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, protect(pageHeaders(s.signedIn(rt.role, s.singleQuery(rt.handler)))))
	}
	mux.Handle("GET /sign-in", protect(pageHeaders(http.HandlerFunc(s.signInPage))))
	mux.Handle("POST /sign-in", protect(pageHeaders(http.HandlerFunc(s.signIn))))
	mux.Handle("POST /sign-out", protect(pageHeaders(http.HandlerFunc(s.signOut))))
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHeaders(http.FileServerFS(static))))
	if s.Queues != nil {
		// asynqmon's own page runs inline script: it gets the frame and sniffing protections,
		// not the console's content security policy.
		mux.Handle(QueuesPath+"/", protect(frameHeaders(s.signedIn(breach.RoleOperator, s.auditQueues(s.Queues)))))
		mux.Handle("GET "+QueuesPath, http.RedirectHandler(QueuesPath+"/", http.StatusMovedPermanently))
	}
	mux.Handle("/", next)
	return mux, nil
}

// consolePolicy is the console pages' content security policy: nothing but the console's own
// stylesheet and script, no inline code, frames only of the console's own previews.
const consolePolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; " +
	"frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// singleQuery refuses a page whose address gives a parameter more than once: the console's
// own links and forms never do, and a page reading the first of two (cost_usd=1&cost_usd=999999)
// answered what the API, which refuses them, would not.
func (s *Server) singleQuery(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "This page's address cannot be read: use the console's own links and forms.")
			return
		}
		for _, name := range slices.Sorted(maps.Keys(q)) {
			if len(q[name]) > 1 {
				s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("This page's address gives %s %d times: give it once.", breach.Clip(name), len(q[name])))
				return
			}
		}
		next(w, r)
	}
}

// pageHeaders sets what every console page sends: its content security policy, no caching
// (pages show personal data), no sniffing, no referrer leaving the console.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", consolePolicy)
		h.Set("Cache-Control", "no-store")
		frameHeaders(next).ServeHTTP(w, r)
	})
}

func frameHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func staticHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// audit records what only the console does (signing in and out, the queue dashboard's
// changes); every operation audits itself. A failure to record is logged and does not undo
// the action, which has already happened.
func (s *Server) audit(r *http.Request, action, campaignID string, detail map[string]any) {
	actor := "anonymous"
	if u := userOf(r.Context()); u != nil {
		actor = u.Actor()
	}
	if err := s.Store.Audit(r.Context(), actor, action, campaignID, detail); err != nil {
		s.Log.Error("audit failed", "action", action, "campaign", campaignID, "err", err)
	}
}

// httpStatus returns err's HTTP status; internal errors are logged, and the person sees a
// generic message (breach.ErrorMessage).
func (s *Server) httpStatus(r *http.Request, err error) int {
	status, internal := api.HTTPStatus(err)
	if internal {
		s.Log.Error("request failed", "route", r.Pattern, "err", err)
	}
	return status
}

// errorMessage is what the person is told of err.
func errorMessage(err error) string {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return "The file is larger than the server accepts."
	}
	return breach.ErrorMessage(err)
}
