package dispatch

import (
	"sync"
	"time"
)

// holds are the claims this process is working on, per campaign: a task holds its claims from
// just before it claims them until its outcomes are recorded and its unsent claims released.
//
// The reconciler releases this worker's own claims only when it has lost track of them (a
// claim whose commit answer was lost, a task that panicked), and it can only tell them apart in
// the record by age. Age alone is not enough: a claim held through a long database outage is
// old and still in flight — sent, its outcome waiting in the journal — and releasing it sends it
// again. So a claim of this worker counts as lost only when it is ClaimLostAfter older than the
// oldest claim this process still holds in the campaign: whatever it holds was claimed after
// that hold began.
type holds struct {
	mu   sync.Mutex
	next uint64
	by   map[string]map[uint64]time.Time
}

// take begins a hold in campaign c, before its claims are made; drop ends it.
func (h *holds) take(c string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.by == nil {
		h.by = map[string]map[uint64]time.Time{}
	}
	if h.by[c] == nil {
		h.by[c] = map[uint64]time.Time{}
	}
	h.next++
	h.by[c][h.next] = time.Now()
	return h.next
}

func (h *holds) drop(c string, id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.by[c], id)
	if len(h.by[c]) == 0 {
		delete(h.by, c)
	}
}

// oldest returns when the oldest hold in campaign c began, if there is one.
func (h *holds) oldest(c string) (since time.Time, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.by[c] {
		if !ok || t.Before(since) {
			since, ok = t, true
		}
	}
	return since, ok
}

// lostAfter is the age past which a claim of this worker in campaign c is taken as lost: base
// (ClaimLostAfter), plus the age of the oldest claim held (measured on the monotonic clock, so
// a clock step changes nothing).
func (h *holds) lostAfter(c string, base time.Duration) time.Duration {
	if since, ok := h.oldest(c); ok {
		return base + time.Since(since)
	}
	return base
}
