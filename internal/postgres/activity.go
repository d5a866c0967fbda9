package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CampaignActivity returns a campaign's notices sent and failed or bounced per channel, from
// its start to now (to its end once finished), in at most maxSteps steps of whole minutes.
// ENOTFOUND for an unknown campaign; a campaign not started yet has an activity of no steps.
//
// The counts are delivery_minutes, which the deliveries' triggers add to with every move they
// record (migration 00025): a few rows per minute of sending, read whole — a week's campaign
// is at most 10,080 minutes × 4 outcomes × 8 shards. A cancellation's failures are not
// counted there (they are not sending: the operator fails every notice not sent yet at once,
// and its spike would flatten the rest of the chart), nor letters (mailed by people, in
// batches).
func (db *DB) CampaignActivity(ctx context.Context, id string, maxSteps int) (*breach.Activity, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	var (
		now             time.Time
		started, finish *time.Time
		minutes         []breach.ActivityMinute
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT now(), started_at, finished_at FROM campaigns WHERE id = $1`, uid).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&now, &started, &finish)
		if errors.Is(err, pgx.ErrNoRows) {
			return breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
		}
		return err
	})
	b.Queue(`SELECT minute, channel, outcome, sum(n)::bigint FROM delivery_minutes WHERE campaign_id = $1
		GROUP BY 1, 2, 3`, uid).Query(func(rows pgx.Rows) error {
		return collect(rows, &minutes, func(row pgx.Row, m *breach.ActivityMinute) error {
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
	// Webhooks may still report bounces after a campaign finished: they count too.
	for _, m := range minutes {
		if m.Minute.After(end) {
			end = m.Minute
		}
	}
	return breach.NewActivity(*started, end, minutes, maxSteps), nil
}
