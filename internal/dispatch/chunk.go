package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// handleSend runs one sendTask: claim the range's due deliveries, send them Parallel at a time,
// record the outcomes in batches, and queue what must be tried again or on the other channel.
//
// Once claimed, a notice is sent and recorded even if the worker starts stopping meanwhile:
// sends and writes use a context that outlives the task's, bounded by ShutdownTimeout. Claims
// not yet started when shutdown begins are released.
func (e *Engine) handleSend(ctx context.Context, task *asynq.Task) error {
	var t sendTask
	if err := json.Unmarshal(task.Payload(), &t); err != nil {
		return fmt.Errorf("%w: malformed send task: %v", asynq.SkipRetry, err)
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
	fallback := cc.c.Channels.FallsBack()
	claims, fallbacks, err := e.store.ClaimRange(ctx, t.Campaign, t.Channel, t.Low, t.High, e.workerID, fallback)
	if err != nil {
		return err
	}
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
	rec := newRecorder(e, cc, t)
	var (
		unsentMu sync.Mutex
		unsent   []int64
	)
	// halt is checked before each notice is handed out and again after its rate-limit wait, so
	// that a pause or a cancellation stops what this task holds within moments.
	halt := func() bool { return e.stopped() || cc.halted.Load() }
	next := make(chan breach.Claim)
	var wg sync.WaitGroup
	for range min(e.cfg.Parallel, len(claims)) {
		wg.Go(func() {
			for cl := range next {
				o, sent := e.send(work, cc, t.Channel, cl, halt)
				if !sent {
					unsentMu.Lock()
					unsent = append(unsent, cl.Recipient.ID)
					unsentMu.Unlock()
					continue
				}
				rec.add(o)
			}
		})
	}
	for i, cl := range claims {
		if halt() {
			unsentMu.Lock()
			for _, rest := range claims[i:] {
				unsent = append(unsent, rest.Recipient.ID)
			}
			unsentMu.Unlock()
			break
		}
		next <- cl
	}
	close(next)
	wg.Wait()
	if err := rec.close(work); err != nil {
		return err
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

// release returns unsent claims to the queue, retrying as the recorder does: a claim this live
// worker forgets is only released after TaskTimeout.
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

// recorder batches a task's outcomes into few writes: every FlushSize outcomes or FlushEvery,
// whichever comes first, so that a notice's record never waits long after its send. Writes
// happen outside the lock: the senders go on while a batch is written.
type recorder struct {
	e  *Engine
	cc *campaignCache
	t  sendTask

	mu    sync.Mutex
	buf   []breach.Outcome
	timer *time.Timer
	// retryAt is the earliest next attempt among the outcomes put back in the queue.
	retryAt time.Time
	err     error
	writes  sync.WaitGroup
}

func newRecorder(e *Engine, cc *campaignCache, t sendTask) *recorder {
	return &recorder{e: e, cc: cc, t: t}
}

// add takes one outcome, writing the batch when it is full.
func (r *recorder) add(o breach.Outcome) {
	r.mu.Lock()
	if o.State == breach.DeliveryQueued && (r.retryAt.IsZero() || o.NextAttempt.Before(r.retryAt)) {
		r.retryAt = o.NextAttempt
	}
	r.buf = append(r.buf, o)
	if len(r.buf) < r.e.cfg.FlushSize {
		if r.timer == nil {
			r.timer = time.AfterFunc(r.e.cfg.FlushEvery, r.flush)
		}
		r.mu.Unlock()
		return
	}
	batch := r.takeLocked()
	r.mu.Unlock()
	r.write(batch)
}

// flush writes whatever is buffered (the timer's path).
func (r *recorder) flush() {
	r.mu.Lock()
	batch := r.takeLocked()
	r.mu.Unlock()
	r.write(batch)
}

// takeLocked empties the buffer and registers the write to come. r.mu is held.
func (r *recorder) takeLocked() []breach.Outcome {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	batch := r.buf
	r.buf = nil
	if len(batch) > 0 {
		r.writes.Add(1)
	}
	return batch
}

// write records one batch and queues the fallbacks it caused.
//
// These notices have been sent: their record must not be lost to a database hiccup, so the write
// is retried with backoff for as long as the worker runs (the task, and with it this worker's
// appetite for new claims, waits meanwhile) and for ShutdownTimeout once it is stopping. Only
// then is it given up: the notices stay sending under this worker's claim, the reconciler
// releases them once the worker is gone, and they are sent again — a duplicate, never a loss.
func (r *recorder) write(batch []breach.Outcome) {
	if len(batch) == 0 {
		return
	}
	defer r.writes.Done()
	var (
		fallbacks []int64
		err       error
		deadline  time.Time
	)
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		fallbacks, err = r.e.store.Record(ctx, r.t.Campaign, r.t.Channel, r.e.workerID, batch, r.cc.c.Channels.FallsBack())
		cancel()
		if err == nil {
			break
		}
		if r.e.stopped() && deadline.IsZero() {
			deadline = time.Now().Add(r.e.cfg.ShutdownTimeout)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			r.e.log.Error("outcomes not recorded; they will be sent again", "campaign", r.t.Campaign,
				"channel", r.t.Channel, "count", len(batch), "error", err)
			r.mu.Lock()
			r.err = fmt.Errorf("record %d outcomes: %w", len(batch), err)
			r.mu.Unlock()
			return
		}
		r.e.log.Warn("outcomes not recorded yet; retrying", "campaign", r.t.Campaign, "count", len(batch),
			"attempt", attempt, "error", err)
		time.Sleep(backoff(100*time.Millisecond, 10*time.Second, attempt))
	}
	if len(fallbacks) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.e.enqueueIDs(ctx, r.t.Campaign, r.t.Channel.Other(), fallbacks, time.Time{}); err != nil {
			r.e.log.Warn("fallbacks not queued; the reconciler will", "campaign", r.t.Campaign, "error", err)
		}
	}
}

// close writes what is left, waits for every write, and queues the task again for its
// retries.
func (r *recorder) close(ctx context.Context) error {
	r.flush()
	r.writes.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.retryAt.IsZero() && r.err == nil {
		if err := r.e.enqueue(ctx, r.t, false, r.retryAt); err != nil {
			r.e.log.Warn("retry not queued; the reconciler will", "campaign", r.t.Campaign, "error", err)
		}
	}
	return r.err
}
