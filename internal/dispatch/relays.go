package dispatch

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
)

// relayMailer is a Mailer over several SMTP relays (email.Pool) that says which relays each
// message went through, for the campaign's per-relay counts.
type relayMailer interface {
	Deliver(ctx context.Context, m email.Message) (email.Receipt, error)
}

// sendEmail sends m, and with several relays says which ones it went through.
func (e *Engine) sendEmail(ctx context.Context, m email.Message) (string, []breach.RelayTry, error) {
	rm, ok := e.mail.(relayMailer)
	if !ok {
		id, err := e.mail.Send(ctx, m)
		return id, nil, err
	}
	rc, err := rm.Deliver(ctx, m)
	tries := make([]breach.RelayTry, len(rc.Tries))
	for i, t := range rc.Tries {
		tries[i] = breach.RelayTry{Relay: t.Relay, Result: string(t.Result), SetAsideUntil: t.SetAsideUntil}
	}
	return rc.MessageID, tries, err
}

// countRelays adds the relay tries of a recorded batch to the campaign's per-relay counts: one
// statement per batch, never one per notice. The counts are what the status shows of each
// relay, not the record of any notice, so a failure to write them is logged and not retried:
// the batch's notices are recorded, and holding their tasks for a counter is not worth it.
func (j *journal) countRelays(campaignID string, outcomes []breach.Outcome) {
	byRelay := map[string]*breach.RelayCount{}
	for _, o := range outcomes {
		for _, t := range o.Relays {
			c := byRelay[t.Relay]
			if c == nil {
				c = &breach.RelayCount{Relay: t.Relay}
				byRelay[t.Relay] = c
			}
			switch t.Result {
			case string(email.TrySent):
				c.Sent++
			case string(email.TryFailed):
				c.Failed++
			case string(email.TryRejected):
				c.Rejected++
			}
			if !t.SetAsideUntil.IsZero() && (c.SetAsideUntil == nil || t.SetAsideUntil.After(*c.SetAsideUntil)) {
				until := t.SetAsideUntil
				c.SetAsideUntil = &until
			}
		}
	}
	if len(byRelay) == 0 {
		return
	}
	counts := make([]breach.RelayCount, 0, len(byRelay))
	for _, c := range byRelay {
		counts = append(counts, *c)
	}
	slices.SortFunc(counts, func(a, b breach.RelayCount) int { return strings.Compare(a.Relay, b.Relay) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.e.store.CountRelays(ctx, campaignID, counts); err != nil {
		j.e.log.Warn("relay counts not recorded", "campaign", campaignID, "error", err)
	}
}

// RelayLimits enforces the SMTP relays' own rates (SMTP_URLS' rate=) across every worker: one
// shared bucket in Redis per relay, like EMAIL_RATE's (see limits). It is the email.Pool's
// RelayLimiter.
type RelayLimits struct {
	rl *redis_rate.Limiter

	mu      sync.Mutex
	buckets map[string]*bucket
}

// NewRelayLimits returns the relay rate limits kept in rdb.
func NewRelayLimits(rdb redis.UniversalClient) *RelayLimits {
	return &RelayLimits{rl: redis_rate.NewLimiter(rdb), buckets: map[string]*bucket{}}
}

// Wait blocks until relay may take one more message at perSecond messages per second.
func (l *RelayLimits) Wait(ctx context.Context, relay string, perSecond int) error {
	l.mu.Lock()
	b := l.buckets[relay]
	if b == nil {
		b = newBucket(l.rl, "breachnotice:rate:relay:"+relay, perSecond)
		l.buckets[relay] = b
	}
	l.mu.Unlock()
	return b.take(ctx)
}
