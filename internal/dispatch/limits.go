package dispatch

import (
	"context"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/metrics"
)

// limits are the send rates shared by every worker: token buckets in Redis (GCRA, redis_rate),
// one per channel and one per limited recipient domain. asynq's own rate limiting is per
// process, which is why it is not used.
type limits struct {
	email, sms *bucket
	domains    map[string]*bucket
	// metrics observes each limited notice's wait (rate_limit_wait_seconds).
	metrics *metrics.Metrics
}

func newLimits(rdb redis.UniversalClient, cfg Config) *limits {
	l := &limits{domains: map[string]*bucket{}, metrics: cfg.Metrics}
	rl := redis_rate.NewLimiter(rdb)
	l.email = newBucket(rl, "breachnotice:rate:email", cfg.EmailRate)
	l.sms = newBucket(rl, "breachnotice:rate:sms", cfg.SMSRate)
	for domain, rate := range cfg.DomainRates {
		l.domains[strings.ToLower(domain)] = newBucket(rl, "breachnotice:rate:email:"+strings.ToLower(domain), rate)
	}
	return l
}

// wait blocks until one message to address may go out on ch. The wait is observed when a
// limit applies to ch; an unlimited channel has nothing to report.
func (l *limits) wait(ctx context.Context, ch breach.Channel, address string) error {
	if l.metrics != nil && (ch == breach.ChannelSMS && l.sms != nil || ch == breach.ChannelEmail && (l.email != nil || len(l.domains) > 0)) {
		start := time.Now()
		err := l.take(ctx, ch, address)
		if err == nil {
			l.metrics.RateLimitWait(string(ch), time.Since(start))
		}
		return err
	}
	return l.take(ctx, ch, address)
}

// take waits for ch's tokens (and address's domain's).
func (l *limits) take(ctx context.Context, ch breach.Channel, address string) error {
	if ch == breach.ChannelSMS {
		return l.sms.take(ctx)
	}
	if len(l.domains) > 0 {
		if at := strings.LastIndexByte(address, '@'); at >= 0 {
			if b := l.domains[address[at+1:]]; b != nil {
				if err := b.take(ctx); err != nil {
					return err
				}
			}
		}
	}
	return l.email.take(ctx)
}

// bucket is one shared limit. Asking Redis for every message would cost a round trip each, so
// a bucket takes tokens a few at a time (a twentieth of a second's worth, or twice what the
// last round trip to Redis took at the rate, a second's worth at most) and hands them out
// locally; the shared rate still holds, within one such batch per worker. A fixed twentieth
// capped each worker at a twentieth of the rate per round trip: with Redis 2 s away, 200 a
// second became 2.4 (a review).
//
// One send at a time asks Redis or waits for the next batch; the others wait their turn, but
// only as long as their own context allows: held with a mutex, a Redis that stalled kept every
// send of the channel (or relay) waiting past its deadline for the one asking (1.8 s for a
// 100 ms deadline with Redis paused for 2 s).
type bucket struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	batch int

	turn   chan struct{} // holds a value while a send has the bucket; guards tokens and rtt
	tokens int
	rtt    time.Duration // the last round trip to Redis
}

// size is how many tokens to ask Redis for: the batch, or enough for twice the last round
// trip at the rate, up to a second's worth (the bucket's burst).
func (b *bucket) size() int {
	n := int(2 * b.rtt * time.Duration(b.limit.Rate) / time.Second)
	return min(max(b.batch, n), max(1, b.limit.Burst))
}

// newBucket returns the bucket for rate messages per second, or nil (no limit) when rate is 0.
func newBucket(rl *redis_rate.Limiter, key string, rate int) *bucket {
	if rate <= 0 {
		return nil
	}
	return &bucket{rl: rl, key: key, limit: redis_rate.PerSecond(rate), batch: max(1, rate/20), turn: make(chan struct{}, 1)}
}

// take waits for one token.
func (b *bucket) take(ctx context.Context) error {
	if b == nil {
		return nil
	}
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.turn }()
	for b.tokens == 0 {
		start := time.Now()
		res, err := b.rl.AllowAtMost(ctx, b.key, b.limit, b.size())
		if err != nil {
			return err
		}
		b.rtt = time.Since(start)
		if res.Allowed > 0 {
			b.tokens = res.Allowed
			break
		}
		wait := res.RetryAfter
		if wait <= 0 {
			wait = time.Second / time.Duration(max(1, b.limit.Rate))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	b.tokens--
	return nil
}
