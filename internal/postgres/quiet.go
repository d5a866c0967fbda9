package postgres

import (
	"context"
	"fmt"
	"time"

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
// is left alone.
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
		UPDATE deliveries d SET not_before = u.until
		FROM unnest($3::bigint[], $4::timestamptz[]) AS u (recipient_id, until)
		WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id = ANY ($3) AND d.recipient_id = u.recipient_id
			AND d.state = 'queued'`, uid, ch, ids, at); err != nil {
		return fmt.Errorf("defer deliveries: %w", err)
	}
	return nil
}

// queueQuietWait adds to b the read of a campaign's SMS waiting for quiet hours to end (every
// delivery with a not_before is queued: leaving queued clears it).
func queueQuietWait(b *pgx.Batch, uid any, w *breach.QuietWait) {
	b.Queue(`SELECT count(*), min(not_before), max(not_before) FROM deliveries WHERE campaign_id = $1 AND not_before IS NOT NULL`, uid).
		QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&w.Count, &w.Earliest, &w.Latest); err != nil {
				return fmt.Errorf("count SMS held for quiet hours: %w", err)
			}
			return nil
		})
}
