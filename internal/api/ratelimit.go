package api

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// clientLimiter limits what each client may do per minute: a token bucket per client source
// (clientip.Source), in Redis when one is configured — so that every serve replica counts
// against the same bucket — and in this process otherwise, or while Redis does not answer
// (a limit per replica beats none, and a check of a code is no reason to fail).
type clientLimiter struct {
	prefix string
	limit  redis_rate.Limit
	redis  *redis_rate.Limiter // nil: in process only
	local  *localLimiter
	log    *slog.Logger
}

// newClientLimiter allows perMinute requests a minute per client, in bursts of as many, under
// the Redis keys prefix+source.
func newClientLimiter(rdb redis.UniversalClient, prefix string, perMinute int, log *slog.Logger) *clientLimiter {
	l := &clientLimiter{prefix: prefix, limit: redis_rate.PerMinute(perMinute), log: log,
		local: &localLimiter{every: time.Minute / time.Duration(perMinute), burst: perMinute, tat: map[string]time.Time{}}}
	if rdb != nil {
		l.redis = redis_rate.NewLimiter(rdb)
	}
	return l
}

// allow takes a token for source; when there is none it returns false and how long until
// there is.
func (l *clientLimiter) allow(ctx context.Context, source string) (bool, time.Duration) {
	if l.redis != nil {
		res, err := l.redis.Allow(ctx, l.prefix+source, l.limit)
		if err == nil {
			return res.Allowed > 0, res.RetryAfter
		}
		// The client's address is personal data: not logged.
		l.log.Warn("rate limit: Redis did not answer, counting in this process", "limit", l.prefix, "err", err)
	}
	return l.local.allow(source, time.Now())
}

// maxLocalSources bounds the in-process buckets: beyond it, the clients not yet counted share
// one bucket (a flood from many addresses is limited as one client) until old ones expire.
const maxLocalSources = 100_000

// localLimiter is the in-process token bucket per source (GCRA: one theoretical arrival time
// per source, every apart, burst at once).
type localLimiter struct {
	every time.Duration
	burst int

	mu    sync.Mutex
	tat   map[string]time.Time
	swept time.Time
}

func (l *localLimiter) allow(source string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute || len(l.tat) >= maxLocalSources {
		for k, t := range l.tat {
			if t.Before(now) {
				delete(l.tat, k)
			}
		}
		l.swept = now
	}
	if _, ok := l.tat[source]; !ok && len(l.tat) >= maxLocalSources {
		source = "overflow"
	}
	tat := l.tat[source]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.every)
	if wait := next.Sub(now) - l.every*time.Duration(l.burst); wait > 0 {
		return false, wait
	}
	l.tat[source] = next
	return true, 0
}

// wait is how long source must wait for its next token, without taking one (0: it has one).
func (l *localLimiter) wait(source string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tat[source]
	if !ok {
		return 0
	}
	return max(tat.Add(l.every).Sub(now)-l.every*time.Duration(l.burst), 0)
}
