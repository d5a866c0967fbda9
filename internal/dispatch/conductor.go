package dispatch

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Planning steps: the first is small so that the first notices leave within moments of the
// start; the next are large enough that a million deliveries are created in well under a
// minute, and no larger: a step's deliveries are in the indexes, uncommitted, until it
// commits, and every reader walking the campaign meanwhile (the status API's listings, each
// up to 2,000 rows) steps over each of them. With 50,000 a step, a listing's walk cost 30-40 ms
// more while a step was open (the loaded 2-core machine), twice per filtered page.
const (
	firstPlanStep = 1024
	planStep      = 10_000
)

// dueGrace is how long a due delivery may wait before the reconciler asks whether a task
// still covers it: longer than a task takes to be picked up from a quiet queue.
const dueGrace = 5 * time.Second

// conduct is the conductor: it keeps this worker's heartbeat, plans started campaigns, and
// reconciles the queue with the record — at start, every ReconcileEvery, and at once when an
// operator moves a campaign (PostgreSQL NOTIFY). Every worker runs one; they coordinate
// through the database (the planner's row lock, stable task IDs), not with each other.
func (e *Engine) conduct(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wake := make(chan string, 64)
	wg.Go(func() { e.listen(ctx, wake) })
	wg.Go(func() { e.heartbeat(ctx) })

	tick := time.NewTicker(e.cfg.ReconcileEvery)
	defer tick.Stop()
	e.reconcileAll(ctx, &wg)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			e.reconcileAll(ctx, &wg)
		case <-wake:
			// Drain what else arrived: one pass covers them all.
			for len(wake) > 0 {
				<-wake
			}
			e.reconcileAll(ctx, &wg)
		}
	}
}

// listen forwards operators' campaign moves to wake, reconnecting after a failure.
func (e *Engine) listen(ctx context.Context, wake chan<- string) {
	for ctx.Err() == nil {
		err := e.store.ListenCampaigns(ctx, func(id string) {
			// A pause must reach the tasks at once, not after a reconciliation pass.
			e.refresh(ctx, id)
			select {
			case wake <- id:
			default:
			}
		}, func(key string) {
			e.late.add(key, time.Now())
		}, func() {
			e.loadRecentSuppressions(ctx)
		})
		if err != nil && ctx.Err() == nil {
			e.log.Warn("campaign notifications lost; polling until they are back", "error", err)
			sleep(ctx, e.cfg.ReconcileEvery)
		}
	}
}

// heartbeat tells the other workers this one is alive.
func (e *Engine) heartbeat(ctx context.Context) {
	tick := time.NewTicker(e.cfg.HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			err := e.store.Heartbeat(ctx, e.workerID)
			if breach.ErrorCode(err) == breach.ENOTFOUND {
				// Taken for dead by another worker: be alive again before claiming more.
				e.log.Warn("this worker was taken for dead; registering again")
				host, _ := os.Hostname()
				err = e.store.RegisterWorker(ctx, e.workerID, host, os.Getpid(), e.renderer.Digest())
			}
			switch {
			case err != nil && ctx.Err() == nil:
				e.log.Warn("heartbeat failed", "error", err)
				e.healthySince.Store(0)
			case err == nil:
				e.healthySince.CompareAndSwap(0, time.Now().UnixNano())
			}
		}
	}
}

// reconcileAll reconciles every running campaign. Planning runs in its own goroutine per
// campaign, so a large plan does not hold up the others.
func (e *Engine) reconcileAll(ctx context.Context, wg *sync.WaitGroup) {
	read := time.Now()
	campaigns, err := e.store.ActiveCampaigns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("reconcile: cannot list campaigns", "error", err)
		}
		return
	}
	e.dropArchived(ctx)
	e.buryDeadNeighbours(ctx)
	e.late.forget(time.Now().Add(-e.lateSuppressionAge()))
	for _, c := range campaigns {
		// Also what a lost notification did not say.
		e.setHalted(c.ID, c.State, read)
		switch c.State {
		case breach.CampaignRunning:
			if !c.Planned && e.startPlanning(c.ID) {
				wg.Go(func() { e.plan(ctx, c.ID) })
			}
			e.reconcile(ctx, c.ID)
		case breach.CampaignCancelled:
			e.releaseOrphans(ctx, c.ID) // they fail: nothing more is sent
		}
	}
}

// reconcile requeues what the queue lost of one campaign — claims of dead workers, due
// deliveries no task covers — and completes it when nothing is left.
func (e *Engine) reconcile(ctx context.Context, id string) {
	if !e.releaseOrphans(ctx, id) {
		return
	}
	due, err := e.store.DueChunks(ctx, id, e.cfg.ChunkSize, dueGrace)
	if err != nil {
		e.log.Warn("reconcile: cannot find due deliveries", "campaign", id, "error", err)
		return
	}
	for _, c := range due {
		if err := e.enqueue(ctx, chunkTask(id, c.Channel, e.cfg.ChunkSize, c.K), true, time.Time{}); err != nil {
			e.log.Warn("reconcile: cannot queue", "campaign", id, "error", err)
			return
		}
	}
	done, err := e.store.CompleteIfDone(ctx, id)
	if err != nil {
		e.log.Warn("reconcile: cannot complete campaign", "campaign", id, "error", err)
	}
	if done {
		e.log.Info("campaign completed", "campaign", id)
		e.forget(id)
	}
}

// releaseOrphans releases the claims of dead workers and this worker's lost ones, and reports
// whether it could look.
func (e *Engine) releaseOrphans(ctx context.Context, id string) bool {
	// Silence is judged only once this worker's own heartbeats have gone through for
	// StaleAfter: after a database outage every worker is silent, and none is dead. Its own
	// claims wait as long: after an outage the journal's retries may not have come round yet.
	// And they are lost only when older than anything its tasks still hold: a claim held
	// through an outage longer than any timeout is still sent and about to be recorded.
	var stale, own time.Duration
	if since := e.healthySince.Load(); since != 0 && time.Since(time.Unix(0, since)) >= e.cfg.StaleAfter {
		stale = e.cfg.StaleAfter
		own = e.holds.lostAfter(id, e.cfg.ClaimLostAfter)
	}
	released, err := e.store.ReleaseOrphans(ctx, id, e.workerID, stale, own)
	if err != nil {
		e.log.Warn("reconcile: cannot release orphaned claims", "campaign", id, "error", err)
		return false
	}
	for ch, ids := range released {
		e.log.Warn("released the claims of a worker that stopped answering, possibly sent: sent again, each counts as a possible duplicate",
			"campaign", id, "channel", ch, "count", len(ids))
		// Their chunks' tasks may still be held by the dead worker in the queue (until
		// asynq's lease runs out): new tasks take them now.
		if err := e.enqueueIDs(ctx, id, ch, ids, time.Time{}); err != nil {
			e.log.Warn("reconcile: cannot queue released claims; the next pass will", "campaign", id, "error", err)
		}
	}
	return true
}

// buryDeadNeighbours unregisters the workers of this host whose process is gone (killed, crashed
// and restarted by its supervisor), so that their claims are released now instead of once
// their heartbeat is StaleAfter old.
func (e *Engine) buryDeadNeighbours(ctx context.Context) {
	host, _ := os.Hostname()
	workers, err := e.store.Workers(ctx)
	if err != nil {
		e.log.Warn("reconcile: cannot list workers", "error", err)
		return
	}
	for _, w := range workers {
		// A missed heartbeat or two first: a worker in another PID namespace (a container
		// sharing this host name) is invisible to kill(2) yet alive, and keeps beating.
		if w.ID == e.workerID || w.Host != host || w.Silence < 3*e.cfg.HeartbeatEvery || processAlive(w.PID) {
			continue
		}
		e.log.Warn("a worker on this host died; releasing its claims", "worker", w.ID, "pid", w.PID)
		if err := e.store.UnregisterWorker(ctx, w.ID); err != nil {
			e.log.Warn("reconcile: cannot unregister a dead worker", "worker", w.ID, "error", err)
		}
	}
}

// processAlive reports whether a process with that ID exists on this host.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// startPlanning marks a campaign as being planned by this process, unless it already is.
func (e *Engine) startPlanning(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.planning[id] {
		return false
	}
	e.planning[id] = true
	return true
}

// plan creates a campaign's deliveries step by step and queues the tasks covering each step
// at once, so that sending starts while the rest is planned.
func (e *Engine) plan(ctx context.Context, id string) {
	defer func() {
		e.mu.Lock()
		delete(e.planning, id)
		e.mu.Unlock()
	}()
	step := firstPlanStep
	for ctx.Err() == nil {
		p, err := e.store.PlanCampaign(ctx, id, step)
		if err != nil {
			e.log.Warn("planning failed; the next reconciliation resumes it", "campaign", id, "error", err)
			return
		}
		for ch, low := range p.Low {
			if err := e.enqueueRange(ctx, id, ch, low, p.High[ch]); err != nil {
				e.log.Warn("tasks not queued; the reconciler will", "campaign", id, "error", err)
			}
		}
		if p.Done || len(p.Low) == 0 {
			return
		}
		step = planStep
	}
}

// dropArchived deletes the send tasks asynq archived after exhausting its retries (the
// database was down for long): archived, they would hold their stable IDs and keep the
// reconciler from queueing their chunks again.
func (e *Engine) dropArchived(ctx context.Context) {
	queues, err := e.inspector.Queues()
	if err != nil {
		e.log.Warn("reconcile: cannot list queues", "error", err)
		return
	}
	for _, q := range queues {
		if !strings.HasPrefix(q, queuePrefix) {
			continue
		}
		n, err := e.inspector.DeleteAllArchivedTasks(q)
		if err != nil {
			e.log.Warn("reconcile: cannot clear archived tasks", "queue", q, "error", err)
		}
		if n > 0 {
			e.log.Warn("cleared archived send tasks; their work is queued again", "queue", q, "count", n)
		}
	}
}

// sleep waits for d or the end of ctx.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
