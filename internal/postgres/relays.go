package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CountRelays adds counts to a campaign's relay_counts (see migration 00017): one statement
// for a whole batch of outcomes. The rows are locked in name order, so that workers counting
// the same relays at once cannot deadlock; a set-aside time only ever moves later.
func (db *DB) CountRelays(ctx context.Context, campaignID string, counts []breach.RelayCount) error {
	if len(counts) == 0 {
		return nil
	}
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	counts = slices.Clone(counts)
	slices.SortFunc(counts, func(a, b breach.RelayCount) int { return strings.Compare(a.Relay, b.Relay) })
	n := len(counts)
	names, sent, failed, rejected := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	aside := make([]*time.Time, n)
	for i, c := range counts {
		names[i], sent[i], failed[i], rejected[i], aside[i] = c.Relay, c.Sent, c.Failed, c.Rejected, c.SetAsideUntil
	}
	if _, err := db.pool.Exec(ctx, `
		INSERT INTO relay_counts AS c (campaign_id, relay, sent, failed, rejected, set_aside_until)
		SELECT $1, u.relay, u.sent, u.failed, u.rejected, u.until
		FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::timestamptz[])
			AS u (relay, sent, failed, rejected, until)
		ORDER BY u.relay
		ON CONFLICT (campaign_id, relay) DO UPDATE SET sent = c.sent + excluded.sent,
			failed = c.failed + excluded.failed, rejected = c.rejected + excluded.rejected,
			set_aside_until = greatest(c.set_aside_until, excluded.set_aside_until), updated_at = now()`,
		uid, names, sent, failed, rejected, aside); err != nil {
		return fmt.Errorf("count relays: %w", err)
	}
	return nil
}

// queueRelayCounts reads a campaign's per-relay counts into rc, by name, as part of its status;
// a cool-down already over shows as none.
func queueRelayCounts(b *pgx.Batch, uid uuid.UUID, rc *[]breach.RelayCount) {
	b.Queue(`SELECT relay, sent, failed, rejected, CASE WHEN set_aside_until > now() THEN set_aside_until END
		FROM relay_counts WHERE campaign_id = $1 ORDER BY relay`, uid).Query(func(rows pgx.Rows) error {
		var err error
		if *rc, err = pgx.CollectRows(rows, pgx.RowToStructByPos[breach.RelayCount]); err != nil {
			return fmt.Errorf("read relay counts: %w", err)
		}
		return nil
	})
}
