package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CampaignActivity returns a campaign's notices sent and failed or bounced per channel, from
// its start to now (to its end once finished), in at most maxSteps steps of whole minutes.
// ENOTFOUND for an unknown campaign; a campaign not started yet has an activity of no steps.
//
// The counts come from the delivery events, the record itself: delivery_rates counts only
// what was sent, of every channel together. Counting a campaign's events by minute reads all
// of them once (a partition scan: ~100 ms at 200,000 recipients); the console asks every
// five seconds per open page, so the minutes that are over are remembered (activityCache)
// and each later read only counts the events of the last minutes, found through the events'
// block-range index on their time.
func (db *DB) CampaignActivity(ctx context.Context, id string, maxSteps int) (*breach.Activity, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	var (
		now             time.Time
		started, finish *time.Time
		from            = db.activity.through(uid)
		fresh           []breach.ActivityMinute
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT now(), started_at, finished_at FROM campaigns WHERE id = $1`, uid).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&now, &started, &finish)
		if errors.Is(err, pgx.ErrNoRows) {
			return breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
		}
		return err
	})
	// A cancel fails every notice not sent yet at once, by the operator: that is not sending,
	// and its spike would flatten the rest of the chart. Letters are mailed by people, in
	// batches, not sent by the engine.
	b.Queue(`SELECT date_trunc('minute', at), channel, CASE state WHEN 'sent' THEN 'sent' ELSE 'failed' END, count(*)
		FROM delivery_events
		WHERE campaign_id = $1 AND at >= $2 AND state IN ('sent', 'failed', 'bounced') AND channel IN ('email', 'sms')
			AND source <> 'operator'
		GROUP BY 1, 2, 3`, uid, from).Query(func(rows pgx.Rows) error {
		return collect(rows, &fresh, func(row pgx.Row, m *breach.ActivityMinute) error {
			return row.Scan(&m.Minute, &m.Channel, &m.Outcome, &m.N)
		})
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		if breach.ErrorCode(err) == breach.ENOTFOUND {
			return nil, err
		}
		return nil, fmt.Errorf("read campaign activity: %w", err)
	}
	if started == nil {
		return breach.NewActivity(now, now.Add(-time.Minute), nil, maxSteps), nil
	}
	end := now
	if finish != nil {
		end = *finish
	}
	minutes := db.activity.merge(uid, from, now, fresh)
	// Webhooks may still report bounces after a campaign finished: they count too.
	for _, m := range minutes {
		if m.Minute.After(end) {
			end = m.Minute
		}
	}
	return breach.NewActivity(*started, end, minutes, maxSteps), nil
}

// activityCache remembers, per campaign, its activity by minute up to a minute that is over:
// through. An event is written with its transaction's start time, so a minute is only taken
// as over activitySettle after its end, by when every transaction that began in it has
// committed (the engine's are a batch of sends, well under a minute).
type activityCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]*activityEntry
}

type activityEntry struct {
	through time.Time
	minutes []breach.ActivityMinute // all before through
}

const (
	activitySettle = 2 * time.Minute
	// maxActivityEntries bounds the cache: campaigns being watched at once. A week's sending
	// is at most 10,080 minutes × 4 rows.
	maxActivityEntries = 64
)

// through is the time from which campaign uid's events must be counted (the zero time when
// nothing is cached).
func (c *activityCache) through(uid uuid.UUID) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[uid]; e != nil {
		return e.through
	}
	return time.Time{}
}

// merge returns campaign uid's minutes: those cached before from and the fresh ones counted
// from it at now, and remembers the ones that are over.
func (c *activityCache) merge(uid uuid.UUID, from, now time.Time, fresh []breach.ActivityMinute) []breach.ActivityMinute {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[uid]
	if e == nil || !e.through.Equal(from) {
		// Another request moved the entry on meanwhile: keep what it cached before from only.
		e = &activityEntry{through: from}
		if old := c.entries[uid]; old != nil {
			for _, m := range old.minutes {
				if m.Minute.Before(from) {
					e.minutes = append(e.minutes, m)
				}
			}
		}
	}
	all := append(slices.Clip(e.minutes), fresh...)
	through := now.Add(-activitySettle).Truncate(time.Minute)
	if through.After(e.through) {
		next := &activityEntry{through: through, minutes: slices.Clip(e.minutes)}
		for _, m := range fresh {
			if m.Minute.Before(through) {
				next.minutes = append(next.minutes, m)
			}
		}
		if c.entries == nil {
			c.entries = map[uuid.UUID]*activityEntry{}
		}
		if _, ok := c.entries[uid]; !ok && len(c.entries) >= maxActivityEntries {
			clear(c.entries) // rare: many campaigns watched at once; counting again is only slower
		}
		c.entries[uid] = next
	}
	return all
}
