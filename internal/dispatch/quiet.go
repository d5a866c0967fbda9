package dispatch

import (
	"context"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// now is the engine's clock (Engine.Now, or time.Now).
func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// quietUntil says until when the campaign's quiet hours hold an SMS to r due now: a time after
// now, or now itself when it may go.
func (e *Engine) quietUntil(cc *campaignCache, r *breach.Recipient, now time.Time) time.Time {
	if cc.quiet == nil {
		return now
	}
	return cc.quiet.Until(now, e.zones.For(r.Phone, r.Country))
}

// holdQuiet holds the due SMS of task t's range whose recipients are in their quiet hours,
// before the task claims: they stay queued, with the end of the window as their not_before, so
// that neither this claim nor any other, nor the reconciler, takes them before then — however
// often the task runs, whatever happens to Redis or to this worker. No claim and release: a
// held SMS writes no event and moves no count. A task is queued for each distinct end, to send
// them then (the reconciler would, a few seconds later, if the queue lost it).
//
// The check is repeated just before each send (see send): a claim that waited for the rate
// limiter into the window is released unsent, and held by the next claim.
func (e *Engine) holdQuiet(ctx context.Context, cc *campaignCache, t sendTask) error {
	due, err := e.store.QueuedRecipients(ctx, t.Campaign, t.Channel, t.Low, t.High)
	if err != nil {
		return err
	}
	now := e.now()
	var (
		held []breach.Deferral
		ends = map[time.Time]bool{}
	)
	for i := range due {
		if until := e.quietUntil(cc, &due[i], now); until.After(now) {
			held = append(held, breach.Deferral{RecipientID: due[i].ID, Until: until})
			ends[until] = true
		}
	}
	if len(held) == 0 {
		return nil
	}
	if err := e.store.Defer(ctx, t.Campaign, t.Channel, held); err != nil {
		return err
	}
	for end := range ends {
		// asynq schedules by the wall clock; the wait is measured on the engine's.
		if err := e.enqueue(ctx, t, false, time.Now().Add(end.Sub(now))); err != nil {
			e.log.Warn("quiet hours: wake-up task not queued; the reconciler will send them", "campaign", t.Campaign, "error", err)
			break
		}
	}
	e.log.Info("SMS held for the recipients' quiet hours", "campaign", t.Campaign, "count", len(held), "ends", len(ends))
	return nil
}
