package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// lateSuppressions are the addresses put on the suppression list lately, by
// breach.SuppressedKey. A claim checks the suppression list once for its whole chunk; its
// notices then wait for the rate limits for seconds or minutes, and an opt-out, a complaint or
// a carrier STOP recorded meanwhile must still stop them (review of the public endpoints,
// finding 3). The database announces each suppression (migration 00029); the engine keeps the
// keys for as long as a claim may wait (lateSuppressionAge) and checks each notice's address
// against them just before its send. An address is hashed only while the set holds any key.
type lateSuppressions struct {
	mu sync.RWMutex
	// keys holds each key's hash (half the memory of its hex text: a flood of bounces is
	// hundreds of thousands of keys) and when it was heard of.
	keys map[[sha256.Size]byte]time.Time
	n    atomic.Int64
}

// add remembers key (hex, as the database announces it), heard of at; a key that is not one
// is ignored.
func (l *lateSuppressions) add(key string, at time.Time) {
	var sum [sha256.Size]byte
	if len(key) != hex.EncodedLen(len(sum)) {
		return
	}
	if _, err := hex.Decode(sum[:], []byte(key)); err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[[sha256.Size]byte]time.Time)
	}
	l.keys[sum] = at
	l.n.Store(int64(len(l.keys)))
}

// has reports whether address was suppressed on channel ch lately.
func (l *lateSuppressions) has(ch breach.Channel, address string) bool {
	if l.n.Load() == 0 || address == "" {
		return false
	}
	sum := breach.SuppressedSum(ch, address)
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.keys[sum]
	return ok
}

// forget drops the keys heard of before cutoff.
func (l *lateSuppressions) forget(cutoff time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, at := range l.keys {
		if at.Before(cutoff) {
			delete(l.keys, k)
		}
	}
	l.n.Store(int64(len(l.keys)))
}

// lateSuppressionAge is how long a suppression is remembered: as long as a task may hold its
// claims (TaskTimeout), and the time for the reconciler to take back those it lost.
func (e *Engine) lateSuppressionAge() time.Duration { return e.cfg.TaskTimeout + e.cfg.ClaimLostAfter }

// loadRecentSuppressions remembers the suppressions of the last lateSuppressionAge: called
// each time the engine starts listening, it covers what was announced while it was not.
func (e *Engine) loadRecentSuppressions(ctx context.Context) {
	keys, err := e.store.RecentSuppressions(ctx, e.lateSuppressionAge())
	if err != nil {
		e.log.Warn("recent suppressions not read; the claims' own check still applies", "error", err)
		return
	}
	now := time.Now()
	for _, k := range keys {
		e.late.add(k, now)
	}
}
