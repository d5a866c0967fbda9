package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/redisconn"
	"github.com/breachnotice/breachnotice/internal/sms"
)

func (a *app) workerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the sending engine: render and send notices, record results",
		Long: `Run the sending engine until SIGTERM: claim queued notices in PostgreSQL, send them by
email (SMTP_URL, or several relays in SMTP_URLS; captured in OUTBOX_DIR when unset) and SMS
(Twilio; captured when unset), record every outcome, and reconcile the queue in Redis with the
record. Run as many workers as needed against the same DATABASE_URL and REDIS_URL. On SIGTERM,
notices in flight finish and nothing is left half-sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.cfg.Require("DATABASE_URL", "REDIS_URL", "BREACHNOTICE_SECRET"); err != nil {
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
			e, test, rdb, closeSending, err := a.sending(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer closeSending()
			ops, err := a.newOperations(db, test.Renderer, nil)
			if err != nil {
				return err
			}
			// The engine keys every notice with the secret: it must be the database's, and a
			// database whose migrations are behind cannot say yet (ErrSecretUnchecked).
			if err := ops.CheckSecret(cmd.Context()); err != nil {
				return err
			}
			if err := ops.RecordApprovalPolicy(cmd.Context()); err != nil {
				return err
			}
			waitMetrics, err := a.serveMetrics(cmd.Context(), a.metrics, db, rdb)
			if err != nil {
				return err
			}
			err = a.startEngine(cmd.Context(), e, ops)()
			return errors.Join(err, waitMetrics())
		},
	}
}

// redis connects to REDIS_URL — one server, Sentinels or a Cluster (package redisconn) — with
// the one client that the queues, the rate limits, the metrics and /readyz share. When it is
// unset and inProcess is allowed (run), an in-process Redis (miniredis) serves instead — safe
// because PostgreSQL is the record and the reconciler queues again whatever a restart loses.
func (a *app) redis(inProcess bool) (redis.UniversalClient, error) {
	if a.cfg.RedisURL == "" {
		if !inProcess {
			return nil, errors.New("REDIS_URL must be set (see README, Configuration)")
		}
		m, err := miniredis.Run()
		if err != nil {
			return nil, fmt.Errorf("in-process redis: %w", err)
		}
		a.log.Info("REDIS_URL unset: queues in an in-process Redis")
		return &closingClient{Client: redis.NewClient(&redis.Options{Addr: m.Addr()}), m: m}, nil
	}
	opt, err := redisconn.Parse(a.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	a.log.Info("redis", "at", opt.String())
	return opt.NewClient(), nil
}

// redisStartWait is how long a sending process waits for Redis to answer before it refuses to
// start: long enough for a Redis started beside it, or failing over, to come up.
const redisStartWait = 15 * time.Second

// checkRedis pings Redis until it answers, for wait at most, and says why it did not in the
// operator's terms. A worker that started without a Redis it could use said "worker started"
// and then logged the same error twenty times a second for ever (a wrong password, a Sentinel
// master name no Sentinel knows, a port nothing listens on): a configuration error is better
// refused at once, by name. The errors name servers, never a password.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		msg := err.Error()
		switch {
		case strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "NOAUTH"), strings.Contains(msg, "invalid password"):
			return fmt.Errorf("REDIS_URL: Redis refused the credentials (%s): check the user and password in REDIS_URL", breach.Clip(msg))
		case strings.Contains(msg, "sentinel") && strings.HasSuffix(msg, "redis: nil"):
			return fmt.Errorf("REDIS_URL: the Sentinels answered but know no primary of the master= name given (check the name in REDIS_URL against `SENTINEL masters`)")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("REDIS_URL: no answer from Redis within %s (%s): is it running, and is REDIS_URL right?", wait, breach.Clip(msg))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// closingClient stops the in-process Redis with its client.
type closingClient struct {
	*redis.Client
	m *miniredis.Miniredis
}

func (c *closingClient) Close() error {
	err := c.Client.Close()
	c.m.Close()
	return err
}

// outboxDir is where local captures go: OUTBOX_DIR, else the state directory's outbox.
func (a *app) outboxDir() string {
	if a.cfg.OutboxDir != "" {
		return a.cfg.OutboxDir
	}
	state := a.cfg.StateDir
	if state == "" {
		state = ".local"
	}
	return filepath.Join(state, "outbox")
}

// senders builds the email and SMS senders from the configuration: SMTP and Twilio when
// configured (several relays with SMTP_URLS, their own rates kept by relayLimits), local
// captures otherwise. close releases the SMTP connections.
func (a *app) senders(relayLimits email.RelayLimiter) (dispatch.Mailer, sms.Provider, func(), error) {
	text, err := sms.NewProvider(sms.Settings{AccountSID: a.cfg.TwilioAccountSID, AuthToken: a.cfg.TwilioAuthToken,
		From: a.cfg.TwilioFrom, MessagingServiceSID: a.cfg.TwilioMessagingServiceSID, APIURL: a.cfg.TwilioAPIURL}, a.outboxDir())
	if err != nil {
		return nil, nil, nil, err
	}
	if a.cfg.SMTPURL == "" && a.cfg.SMTPURLs == "" {
		dir := filepath.Join(a.outboxDir(), "email")
		a.log.Info("SMTP_URL unset: email captured as files", "dir", dir)
		return &email.Capture{Dir: dir}, text, func() {}, nil
	}
	var dkim *email.DKIM
	if a.cfg.DKIMKey != "" || a.cfg.DKIMDomain != "" || a.cfg.DKIMSelector != "" ||
		a.cfg.DKIMEd25519Key != "" || a.cfg.DKIMEd25519Selector != "" {
		if dkim, err = email.LoadDKIM(a.cfg.DKIMDomain, a.cfg.DKIMSelector, a.cfg.DKIMKey); err != nil {
			return nil, nil, nil, err
		}
		if a.cfg.DKIMEd25519Key != "" || a.cfg.DKIMEd25519Selector != "" {
			if err := dkim.LoadEd25519(a.cfg.DKIMEd25519Selector, a.cfg.DKIMEd25519Key); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	if a.cfg.SMTPURLs != "" {
		relays, err := email.ParseRelays(a.cfg.SMTPURLs)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, r := range relays {
			a.log.Info("SMTP relay", "relay", r.Name, "weight", r.Weight, "rate", r.Rate)
		}
		p := email.NewPool(relays, dkim, email.PoolOptions{Conns: a.cfg.SMTPConnections, Limiter: relayLimits})
		return p, text, func() { p.Close() }, nil
	}
	cfg, err := email.ParseURL(a.cfg.SMTPURL)
	if err != nil {
		return nil, nil, nil, err
	}
	s := email.NewSender(cfg, dkim, a.cfg.SMTPConnections)
	return s, text, func() { s.Close() }, nil
}

// sending builds the sending engine on db: Redis (in-process when REDIS_URL is unset and
// inProcessRedis allows it), the senders, the renderer. The TestSender shares the engine's
// senders, for the reviewers' test sends; rdb is the engine's Redis, for the console's queue
// dashboard. close releases the senders and Redis.
func (a *app) sending(ctx context.Context, db *postgres.DB, inProcessRedis bool) (e *dispatch.Engine, test dispatch.TestSender, rdb redis.UniversalClient, closeAll func(), err error) {
	rd, err := a.renderer()
	if err != nil {
		return nil, dispatch.TestSender{}, nil, nil, err
	}
	rdb, err = a.redis(inProcessRedis)
	if err != nil {
		return nil, dispatch.TestSender{}, nil, nil, err
	}
	if err := checkRedis(ctx, rdb, redisStartWait); err != nil {
		rdb.Close()
		return nil, dispatch.TestSender{}, nil, nil, err
	}
	mail, text, closeSenders, err := a.senders(dispatch.NewRelayLimits(rdb))
	if err != nil {
		rdb.Close()
		return nil, dispatch.TestSender{}, nil, nil, err
	}
	cfg := dispatch.DefaultConfig()
	cfg.Concurrency = a.cfg.WorkerConcurrency
	cfg.EmailRate, cfg.SMSRate, cfg.DomainRates = a.cfg.EmailRate, a.cfg.SMSRate, a.cfg.DomainRates
	cfg.PublicURL, cfg.Secret = a.cfg.PublicURL, []byte(a.cfg.Secret)
	cfg.Metrics = a.metrics
	cfg.FailureStreak = a.cfg.PauseAfterFailures
	if cfg.FailureStreak == 0 {
		cfg.FailureStreak = -1 // never
	}
	e = dispatch.New(cfg, db, rdb, rd, mail, text, a.log)
	return e, dispatch.TestSender{Renderer: rd, Mail: mail, SMS: text}, rdb, func() { closeSenders(); rdb.Close() }, nil
}

// startEngine runs the engine, and the retention sweep beside it (operation.StartRetention: it
// needs the secret-keyed proofs and nothing of the queue), in the background until ctx ends;
// wait waits for their graceful stop and returns the engine's error.
func (a *app) startEngine(ctx context.Context, e *dispatch.Engine, ops *operation.Service) (wait func() error) {
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stopRetention := ops.StartRetention(ctx)
	return func() error {
		err := <-done
		stopRetention()
		return err
	}
}
