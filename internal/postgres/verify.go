package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// sentReferenceSQL finds the recipients whose reference code has the lookup key $1 — one
// probe of each campaign's recipients_ref_key index — and the first time a notice of theirs
// was sent or handed over, by the delivery events (the proof of notice, which a purge keeps):
// an email or SMS sent, delivered or bounced (it left us carrying the code), a letter printed,
// mailed or returned — or a delivery still sent, which holds its sent entry instead of an
// event (migration 00025). Queued, sending, failed (never sent) and suppressed are not: a code
// only verifies once a notice carrying it has actually gone out. Two customers may share a
// 50-bit code (a few pairs in tens of millions); the earliest notice answers.
const sentReferenceSQL = `
	SELECT c.spec->'organization', s.at
	FROM recipients r
	JOIN campaigns c ON c.id = r.campaign_id
	CROSS JOIN LATERAL (
		SELECT least(
			(SELECT min(e.at) FROM delivery_events e
			WHERE e.campaign_id = r.campaign_id AND e.recipient_id = r.id
				AND e.state IN ('sent', 'delivered', 'bounced', 'printed', 'mailed', 'returned')),
			(SELECT min(d.updated_at) FROM deliveries d
			WHERE d.campaign_id = r.campaign_id AND d.recipient_id = r.id AND d.state = 'sent')) AS at
	) s
	WHERE r.ref_key = $1 AND s.at IS NOT NULL
	ORDER BY s.at
	LIMIT 1`

// ReferenceSent returns who sent a notice carrying the reference code with lookup key key
// (notice.ReferenceKeys) and when the first went out, or nil when none was sent.
func (db *DB) ReferenceSent(ctx context.Context, key int64) (*breach.SentReference, error) {
	var (
		org []byte
		at  time.Time
	)
	err := db.pool.QueryRow(ctx, sentReferenceSQL, key).Scan(&org, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up a reference: %w", err)
	}
	sent := &breach.SentReference{SentAt: at}
	if err := json.Unmarshal(org, &sent.Organization); err != nil {
		return nil, fmt.Errorf("look up a reference: the campaign's organization: %w", err)
	}
	return sent, nil
}
