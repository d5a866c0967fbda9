// Package dispatch is the sending engine: asynq workers that claim deliveries in PostgreSQL,
// render each customer's notice, send it by email (go-mail) or SMS, and record the outcome —
// plus the conductor that plans a started campaign's deliveries and reconciles the queue with
// the record.
//
// PostgreSQL is the record, Redis only carries work: a task names a campaign, a channel and a
// range of recipient IDs; a worker claims the range's due deliveries with a conditional update
// (queued → sending) before sending, so a task run twice sends nothing twice; and whatever the
// queue loses (Redis flushed or restarted, a worker killed) the conductor finds in PostgreSQL
// and queues again.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/metrics"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/phone"
	"github.com/breachnotice/breachnotice/internal/sms"
)

// Config tunes the engine. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// ChunkSize is how many recipient IDs one task covers. Bigger chunks mean fewer tasks and
	// claims; smaller ones less work redone after a crash and a faster first notice.
	ChunkSize int64
	// Concurrency is how many tasks one worker process runs at once; Parallel how many
	// notices each task has in flight, EmailParallel how many emails. An SMS in flight is a
	// few hundred bytes waiting on the provider's answer, so more of them send more. An email
	// is rendered (30–50 KB with its message) and then mostly waits for one of the Mailer's
	// connections: twice as many as the Mailer has connections is enough (unset, New makes
	// it that, minEmailParallel at least), and 8 × 16 of them cost 7 MB more of the worker's peak RSS than
	// 8 × 8 with eight connections, for no more speed (2,635 and 3,080 emails/s against 3,024
	// and 2,941; 75 MB against 68).
	Concurrency   int
	Parallel      int
	EmailParallel int
	// MaxAttempts bounds the tries of a notice that fails transiently; RetryBase is the first
	// backoff, doubled each time (with jitter) up to RetryMax.
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
	// EmailRate and SMSRate are messages per second across all workers (0: unlimited);
	// DomainRates limits the email to given recipient domains, also across all workers.
	EmailRate   int
	SMSRate     int
	DomainRates map[string]int
	// Outcomes are recorded by group commit (see journal): a write starts as soon as an outcome
	// arrives and none is in flight. FlushSize is the most outcomes one write carries (a full
	// batch starts a write beside the one in flight); FlushEvery how long an outcome waits for
	// the write in flight before another starts beside it. Together they bound how long a sent
	// notice waits to be recorded: the window in which a killed worker's notice is sent again.
	FlushSize  int
	FlushEvery time.Duration
	// MaxUnrecorded bounds the notices this process has handed (or is handing) to a provider
	// whose outcome is not recorded yet: when the database stops answering, sending stops
	// there. Default 4 × Concurrency × Parallel: every sender may be in a provider's call (or
	// waiting for an SMTP connection) and the journal still have a few hundred milliseconds of
	// outcomes to write before the bound slows anything.
	MaxUnrecorded int
	// RecordStall is how long a write of outcomes may be in flight before no more notices are
	// handed to a provider until it lands (see journal): a written batch takes milliseconds,
	// and a database that takes longer is locked, failing or out of reach.
	RecordStall time.Duration
	// ReconcileEvery is how often the conductor looks for lost work; a worker silent for
	// StaleAfter is taken for dead and its claims released. A claim of this worker that none of
	// its tasks holds (lost: a commit whose answer never came) is released once it is
	// ClaimLostAfter older than the oldest claim its tasks hold (see holds).
	ReconcileEvery time.Duration
	HeartbeatEvery time.Duration
	StaleAfter     time.Duration
	ClaimLostAfter time.Duration
	// FailureStreak is how many notices of a campaign's channel in a row may fail for good,
	// none sent, before the campaign is paused (DefaultFailureStreak; negative: never).
	FailureStreak int
	// ShutdownTimeout bounds how long a stopping worker waits for its notices in flight.
	ShutdownTimeout time.Duration
	// TaskRetries and TaskTimeout are asynq's: they only matter when the database fails.
	TaskRetries int
	TaskTimeout time.Duration
	// PublicURL is the base of the opt-out links and of the SMS status callbacks.
	PublicURL string
	// Secret signs the opt-out tokens.
	Secret []byte
	// Metrics counts the notices' changes of state, times the providers' round trips and the
	// rate limits' waits (nil: not measured).
	Metrics *metrics.Metrics
}

// HandlerGrace is how long a stopping worker waits for its send tasks past ShutdownTimeout,
// after which asynq stops waiting for them: a notice a relay took late is still being recorded.
const HandlerGrace = 10 * time.Second

// minEmailParallel is the fewest emails a task has in flight when Config.EmailParallel is
// unset, whatever few connections the Mailer has.
const minEmailParallel = 8

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		ChunkSize: 256, Concurrency: 8, Parallel: 16,
		MaxAttempts: 8, RetryBase: 30 * time.Second, RetryMax: time.Hour,
		FlushSize: 64, FlushEvery: 3 * time.Millisecond, RecordStall: 500 * time.Millisecond,
		ReconcileEvery: 10 * time.Second, HeartbeatEvery: 2 * time.Second, StaleAfter: 30 * time.Second,
		ClaimLostAfter:  time.Minute,
		ShutdownTimeout: 30 * time.Second, TaskRetries: 25, TaskTimeout: 10 * time.Minute,
		FailureStreak: DefaultFailureStreak,
	}
}

// withDefaults fills c's zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = d.ChunkSize
	}
	set(&c.Concurrency, d.Concurrency)
	set(&c.Parallel, d.Parallel)
	set(&c.MaxAttempts, d.MaxAttempts)
	set(&c.FlushSize, d.FlushSize)
	set(&c.TaskRetries, d.TaskRetries)
	setD(&c.RetryBase, d.RetryBase)
	setD(&c.RetryMax, d.RetryMax)
	setD(&c.FlushEvery, d.FlushEvery)
	setD(&c.RecordStall, d.RecordStall)
	setD(&c.ReconcileEvery, d.ReconcileEvery)
	setD(&c.HeartbeatEvery, d.HeartbeatEvery)
	setD(&c.StaleAfter, d.StaleAfter)
	setD(&c.ClaimLostAfter, d.ClaimLostAfter)
	setD(&c.ShutdownTimeout, d.ShutdownTimeout)
	setD(&c.TaskTimeout, d.TaskTimeout)
	set(&c.MaxUnrecorded, 4*c.Concurrency*c.Parallel)
	if c.FailureStreak == 0 {
		c.FailureStreak = d.FailureStreak
	}
	return c
}

// Mailer sends one email: email.Sender (SMTP) or email.Capture (files).
type Mailer interface {
	Send(ctx context.Context, m email.Message) (messageID string, err error)
}

// Engine is one worker process's sending engine.
type Engine struct {
	cfg      Config
	store    breach.DeliveryStore
	renderer *notice.Renderer
	mail     Mailer
	sms      sms.Provider
	log      *slog.Logger

	redis     redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	limits    *limits

	// workerID names this process's claims in the record.
	workerID string
	// stopping is closed when shutdown begins: tasks stop taking new notices.
	stopping chan struct{}
	// handlers counts the send tasks running (handleSend), for Run to wait for as it stops.
	handlers sync.WaitGroup

	// campaigns caches each campaign's specification and renderer: a campaign is frozen
	// once approved.
	mu        sync.Mutex
	campaigns map[string]*campaignCache
	// planning holds the campaigns this process is planning.
	planning map[string]bool
	// journal records the outcomes; holds are the claims the tasks are working on.
	journal *journal
	holds   holds
	// Now is the clock quiet hours are judged by (nil: time.Now): a test moves it, and sets the
	// store's to the same (postgres.DB.Now), instead of sleeping until morning.
	Now func() time.Time
	// zones finds the time zones of the recipients' phones, for quiet hours.
	zones phone.Zones

	// failures counts the notices failed in a row per campaign and channel (watchFailures).
	failures failureStreaks
	// late are the addresses suppressed since the claims were checked (lateSuppressions).
	late lateSuppressions

	// healthySince is when this worker's heartbeats last began succeeding (unix nanoseconds;
	// 0 while they fail). Until they have succeeded for StaleAfter, the other workers' silence
	// proves nothing (the database may just have come back) and their claims are left alone.
	healthySince atomic.Int64
}

// campaignCache is what the engine keeps of one campaign.
type campaignCache struct {
	c      *breach.Campaign
	render *notice.CampaignRenderer
	// quiet is the campaign's SMS quiet hours (nil: none).
	quiet *breach.Window
	// halted is set when an operator pauses or cancels the campaign: tasks stop sending the
	// notices they have claimed and release them.
	halted atomic.Bool
	// pausing is set while this worker pauses the campaign for its failures (watchFailures):
	// it halts the tasks as halted does, and no read of the campaign still running (a
	// reconciliation pass under way) can lift it before the pause is stored.
	pausing atomic.Bool
	// pausedAt is when this worker last began pausing the campaign (unix nanoseconds; 0:
	// never): reads of its state begun earlier are stale (setHalted).
	pausedAt atomic.Int64
}

// stopped says whether the campaign's tasks must stop sending: it is paused or cancelled, or
// this worker is pausing it.
func (cc *campaignCache) stopped() bool { return cc.halted.Load() || cc.pausing.Load() }

// New returns an engine. rdb is the Redis of the queues and rate limits; store the record.
func New(cfg Config, store breach.DeliveryStore, rdb redis.UniversalClient, renderer *notice.Renderer, mail Mailer,
	text sms.Provider, log *slog.Logger) *Engine {
	cfg = cfg.withDefaults()
	if cfg.EmailParallel <= 0 {
		// Twice the Mailer's connections, spread over the tasks (see EmailParallel).
		cfg.EmailParallel = minEmailParallel
		if m, ok := mail.(interface{ Conns() int }); ok {
			cfg.EmailParallel = max(cfg.EmailParallel, (2*m.Conns()+cfg.Concurrency-1)/cfg.Concurrency)
		}
	}
	e := &Engine{
		cfg: cfg, store: store, renderer: renderer, mail: mail, sms: text, log: log,
		redis:     rdb,
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		limits:    newLimits(rdb, cfg),
		workerID:  uuid.NewString(),
		stopping:  make(chan struct{}),
		campaigns: map[string]*campaignCache{},
		planning:  map[string]bool{},
	}
	e.journal = newJournal(e)
	return e
}

// Run works until ctx ends, then shuts down gracefully: no new notice is started, the ones in
// flight finish (for up to ShutdownTimeout) and are recorded, and the claims not sent are
// released, so that the worker leaves nothing sending.
func (e *Engine) Run(ctx context.Context) error {
	host, _ := os.Hostname()
	if err := e.store.RegisterWorker(ctx, e.workerID, host, os.Getpid(), e.renderer.Digest()); err != nil {
		return err
	}
	e.healthySince.Store(time.Now().UnixNano())
	srv := asynq.NewServerFromRedisClient(e.redis, asynq.Config{
		Concurrency: e.cfg.Concurrency,
		Queues:      map[string]int{queue(breach.ChannelEmail): 1, queue(breach.ChannelSMS): 1},
		// An idle worker looks for work often, so that a started campaign's first notice
		// leaves at once; retries are due to the second.
		TaskCheckInterval:        50 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		ShutdownTimeout:          e.cfg.ShutdownTimeout,
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			return min(time.Duration(1<<min(n, 6))*time.Second, time.Minute)
		},
		Logger:       asynqLogger{e.log},
		LogLevel:     asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(e.taskFailed),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskSend, e.handleSend)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start queue server: %w", err)
	}
	e.log.Info("worker started", "worker", e.workerID, "concurrency", e.cfg.Concurrency, "chunk", e.cfg.ChunkSize)

	var wg sync.WaitGroup
	conductCtx, stopConducting := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { e.conduct(conductCtx) })
	<-ctx.Done()

	e.log.Info("worker stopping", "worker", e.workerID)
	close(e.stopping)
	srv.Shutdown()
	// asynq stops waiting for its handlers after ShutdownTimeout; a handler may still be
	// recording what it sent (a relay that answered late) or releasing what it did not. The
	// caller closes the database and the relays once Run returns: a handler cut off then left
	// its notices sending, to be sent again (a review: "closed pool", 177 left sending).
	handled := make(chan struct{})
	go func() { e.handlers.Wait(); close(handled) }()
	finished := true
	select {
	case <-handled:
	case <-time.After(HandlerGrace):
		finished = false
		e.log.Warn("stopped with send tasks still running: their notices are released, possibly sent, once this worker is taken for gone", "waited", e.cfg.ShutdownTimeout+HandlerGrace)
	}
	stopConducting()
	wg.Wait()
	if !finished {
		// Not unregistered: the others would release its claims at once, while its tasks
		// may still record what they sent. Silent, it is taken for gone after StaleAfter.
		return nil
	}
	bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.store.UnregisterWorker(bg, e.workerID)
}

// campaign returns the cached campaign with its renderer.
func (e *Engine) campaign(ctx context.Context, id string) (*campaignCache, error) {
	e.mu.Lock()
	cc := e.campaigns[id]
	e.mu.Unlock()
	if cc != nil {
		return cc, nil
	}
	c, err := breach.RenderingCampaign(ctx, e.store, id) // as the previews render it
	if err != nil {
		return nil, err
	}
	if err := c.CheckTemplates(e.renderer.Digest()); err != nil {
		// What is sent is what was approved: this worker's templates (TEMPLATES_DIR, its
		// release's) render other notices than those the approvers saw. It sends none — not
		// cached, nothing claimed: a worker with the approved templates sends them.
		e.log.Error("campaign approved with other notice templates than this worker's: not sending it",
			"campaign", id, "approved", c.ApprovedTemplates, "worker", e.renderer.Digest())
		return nil, err
	}
	cc = &campaignCache{c: c, render: e.renderer.ForCampaign(c)}
	if q := c.SMS.QuietHours; q != nil {
		w, err := q.Window()
		if err != nil {
			return nil, breach.Errorf(breach.EINVALID, "campaign %s: sms.quiet_hours: %v", id, err)
		}
		cc.quiet = &w
	}
	cc.halted.Store(c.State != breach.CampaignRunning)
	e.mu.Lock()
	defer e.mu.Unlock()
	// Tasks that start together each read the campaign: the first stored is the one every
	// task must share, or a pause (setHalted) would reach only the tasks holding the map's.
	if first := e.campaigns[id]; first != nil {
		return first, nil
	}
	e.campaigns[id] = cc
	return cc, nil
}

// refresh rereads the state of a campaign this process is sending, after an operator moved it.
func (e *Engine) refresh(ctx context.Context, id string) {
	e.mu.Lock()
	cc := e.campaigns[id]
	e.mu.Unlock()
	if cc == nil {
		return
	}
	read := time.Now()
	c, err := e.store.Campaign(ctx, id)
	if err != nil {
		e.log.Warn("cannot reread a moved campaign", "campaign", id, "error", err)
		return
	}
	e.setHalted(id, c.State, read)
}

// setHalted records a campaign's state, as a read begun at read found it, for the tasks
// sending it. A read begun before this worker began pausing the campaign (watchFailures) that
// found it running is older than the pause: ignored.
func (e *Engine) setHalted(id string, state breach.CampaignState, read time.Time) {
	e.mu.Lock()
	cc := e.campaigns[id]
	e.mu.Unlock()
	if cc == nil {
		return
	}
	if state == breach.CampaignRunning && read.UnixNano() < cc.pausedAt.Load() {
		return
	}
	cc.halted.Store(state != breach.CampaignRunning)
}

// forget drops a finished campaign from the cache.
func (e *Engine) forget(id string) {
	e.mu.Lock()
	delete(e.campaigns, id)
	e.mu.Unlock()
}

// stopped reports whether shutdown has begun.
func (e *Engine) stopped() bool {
	select {
	case <-e.stopping:
		return true
	default:
		return false
	}
}

// taskFailed logs a send task that returned an error, to be retried (or dropped, when it says
// so, asynq.SkipRetry): asynq keeps the error to itself, and a campaign whose claims fail — the database
// refusing a statement — would otherwise sit queued with nothing in the worker's log. The
// stopping worker's own refusals are not news. Errors name campaigns, ranges and statements,
// never a customer's data.
func (e *Engine) taskFailed(ctx context.Context, task *asynq.Task, err error) {
	if e.stopped() {
		return
	}
	var t sendTask
	_ = json.Unmarshal(task.Payload(), &t)
	retried, _ := asynq.GetRetryCount(ctx)
	msg := "send task failed; it is tried again"
	if errors.Is(err, asynq.SkipRetry) {
		msg = "send task refused; it is dropped"
	}
	e.log.Warn(msg, "campaign", t.Campaign, "channel", t.Channel, "low", t.Low, "high", t.High, "retried", retried, "error", err)
}

// asynqLogger sends asynq's own messages to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
