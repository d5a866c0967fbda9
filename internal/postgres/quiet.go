package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// now is the clock a delivery's not_before is judged by: the one that wrote it (the sending
// engine's; see DB.Now), not the database server's.
func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now()
	}
	return time.Now()
}

// QueuedRecipients returns the recipients (ID, phone, country: what quiet hours need) of the
// due queued deliveries of one channel of a campaign in [low, high): those a claim would take
// now.
func (db *DB) QueuedRecipients(ctx context.Context, campaignID string, ch breach.Channel, low, high int64) ([]breach.Recipient, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT r.id, coalesce(r.phone, ''), r.country FROM deliveries d
		JOIN recipients r ON r.campaign_id = $1 AND r.id = d.recipient_id AND r.id >= $3 AND r.id < $4
		WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id >= $3 AND d.recipient_id < $4
			AND d.state = 'queued' AND d.next_attempt_at <= now() AND (d.not_before IS NULL OR d.not_before <= $5)
		ORDER BY d.recipient_id`, uid, ch, low, high, db.now())
	if err != nil {
		return nil, fmt.Errorf("read queued deliveries: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.Recipient, error) {
		r := breach.Recipient{CampaignID: campaignID}
		err := row.Scan(&r.ID, &r.Phone, &r.Country)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read queued deliveries: %w", err)
	}
	return rs, nil
}

// Defer holds queued deliveries of one channel until the given times (quiet hours): they stay
// queued, so no event is written and no count moves, but no claim takes them and the
// reconciler does not queue them before then. A delivery no longer queued (claimed meanwhile)
// is left alone. Its next_attempt_at moves to the same time too: a worker one release older
// (which knows nothing of not_before) still running during an upgrade then holds it as well,
// on the database's clock.
func (db *DB) Defer(ctx context.Context, campaignID string, ch breach.Channel, until []breach.Deferral) error {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	ids, at := make([]int64, len(until)), make([]time.Time, len(until))
	for i, d := range until {
		ids[i], at[i] = d.RecipientID, d.Until
	}
	if _, err := db.pool.Exec(ctx, `
		UPDATE deliveries d SET not_before = u.until, next_attempt_at = greatest(d.next_attempt_at, u.until)
		FROM unnest($3::bigint[], $4::timestamptz[]) AS u (recipient_id, until)
		WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id = ANY ($3) AND d.recipient_id = u.recipient_id
			AND d.state = 'queued'`, uid, ch, ids, at); err != nil {
		return fmt.Errorf("defer deliveries: %w", err)
	}
	return nil
}

// quietWaitQuery reads a campaign's SMS waiting for quiet hours to end (every delivery with a
// not_before is queued: leaving queued clears it), from the partial index deliveries_waiting.
const quietWaitQuery = `SELECT count(*), min(not_before), max(not_before) FROM deliveries WHERE campaign_id = $1 AND not_before IS NOT NULL`

// quietCache keeps the quiet-hours wait of the campaigns where many SMS wait. Counting them
// walks the index: nothing when none waits (nearly always), but ~0.1–0.6 s for a million (a
// whole campaign started at night), and the status is polled at 200 requests/s. So once a count
// is large, the status serves it for up to quietCacheFor while one background read refreshes
// it; small counts are read with the rest of the status, exactly.
type quietCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]*quietEntry
}

// quietCacheFrom is the count from which a campaign's wait is cached; quietCacheFor how stale
// it may be.
const (
	quietCacheFrom = 20_000
	quietCacheFor  = 5 * time.Second
)

type quietEntry struct {
	wait       breach.QuietWait
	at         time.Time
	refreshing bool
}

// queueQuietWait adds the read of campaign uid's wait to b, unless the cache answers (then w is
// filled at once); otherwise w is filled when b runs.
func (db *DB) queueQuietWait(b *pgx.Batch, uid uuid.UUID, w *breach.QuietWait) {
	c := &db.quiet
	c.mu.Lock()
	e := c.entries[uid]
	if e != nil {
		*w = e.wait
		if time.Since(e.at) > quietCacheFor && !e.refreshing {
			e.refreshing = true
			go db.refreshQuietWait(uid)
		}
	}
	c.mu.Unlock()
	if e != nil {
		return
	}
	b.Queue(quietWaitQuery, uid).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&w.Count, &w.Earliest, &w.Latest); err != nil {
			return fmt.Errorf("count SMS held for quiet hours: %w", err)
		}
		db.storeQuietWait(uid, *w)
		return nil
	})
}

// refreshQuietWait rereads a cached wait in the background.
func (db *DB) refreshQuietWait(uid uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var w breach.QuietWait
	if err := db.pool.QueryRow(ctx, quietWaitQuery, uid).Scan(&w.Count, &w.Earliest, &w.Latest); err != nil {
		db.quiet.mu.Lock()
		if e := db.quiet.entries[uid]; e != nil {
			e.refreshing = false // the next status tries again
		}
		db.quiet.mu.Unlock()
		return
	}
	db.storeQuietWait(uid, w)
}

// storeQuietWait caches a large wait, and forgets a small one.
func (db *DB) storeQuietWait(uid uuid.UUID, w breach.QuietWait) {
	c := &db.quiet
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.Count < quietCacheFrom {
		delete(c.entries, uid)
		return
	}
	if c.entries == nil {
		c.entries = map[uuid.UUID]*quietEntry{}
	}
	if len(c.entries) >= maxPendingEntries {
		clear(c.entries) // rare: many campaigns waiting at once; reading is only slower
	}
	c.entries[uid] = &quietEntry{wait: w, at: time.Now()}
}
