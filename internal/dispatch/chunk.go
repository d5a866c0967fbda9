package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/metrics"
)

// handleSend runs one sendTask: claim the range's due deliveries, send them Parallel
// (EmailParallel) at a time, record each outcome at once through the journal, and queue what
// must be tried again or on the other channel.
//
// Once claimed, a notice is sent and recorded even if the worker starts stopping meanwhile:
// the waits before a send use a context that outlives the task's, bounded by TaskTimeout, the
// send its provider's own timeouts, and the journal's writes their own. Claims not yet started
// when shutdown begins are released. The task holds its claims (see holds) from before it
// claims them until they are recorded or released, however long that takes.
func (e *Engine) handleSend(ctx context.Context, task *asynq.Task) error {
	e.handlers.Add(1)
	defer e.handlers.Done()
	var t sendTask
	if err := json.Unmarshal(task.Payload(), &t); err != nil {
		return fmt.Errorf("%w: malformed send task: %v", asynq.SkipRetry, err)
	}
	if !t.Channel.Sent() {
		// Letters are printed and mailed by people (operation Letters), never sent here: a task
		// naming one is a bug or a forgery, and must not reach a sender.
		return fmt.Errorf("%w: send task for channel %q, which the engine does not send", asynq.SkipRetry, t.Channel)
	}
	if e.stopped() {
		return fmt.Errorf("worker stopping")
	}
	cc, err := e.campaign(ctx, t.Campaign)
	if breach.ErrorCode(err) == breach.ENOTFOUND {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	if err != nil {
		return err
	}
	hold := e.holds.take(t.Campaign)
	keep := false
	defer func() {
		if !keep {
			e.holds.drop(t.Campaign, hold)
		}
	}()
	// Held SMS are set aside before the claim (see holdQuiet).
	if t.Channel == breach.ChannelSMS && cc.quiet != nil {
		if err := e.holdQuiet(ctx, cc, t); err != nil {
			return err
		}
	}
	fallback := cc.c.Channels.FallsBack()
	parallel := e.cfg.Parallel
	if t.Channel == breach.ChannelEmail {
		parallel = e.cfg.EmailParallel
	}
	// Claims are announced as started a window at a time, the first with the claim itself
	// (see the hand-off below).
	window := max(4*parallel, minAnnounceWindow)
	// The claim is not cut short by the task's context: asynq cancels it when a stopping
	// worker stops waiting for its tasks, and a claim statement cut after its commit left its
	// claims sending, held by no task, until the worker was taken for gone (a test of a worker
	// stopping under the race detector). Claimed, the task releases what it does not send.
	claimCtx, claimed := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	claims, fallbacks, suppressed, err := e.store.ClaimRange(claimCtx, t.Campaign, t.Channel, t.Low, t.High, e.workerID, fallback, window)
	claimed()
	if err != nil {
		return err
	}
	e.cfg.Metrics.Notices(string(t.Channel), metrics.StateSuppressed, suppressed)
	if len(fallbacks) > 0 {
		if err := e.enqueueIDs(ctx, t.Campaign, t.Channel.Other(), fallbacks, time.Time{}); err != nil {
			e.log.Warn("fallbacks not queued; the reconciler will", "campaign", t.Campaign, "error", err)
		}
	}
	if len(claims) == 0 {
		return nil
	}

	// From here the claims are ours: finish them whatever happens to the task's context.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TaskTimeout)
	defer cancel()
	var (
		written  taskLog // this task's outcomes in the journal
		mu       sync.Mutex
		unsent   []int64
		retryAt  time.Time // the earliest next attempt among the outcomes put back in the queue
		sendWait sync.WaitGroup
	)
	// halt is checked before each notice is handed out and again after its rate-limit wait, so
	// that a pause or a cancellation stops what this task holds within moments.
	halt := func() bool { return e.stopped() || cc.stopped() }
	// stop ends once halt says so, for the notices waiting for a connection (send).
	stop, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop.Done():
				return
			case <-tick.C:
				if halt() {
					stopSending()
					return
				}
			}
		}
	}()
	next := make(chan breach.Claim)
	for range min(parallel, len(claims)) {
		sendWait.Go(func() {
			for cl := range next {
				o, sent, slot := e.send(work, stop, cc, t.Channel, cl, halt)
				if !sent {
					mu.Lock()
					unsent = append(unsent, cl.Recipient.ID)
					mu.Unlock()
					continue
				}
				if o.State == breach.DeliveryQueued {
					mu.Lock()
					if retryAt.IsZero() || o.NextAttempt.Before(retryAt) {
						retryAt = o.NextAttempt
					}
					mu.Unlock()
				}
				e.journal.add(t, fallback, o, &written, slot)
			}
		})
	}
	// Before a claim is handed on, its statement says the worker may have started it, a
	// window of claims at a time (see AnnounceStarts): should the worker die, only those are
	// released possibly sent. A claim beyond what could be announced is not sent: when the
	// statement is gone, a reconciler took the claims for lost; when the database does not
	// answer, they go back with the rest (release).
	announced := claims[min(window, len(claims))-1].Recipient.ID // with the claim
	for i, cl := range claims {
		stop := halt()
		if !stop && cl.Recipient.ID > announced {
			through := claims[min(i+window, len(claims))-1].Recipient.ID
			if err := e.store.AnnounceStarts(work, t.Campaign, t.Channel, e.workerID, cl.ClaimedAt, through); err != nil {
				e.log.Warn("claims not announced: the rest of the task is not sent", "campaign", t.Campaign, "channel", t.Channel,
					"count", len(claims)-i, "error", err)
				stop = true
			} else {
				announced = through
			}
		}
		if stop {
			mu.Lock()
			for _, rest := range claims[i:] {
				unsent = append(unsent, rest.Recipient.ID)
			}
			mu.Unlock()
			break
		}
		next <- cl
	}
	close(next)
	sendWait.Wait()
	if err := written.wait(); err != nil {
		// Sent and not recorded: this process holds them until it exits, and the reconciler
		// releases them, possibly sent, once it is gone.
		keep = true
		return err
	}
	if !retryAt.IsZero() {
		if err := e.enqueue(work, t, false, retryAt); err != nil {
			e.log.Warn("retry not queued; the reconciler will", "campaign", t.Campaign, "error", err)
		}
	}
	if len(unsent) > 0 {
		e.release(t, unsent)
		return nil
	}
	// The last task of a campaign completes it now rather than at the next reconciliation.
	if done, err := e.store.CompleteIfDone(work, t.Campaign); err == nil && done {
		e.log.Info("campaign completed", "campaign", t.Campaign)
		e.forget(t.Campaign)
	}
	return nil
}

// claimTimeout bounds a claim statement.
const claimTimeout = 30 * time.Second

// minAnnounceWindow is the fewest claims a task announces as started at once (AnnounceStarts):
// the first window with the claim itself, then a statement (and a commit) every 64 notices or
// more; and at most a window of never-started claims per task marked possibly sent when its
// worker dies (all 256 of a task's claims, before). With 32, the announcements were 15 % of
// PostgreSQL's statement samples while sending at full rate.
const minAnnounceWindow = 64

// release returns unsent claims to the queue, retrying as the journal does: a claim this live
// worker forgets is only released by its reconciler, ClaimLostAfter later (see holds).
func (e *Engine) release(t sendTask, ids []int64) {
	var deadline time.Time
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := e.store.Release(ctx, t.Campaign, t.Channel, e.workerID, ids)
		cancel()
		if err == nil {
			return
		}
		if e.stopped() && deadline.IsZero() {
			deadline = time.Now().Add(e.cfg.ShutdownTimeout)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			e.log.Error("claims not released; the reconciler will once this worker is gone", "campaign", t.Campaign,
				"count", len(ids), "error", err)
			return
		}
		time.Sleep(backoff(100*time.Millisecond, 10*time.Second, attempt))
	}
}
