package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/httpserver"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sms"
	"github.com/breachnotice/breachnotice/internal/sns"
	"github.com/breachnotice/breachnotice/internal/web"
)

// maxUploadBytes bounds one customer-list upload over HTTP (lists are streamed; a 37-million
// row list is a few GB).
const maxUploadBytes = 32 << 30

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.cfg.Require("DATABASE_URL", "BREACHNOTICE_SECRET"); err != nil {
				return err
			}
			stopProfile, err := startCPUProfile(a.cfg.CPUProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
			a.metrics = a.newMetrics()
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			mail, text, closeSenders, err := a.senders(nil) // a test send is a handful of messages: no relay rates
			if err != nil {
				return err
			}
			defer closeSenders()
			// A broken override template stops the server here, naming its file and line,
			// rather than at the first notice.
			rd, err := a.renderer()
			if err != nil {
				return err
			}
			ops, err := a.newOperations(db, rd, dispatch.TestSender{Renderer: rd, Mail: mail, SMS: text})
			if err != nil {
				return err
			}
			// Refused at once with another secret; before the migrations, /readyz asks again.
			if err := ops.CheckSecret(cmd.Context()); err != nil && !errors.Is(err, operation.ErrSecretUnchecked) {
				return err
			}
			// REQUIRE_TWO_PERSON binds every process once recorded; before the migrations,
			// the first approval records it (and waits for them).
			if err := ops.RecordApprovalPolicy(cmd.Context()); err != nil {
				a.log.Warn("the two-person rule is not recorded in the database yet", "err", err)
			}
			// The console's queue dashboard needs the workers' Redis; without one, it is left out.
			var rdb redis.UniversalClient
			if a.cfg.RedisURL != "" {
				if rdb, err = a.redis(false); err != nil {
					return err
				}
				defer rdb.Close()
			}
			waitMetrics, err := a.serveMetrics(cmd.Context(), a.metrics, db, rdb)
			if err != nil {
				return err
			}
			err = a.serveHTTP(cmd.Context(), ops, db, outboxOf(mail, text), rdb, nil)
			return errors.Join(err, waitMetrics())
		},
	}
}

func (a *app) runCommand() *cobra.Command {
	var noDemo bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Quick start: migrate, load the demo campaign, print an operator token and serve",
		Long: `Run everything in one process, for a quick start or a small deployment: apply the
migrations, load the example campaign and customer list on an empty database, create a fresh
operator token named "demo" (printed once), and serve the HTTP API until interrupted.

Without BREACHNOTICE_SECRET, a secret is generated and kept in $BREACHNOTICE_STATE_DIR/secret
(default .local/secret), so that reference codes stay the same across restarts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := a.cfg.Require("DATABASE_URL"); err != nil {
				return err
			}
			if a.cfg.Secret == "" {
				secret, err := demoSecret(a.cfg.StateDir)
				if err != nil {
					return err
				}
				a.cfg.Secret = secret
			}
			a.metrics = a.newMetrics()
			db, err := a.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			engine, test, rdb, closeSending, err := a.sending(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer closeSending()
			ops, err := a.newOperations(db, test.Renderer, test)
			if err != nil {
				return err
			}
			// A database bound to another secret is refused before anything changes it, its
			// migrations included — one whose migrations predate the binding by its stored
			// reference codes; one with nothing to tell (new, or no codes yet) is bound after.
			if err := ops.CheckSecret(ctx); err != nil && !errors.Is(err, operation.ErrSecretUnchecked) {
				return err
			}
			if _, err := postgres.Migrate(ctx, a.cfg.DatabaseURL); err != nil {
				return err
			}
			if err := ops.CheckSecret(ctx); err != nil {
				return err
			}
			if err := ops.RecordApprovalPolicy(ctx); err != nil {
				return err
			}
			token, err := ops.RotateToken(ctx, breach.SystemActor("run"), "demo")
			if err != nil {
				return err
			}
			var demo string
			if !noDemo {
				if demo, err = a.loadDemo(ctx, ops); err != nil {
					return err
				}
			}
			console, err := ops.ResetDemoUser(ctx, breach.SystemActor("run"))
			if err != nil {
				return err
			}
			waitMetrics, err := a.serveMetrics(ctx, a.metrics, db, rdb)
			if err != nil {
				return err
			}
			waitEngine := a.startEngine(ctx, engine, ops)
			err = a.serveHTTP(ctx, ops, db, outboxOf(test.Mail, test.SMS), rdb, func(url string) {
				a.printWelcome(url, token, demo, console)
			})
			return errors.Join(err, waitEngine(), waitMetrics())
		},
	}
	cmd.Flags().BoolVar(&noDemo, "no-demo", false, "do not load the example campaign into an empty database")
	return cmd
}

// printWelcome tells a new user where everything is and what to type next.
func (a *app) printWelcome(url, token, demo string, console operation.DemoLogin) {
	fmt.Fprintf(a.stdout, "\nbreachnotice is running at %s\n\n", url)
	if console.Disabled {
		fmt.Fprintf(a.stdout, "  web console:                 %s/  (the %s user is disabled: sign in as your own user)\n", url, console.Login)
	} else {
		fmt.Fprintf(a.stdout, "  web console:                 %s/  (sign in as %s, password %s; new each start)\n", url, console.Login, console.Password)
	}
	fmt.Fprintf(a.stdout, "  operator token (shown once): %s\n", token)
	fmt.Fprintf(a.stdout, "  outboxes (nothing is sent):  %s\n", a.outboxDir())
	if demo != "" {
		// The database's password, if the URL has one, is not printed: a terminal's scrollback
		// and screen shares are no place for it.
		env := ""
		if db := a.cfg.DatabaseURL; db != "" {
			env = "DATABASE_URL='" + redactURL(db) + "' "
		}
		fmt.Fprintf(a.stdout, "  demo campaign:               %s\n\n", demo)
		fmt.Fprintf(a.stdout, "Send the demo campaign from the console (%s/campaigns/%s: Approve, then Start sending),\nor from another terminal:\n\n", url, demo)
		fmt.Fprintf(a.stdout, "  %sbin/breachnotice campaign approve %s\n", env, demo)
		fmt.Fprintf(a.stdout, "  %sbin/breachnotice campaign start %s\n", env, demo)
		fmt.Fprintf(a.stdout, "  %sbin/breachnotice campaign status %s\n", env, demo)
		fmt.Fprintf(a.stdout, "\nor over HTTP:\n\n  curl -H 'Authorization: Bearer %s' %s/api/v1/campaigns/%s/status\n", token, url, demo)
	}
	fmt.Fprintf(a.stdout, "\nStop with Ctrl-C.\n\n")
}

// loadDemo creates the example campaign and imports the example customers, if the database
// has no campaign yet, and returns the demo campaign's ID (the newest campaign's otherwise).
func (a *app) loadDemo(ctx context.Context, ops *operation.Service) (string, error) {
	actor := breach.SystemActor("demo")
	cs, err := ops.Campaigns(ctx, actor)
	if err != nil {
		return "", err
	}
	if len(cs) > 0 {
		return cs[0].ID, nil
	}
	c, err := ops.CreateCampaign(ctx, actor, "examples/campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		return "", fmt.Errorf("demo campaign: %w", err)
	}
	imp, err := ops.Import(ctx, actor, c.ID, operation.ImportRequest{Filename: "customers.csv", List: bytes.NewReader(examples.Customers)})
	if err != nil {
		return "", fmt.Errorf("demo customers: %w", err)
	}
	a.log.Info("demo campaign loaded", "campaign", c.ID, "read", imp.Read, "accepted", imp.Accepted,
		"merged", imp.Merged, "rejected", imp.Rejected)
	return c.ID, nil
}

// demoSecretPath is where the demo secret is kept: absolute when the working directory is known,
// so that a message naming it says which directory's it is.
func demoSecretPath(stateDir string) string {
	path := filepath.Join(cmp.Or(stateDir, ".local"), "secret")
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// readDemoSecret returns the demo secret kept in the state directory, if there is one.
func readDemoSecret(stateDir string) (string, bool) {
	b, err := os.ReadFile(demoSecretPath(stateDir))
	if s := strings.TrimSpace(string(b)); err == nil && len(s) >= 32 {
		return s, true
	}
	return "", false
}

// demoSecret returns the secret kept in the state directory, creating it on first use (by run).
func demoSecret(stateDir string) (string, error) {
	if s, ok := readDemoSecret(stateDir); ok {
		return s, nil
	}
	path := demoSecretPath(stateDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create state directory: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep demo secret: %w", err)
	}
	return secret, nil
}

// serveHTTP serves the web console and the API on HTTP_ADDR until ctx ends (SIGINT or
// SIGTERM), then stops accepting connections and gives requests in flight 30 seconds to
// finish. One listener, two handlers: the API keeps /api/v1/, /u/, /webhooks/ and /healthz,
// the console takes / and its own pages (see web.Server.Handler). rdb, when set, is the
// workers' Redis, shown to operators under /admin/queues and checked by /readyz; it also holds
// the /verify page's per-client limits, shared by every replica. Every request is observed in
// the HTTP metrics by its route pattern (a.metrics; nil: off).
func (a *app) serveHTTP(ctx context.Context, ops *operation.Service, db *postgres.DB, outbox *web.Outbox, rdb redis.UniversalClient, ready func(url string)) error {
	ops.StatusMaxAge = serveStatusMaxAge
	requests := api.NewRequestLog(a.log) // one bound on the request lines of the API and the console
	console := &web.Server{Ops: ops, Store: db, Renderer: ops.Renderer, Log: a.log, Requests: requests, PublicURL: a.cfg.PublicURL,
		MaxUploadBytes: maxUploadBytes, Outbox: outbox, Secret: []byte(a.cfg.Secret), TrustedProxies: a.cfg.TrustedProxies}
	if rdb != nil {
		console.Queues = web.Queues(rdb)
	}
	// SES notifications are accepted only from the topics named in SNS_TOPIC_ARNS: SNS signs
	// every AWS account's messages alike, so without the list anyone could subscribe a topic of
	// their own and report bounces and complaints.
	var snsVerifier *sns.Verifier
	if len(a.cfg.SNSTopicARNs) > 0 {
		snsVerifier = &sns.Verifier{TopicARNs: a.cfg.SNSTopicARNs}
	}
	handler, err := console.Handler((&api.Server{Ops: ops, Store: db, Renderer: ops.Renderer, Secret: []byte(a.cfg.Secret),
		Log: a.log, Requests: requests, MaxUploadBytes: maxUploadBytes,
		PublicURL: a.cfg.PublicURL, TwilioAuthToken: a.cfg.TwilioAuthToken, WebhookSecret: []byte(a.cfg.WebhookSecret),
		SNS: snsVerifier, Redis: rdb, TrustedProxies: a.cfg.TrustedProxies,
		Metrics: a.metrics, Ready: readyChecks(db, rdb, ops)}).Handler())
	if err != nil {
		return err
	}
	pace := api.DefaultPace
	pace.MinRate = int64(a.cfg.UploadMinRate) << 10
	srv := &http.Server{
		// No ReadTimeout or WriteTimeout: an upload of millions of rows takes minutes and is
		// answered when it is imported. A client that stalls or trickles is cut off instead
		// (api.Progress): nothing sent or read for a minute, or under UPLOAD_MIN_RATE on
		// average, and its connection, import and locks are released.
		Handler:           api.Progress(pace, a.metrics.Instrument(handler)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Headers are a few hundred bytes (a token, a session cookie): the 1 MiB default let
		// 2,500 connections sending headers they never finish take 4 GB (a review).
		MaxHeaderBytes: maxHeaderBytes,
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if err := db.Warm(ctx); err != nil {
		return err
	}
	stopTokens := a.cacheTokens(ctx, db)
	defer stopTokens()
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	limiter := httpserver.NewLimiter(httpserver.Limits{Total: a.cfg.HTTPMaxConnections, PerSource: a.cfg.HTTPMaxConnectionsPerClient,
		Exempt: a.cfg.TrustedProxies, Log: a.log})
	ln = limiter.Listener(ln)
	srv.ConnState = limiter.ConnState
	url := "http://" + ln.Addr().String()
	a.log.Info("serving", "url", url)
	if ready != nil {
		ready(url)
	}
	return httpserver.Serve(ctx, srv, ln, 30*time.Second)
}

// cacheTokens keeps db's token cache listening (postgres.DB.CacheTokens) until stop is called,
// reconnecting a second after a failure; the lookups read the database meanwhile.
func (a *app) cacheTokens(ctx context.Context, db *postgres.DB) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := db.CacheTokens(ctx, nil); err != nil {
				a.log.Warn("token cache off until the database answers again", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// serveStatusMaxAge is how old a campaign's status may be when served: the screens polling it
// while a campaign sends share one read a second, read again behind them (see
// operation.Service.StatusMaxAge).
const serveStatusMaxAge = time.Second

// outboxOf tells the console where the local captures write, when notices are captured
// instead of sent (development mode); nil when both channels really send.
func outboxOf(mail dispatch.Mailer, text sms.Provider) *web.Outbox {
	var o web.Outbox
	if c, ok := mail.(*email.Capture); ok {
		o.EmailDir = c.Dir
	}
	if c, ok := text.(*sms.Capture); ok {
		o.SMSFile = c.Path
	}
	if o == (web.Outbox{}) {
		return nil
	}
	return &o
}

// redactURL hides the password of a URL ("postgres://user:xxxxx@host/db"), and leaves anything
// that is not a URL with a password as it is.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return u.Redacted()
}

// maxHeaderBytes bounds a request's headers (net/http's default is 1 MiB).
const maxHeaderBytes = 64 << 10
