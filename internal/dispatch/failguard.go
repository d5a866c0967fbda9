package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// DefaultFailureStreak is how many notices of one campaign and channel in a row may fail for
// good, with none sent between them, before the engine pauses the campaign (Config.
// FailureStreak; PAUSE_AFTER_FAILURES). Customers' own bad addresses are scattered through a list and each sent
// notice resets the count; a run this long with nothing sent is the relay or provider (a
// suspended account, a policy that refuses every message, a template that no longer
// renders) failing every customer for good — a campaign lost in minutes. Paused, it waits for
// an operator to fix the cause and resume.
const DefaultFailureStreak = 25

// failureStreaks counts, per campaign and channel, the notices this worker saw refused
// (Outcome.Refused) since the last one it sent. Failures put down to the customer's own
// address say nothing of the relay (a list sorted by domain may hold a run of dead mailboxes,
// a business list a run of landlines), nor do retries running out (full mailboxes give up
// together at a campaign's end): neither counts.
type failureStreaks struct {
	mu sync.Mutex
	n  map[lineKey]int
}

// add counts an outcome and reports the streak when it reached limit (the count starts again
// from zero then).
func (f *failureStreaks) add(k lineKey, o breach.Outcome, limit int) (tripped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = make(map[lineKey]int)
	}
	switch o.State {
	case breach.DeliverySent:
		f.n[k] = 0
	case breach.DeliveryFailed:
		if !o.Refused {
			break
		}
		if f.n[k]++; f.n[k] >= limit {
			tripped, f.n[k] = f.n[k], 0
		}
	}
	return tripped
}

// watchFailures counts outcome o of campaign k.campaign's channel k.ch as its send returns —
// not once recorded: the record lags the sends by up to MaxUnrecorded notices, every one of
// which would fail too — and pauses the campaign when it completes a streak of
// Config.FailureStreak failures (see DefaultFailureStreak).
func (e *Engine) watchFailures(k lineKey, o breach.Outcome) {
	if e.cfg.FailureStreak <= 0 {
		return
	}
	n := e.failures.add(k, o, e.cfg.FailureStreak)
	if n == 0 {
		return
	}
	e.log.Error("pausing the campaign: its notices keep failing", "campaign", k.campaign, "channel", k.ch, "failed_in_a_row", n)
	// This worker stops sending at once; the others when the pause reaches them.
	e.mu.Lock()
	cc := e.campaigns[k.campaign]
	e.mu.Unlock()
	if cc == nil || !cc.pausing.CompareAndSwap(false, true) {
		return // forgotten, or being paused already
	}
	cc.pausedAt.Store(time.Now().UnixNano())
	reason := fmt.Sprintf("%d %s notices in a row failed for good with none sent: check the relay or provider (its answers are in the recent failures), then resume", n, k.ch)
	go func() {
		defer cc.pausing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := e.store.PauseFailing(ctx, k.campaign, reason); err != nil {
			// Not paused: it goes on, and the next streak tries again.
			e.log.Error("the failing campaign could not be paused", "campaign", k.campaign, "error", err)
			return
		}
		e.refresh(ctx, k.campaign) // paused now (or moved meanwhile): halted as the record says
	}()
}
