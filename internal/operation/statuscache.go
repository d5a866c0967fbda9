package operation

import (
	"context"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// statusCache shares a campaign's status among the requests that ask for it within
// Service.StatusMaxAge of each other. The incident team's screens poll the status of the same
// campaign many times a second while it sends; each read is six statements (the counters, the
// rate, duplicates, quiet hours, relays), and the counters' rows are rewritten by every batch
// the workers record, so a read walks their dead versions too. A second-old count is what a
// screen refreshing every second shows anyway.
//
// One request reads a campaign's status at a time: the others asking meanwhile wait for its
// answer rather than each reading it again (a burst when the cache expires).
type statusCache struct {
	mu      sync.Mutex
	entries map[string]*statusEntry
}

type statusEntry struct {
	mu     sync.Mutex // held while the status is read
	status *breach.CampaignStatus
	read   time.Time
}

// maxCachedStatuses bounds the cache: beyond, it starts again empty (campaigns watched at once
// are a handful).
const maxCachedStatuses = 256

// get returns campaign id's status read at most maxAge ago, reading it with read if there is
// none. The status returned is shared: callers must not change it.
func (c *statusCache) get(ctx context.Context, id string, maxAge time.Duration,
	read func(context.Context, string) (*breach.CampaignStatus, error)) (*breach.CampaignStatus, error) {
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedStatuses {
		c.entries = map[string]*statusEntry{}
	}
	e := c.entries[id]
	if e == nil {
		e = &statusEntry{}
		c.entries[id] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.status != nil && time.Since(e.read) < maxAge {
		return e.status, nil
	}
	start := time.Now()
	s, err := read(ctx, id)
	if err != nil {
		return nil, err // not kept: the next request tries again
	}
	if s.State != breach.CampaignDraft { // a draft's list still changes, by imports of this process too
		e.status, e.read = s, start
	}
	return s, nil
}

// forget drops campaign id's cached status: this process changed the campaign (started,
// paused it…), and the operator who did expects the next status to show it.
func (c *statusCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}
