package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/metrics"
)

// journal writes the outcomes of all this process's tasks to the record, by group commit.
//
// A notice the provider has accepted and the record does not yet say sent is the one window for
// a duplicate: a worker killed then leaves it sending, and it is sent again. So an outcome is
// written at once — not when a task's batch fills — together with whatever other outcomes of
// the same campaign and channel arrived meanwhile:
//
//	senders ──add──▶ line (campaign, channel): pending ──write──▶ store.Record, one statement
//	                    a write starts at once when none is in flight; beside the ones in
//	                    flight (up to maxLineWrites) when FlushSize outcomes wait, or the
//	                    oldest has waited FlushEvery
//
// The busier the database, the larger each batch: a write carries what arrived during the
// previous one. Each task waits for its own outcomes (taskLog) before it returns: a sent notice
// is durable in the record before the task moves on.
//
// slots bounds the notices handed, or about to be handed, to a provider whose outcome is not
// recorded yet (MaxUnrecorded): when the database stops answering, sending stops within that
// many notices instead of going through every claim this process holds, each a duplicate if
// the worker then dies. And while a write has been in flight for RecordStall (the database
// locked, slow or cut off), no notice is handed over at all: the slots alone let a worker go on
// sending 512 notices into a stalled record — each sent again, a duplicate, when the worker
// was then killed or taken for dead (a review: 508 from one kill during a table lock, 479 from
// one worker's 45-second network cut).
type journal struct {
	e     *Engine
	slots chan struct{}

	mu    sync.Mutex
	lines map[lineKey]*line
	// writes are the writes in flight — their line and start — by a number of their own.
	writes    map[uint64]inFlight
	lastWrite uint64
	// stallSaid is when a stall was last logged.
	stallSaid time.Time
}

// inFlight is a write in flight: its line, and when it started.
type inFlight struct {
	line    lineKey
	started time.Time
}

// maxLineWrites bounds the writes in flight for one campaign and channel: past a few, more
// concurrent writes only queue in the database.
const maxLineWrites = 4

type lineKey struct {
	campaign string
	ch       breach.Channel
}

// line is the outcomes of one campaign and channel waiting to be written.
type line struct {
	key      lineKey
	fallback bool
	pending  []entry
	writing  int
	// timer starts a write beside those in flight once the oldest pending outcome has waited
	// FlushEvery.
	timer *time.Timer
}

// entry is one outcome, the task waiting for it, and whether it holds a slot.
type entry struct {
	o    breach.Outcome
	log  *taskLog
	slot bool
}

// taskLog is what one task knows of its outcomes in the journal: how many are not written yet,
// and the error of any that could not be.
type taskLog struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (l *taskLog) done(err error) {
	if err != nil {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
	}
	l.wg.Done()
}

// wait waits until every outcome given so far is written or given up, and returns the error
// of the last one given up.
func (l *taskLog) wait() error {
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func newJournal(e *Engine) *journal {
	return &journal{e: e, slots: make(chan struct{}, e.cfg.MaxUnrecorded), lines: map[lineKey]*line{}, writes: map[uint64]inFlight{}}
}

// stalled reports whether a write of line k's outcomes has been in flight for RecordStall or
// longer, and logs it (once a minute at most) when log is set. Per line: a campaign whose
// rows a long statement holds stops, not every campaign of the worker (the review of this
// gate); a database that stopped answering stalls every line's writes, and so every line.
func (j *journal) stalled(k lineKey, log bool) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now()
	for _, w := range j.writes {
		if started := w.started; w.line == k && now.Sub(started) >= j.e.cfg.RecordStall {
			if log && now.Sub(j.stallSaid) >= time.Minute {
				j.stallSaid = now
				j.e.log.Warn("the record is not being written: no notice is sent until it is", "campaign", k.campaign, "channel", k.ch,
					"waited", now.Sub(started).Round(time.Millisecond))
			}
			return true
		}
	}
	return false
}

// reserve takes a slot for a notice of line k about to be handed to a provider, waiting while
// the line's record is stalled (stalled) or MaxUnrecorded notices are unrecorded. It gives up
// (false, no slot) when ctx ends, the worker stops or halt says so; halt is asked again once
// the slot is taken.
func (j *journal) reserve(ctx context.Context, k lineKey, halt func() bool) bool {
	for j.stalled(k, true) {
		select {
		case <-ctx.Done():
			return false
		case <-j.e.stopping:
			return false
		case <-time.After(20 * time.Millisecond):
		}
		if halt() {
			return false
		}
	}
	select {
	case j.slots <- struct{}{}:
	default:
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case j.slots <- struct{}{}:
				break wait
			case <-ctx.Done():
				return false
			case <-j.e.stopping:
				return false
			case <-tick.C:
				if halt() {
					return false
				}
			}
		}
	}
	if halt() {
		<-j.slots
		return false
	}
	return true
}

// unreserve gives back a slot reserve took for a notice that was not handed over after all.
func (j *journal) unreserve() { <-j.slots }

// add takes one outcome of task t for log; slot says whether it holds a slot (its notice was
// handed to a provider). fallback is the campaign's channel policy's.
func (j *journal) add(t sendTask, fallback bool, o breach.Outcome, log *taskLog, slot bool) {
	j.e.watchFailures(lineKey{t.Campaign, t.Channel}, o)
	log.wg.Add(1)
	j.mu.Lock()
	defer j.mu.Unlock()
	k := lineKey{t.Campaign, t.Channel}
	l := j.lines[k]
	if l == nil {
		l = &line{key: k}
		j.lines[k] = l
	}
	l.fallback = fallback
	l.pending = append(l.pending, entry{o: o, log: log, slot: slot})
	j.startLocked(l, false)
}

// startLocked starts the writes line l calls for: one at once when none is in flight, one more
// beside them when a batch is full or late (its oldest outcome has waited FlushEvery), up to
// maxLineWrites. Otherwise the outcomes wait for a write to end, or for the timer. j.mu is
// held.
func (j *journal) startLocked(l *line, late bool) {
	for len(l.pending) > 0 {
		full := len(l.pending) >= j.e.cfg.FlushSize
		if l.writing > 0 && (l.writing >= maxLineWrites || !full && !late) {
			if l.timer == nil && l.writing < maxLineWrites {
				var tm *time.Timer
				tm = time.AfterFunc(j.e.cfg.FlushEvery, func() {
					j.mu.Lock()
					defer j.mu.Unlock()
					if l.timer == tm {
						l.timer = nil
						j.startLocked(l, true)
					}
				})
				l.timer = tm
			}
			return
		}
		n := min(len(l.pending), j.e.cfg.FlushSize)
		batch := make([]entry, n)
		copy(batch, l.pending)
		l.pending = append(l.pending[:0], l.pending[n:]...)
		l.writing++
		late = false
		j.lastWrite++
		j.writes[j.lastWrite] = inFlight{line: l.key, started: time.Now()}
		go j.write(l, l.fallback, batch, j.lastWrite)
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// write records one batch, settles its tasks and slots, queues the fallbacks it caused, and
// starts the next write of its line.
func (j *journal) write(l *line, fallback bool, batch []entry, id uint64) {
	outcomes := make([]breach.Outcome, len(batch))
	for i, en := range batch {
		outcomes[i] = en.o
	}
	fallbacks, err := j.record(l.key, fallback, outcomes)
	j.mu.Lock()
	delete(j.writes, id)
	j.mu.Unlock()
	if err == nil {
		j.count(l.key.ch, outcomes)
	}
	for _, en := range batch {
		if en.slot {
			<-j.slots
		}
	}
	// The relays' counts are written with the sends freed (the slots) but before the tasks
	// hear their outcomes are recorded, so that a stopping worker waits for them too.
	if err == nil {
		j.countRelays(l.key.campaign, outcomes)
	}
	for _, en := range batch {
		en.log.done(err)
	}
	if len(fallbacks) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := j.e.enqueueIDs(ctx, l.key.campaign, l.key.ch.Other(), fallbacks, time.Time{}); err != nil {
			j.e.log.Warn("fallbacks not queued; the reconciler will", "campaign", l.key.campaign, "error", err)
		}
		cancel()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	l.writing--
	j.startLocked(l, false)
	if l.writing == 0 && len(l.pending) == 0 && j.lines[l.key] == l {
		delete(j.lines, l.key)
	}
}

// record writes outcomes whose notices have been sent: their record must not be lost to a
// database hiccup, so the write is retried with backoff for as long as the worker runs (the
// tasks waiting for it, and with them this worker's appetite for new claims, wait meanwhile;
// the slots stop new sends) and for ShutdownTimeout once it is stopping. Only then is it given
// up: the notices stay sending under this worker's claim, the reconciler releases them, possibly
// sent, once the worker is gone, and they are sent again — a possible duplicate, counted, never
// a loss.
func (j *journal) record(k lineKey, fallback bool, outcomes []breach.Outcome) ([]int64, error) {
	var deadline time.Time
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		fallbacks, err := j.e.store.Record(ctx, k.campaign, k.ch, j.e.workerID, outcomes, fallback)
		cancel()
		if err == nil {
			return fallbacks, nil
		}
		if j.e.stopped() && deadline.IsZero() {
			deadline = time.Now().Add(j.e.cfg.ShutdownTimeout)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			j.e.log.Error("outcomes not recorded; they will be sent again", "campaign", k.campaign,
				"channel", k.ch, "count", len(outcomes), "error", err)
			return nil, fmt.Errorf("record %d outcomes: %w", len(outcomes), err)
		}
		j.e.log.Warn("outcomes not recorded yet; retrying", "campaign", k.campaign, "count", len(outcomes),
			"attempt", attempt, "error", err)
		time.Sleep(backoff(100*time.Millisecond, 10*time.Second, attempt))
	}
}

// count adds written outcomes to breachnotice_notices_total, once each, after their write
// committed (a write retried after a hiccup counts once): a transient failure put back in the
// queue counts as retried. An outcome the record declined because its claim had been taken
// over meanwhile (a worker taken for dead) is counted all the same: rare, and the notice did
// go to its provider.
func (j *journal) count(ch breach.Channel, outcomes []breach.Outcome) {
	m := j.e.cfg.Metrics
	if m == nil {
		return
	}
	var sent, failed, suppressed, retried int
	for _, o := range outcomes {
		switch o.State {
		case breach.DeliverySent:
			sent++
		case breach.DeliveryFailed:
			failed++
		case breach.DeliverySuppressed:
			suppressed++
		case breach.DeliveryQueued:
			retried++
		}
	}
	m.Notices(string(ch), metrics.StateSent, sent)
	m.Notices(string(ch), metrics.StateFailed, failed)
	m.Notices(string(ch), metrics.StateSuppressed, suppressed)
	m.Notices(string(ch), metrics.StateRetried, retried)
}
