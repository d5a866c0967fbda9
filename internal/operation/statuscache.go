package operation

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// statusCache shares a campaign's status among the requests that ask for it within
// Service.StatusMaxAge of each other. The incident team's screens poll the status of the same
// campaign many times a second while it sends; each read is six statements (the counters, the
// rate, duplicates, quiet hours, relays), and the counters' rows are rewritten by every batch
// the workers record, so a read walks their dead versions too. A second-old count is what a
// screen refreshing every second shows anyway.
//
// One request reads a campaign's status at a time (the leader): the others asking meanwhile
// wait for its answer rather than each reading it again (a burst when the cache expires) — but
// only as long as their own context allows: a stalled database holds each waiter until its own
// deadline, not until the leader's read ends. A leader's failure is nobody else's: the waiters
// then read for themselves (one of them leading), as they would have without the cache, and no
// failure is kept.
//
// A status past maxAge is refreshed in the background while the requests asking meanwhile get
// the one kept, up to maxStale × maxAge old: the refresh is six statements against tables the
// workers rewrite, and while a campaign sends it waited behind their commits — every request
// in that second waited with it (p99 140 ms for a 0.4 ms answer, status benchmark). Only the
// first read of a campaign, and one whose kept status is older than that, is waited for.
//
// Entries are keyed on the UUID, not its spelling, and made only for IDs that parse; one stays
// only while its campaign's status is kept (read, not a draft), so IDs of no campaign leave
// nothing behind.
type statusCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]*statusEntry
}

// statusEntry is a campaign's kept status, or a read of it under way; guarded by statusCache.mu.
type statusEntry struct {
	status *breach.CampaignStatus // nil while the first read is under way
	read   time.Time
	flight *statusRead // the read under way, if any
}

// statusRead is a read of a campaign's status that other requests wait for: done is closed
// when it ends, status is then its answer, nil if it failed.
type statusRead struct {
	done   chan struct{}
	status *breach.CampaignStatus
}

// maxStale is how many times maxAge a kept status may be old when answered while its refresh
// is under way: beyond, requests wait for the refresh (the database is slow, and showing an
// ever older status as current would hide it).
const maxStale = 5

// refreshTimeout bounds a background refresh: it belongs to no request, and must not hold a
// connection for ever when the database stalls.
const refreshTimeout = 10 * time.Second

// maxCachedStatuses bounds the cache: beyond, it starts again empty (campaigns watched at once
// are a handful).
const maxCachedStatuses = 256

// get returns campaign id's status read at most maxAge ago — or, while a refresh of it is
// under way, the one read before, at most maxStale × maxAge ago — reading it with read if there
// is none. The status returned is shared: callers must not change it. Waiting for another
// request's read ends with ctx's error when ctx ends first.
func (c *statusCache) get(ctx context.Context, id string, maxAge time.Duration,
	read func(context.Context, string) (*breach.CampaignStatus, error)) (*breach.CampaignStatus, error) {
	key, err := statusKey(id)
	if err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e != nil && e.status != nil {
			if age := time.Since(e.read); age < maxAge {
				s := e.status
				c.mu.Unlock()
				return s, nil
			} else if age < maxStale*maxAge {
				s := e.status
				if e.flight == nil {
					f := e.beginRead()
					// The refresh is nobody's request: the asker's values (its trace) but not its
					// cancellation — the asker has its answer and may go.
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
					go func() {
						defer cancel()
						_, _ = c.lead(rctx, key, e, f, id, read) // a failure keeps the old status until maxStale
					}()
				}
				c.mu.Unlock()
				return s, nil
			}
		}
		if e != nil && e.flight != nil {
			f := e.flight
			c.mu.Unlock()
			select {
			case <-f.done:
				if f.status != nil {
					return f.status, nil
				}
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				continue // the leader failed (its own deadline, perhaps): read for ourselves
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		// Lead the read.
		if e == nil {
			if c.entries == nil || len(c.entries) >= maxCachedStatuses {
				c.entries = map[uuid.UUID]*statusEntry{}
			}
			e = &statusEntry{}
			c.entries[key] = e
		}
		f := e.beginRead()
		c.mu.Unlock()
		return c.lead(ctx, key, e, f, id, read)
	}
}

// beginRead marks a read of e's status under way, for the requests that ask meanwhile to wait
// on; statusCache.mu is held.
func (e *statusEntry) beginRead() *statusRead {
	e.flight = &statusRead{done: make(chan struct{})}
	return e.flight
}

// lead reads id's status for e, the entry for key, and hands it to the requests waiting on f.
func (c *statusCache) lead(ctx context.Context, key uuid.UUID, e *statusEntry, f *statusRead, id string,
	read func(context.Context, string) (*breach.CampaignStatus, error)) (s *breach.CampaignStatus, err error) {
	start := time.Now()
	defer func() {
		// Also when read panics: the waiters must not wait for a read that is over.
		c.mu.Lock()
		e.flight = nil
		switch {
		case err == nil && s != nil && s.State != breach.CampaignDraft: // a draft's list still changes, by imports of this process too
			e.status, e.read = s, start
		case err != nil && e.status != nil:
			// A refresh failed: the status read before stays, answered until maxStale.
		case c.entries[key] == e:
			delete(c.entries, key) // nothing kept: an ID of no campaign leaves nothing behind
		}
		f.status = s
		c.mu.Unlock()
		close(f.done)
	}()
	s, err = read(ctx, id)
	if err != nil {
		return nil, err // not kept nor handed on: the next request (or a waiter) tries again
	}
	return s, nil
}

// statusKey is the cache's key for campaign id: its UUID, whatever the spelling.
func statusKey(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		// Status parses IDs before asking; this is a second guard, not the message users see.
		return uuid.UUID{}, breach.Errorf(breach.EINVALID, "campaign ID is not an ID")
	}
	return u, nil
}

// forget drops campaign id's cached status: this process changed the campaign (started,
// paused it…), and the operator who did expects the next status to show it. A read under way
// is left to finish for those waiting on it; the next request reads afresh.
func (c *statusCache) forget(id string) {
	key, err := statusKey(id)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}
