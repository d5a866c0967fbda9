package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CampaignsChannel is the PostgreSQL notification channel on which a campaign's ID is
// published whenever it starts, pauses, resumes or is cancelled: workers listen on it and act
// at once instead of at their next reconciliation.
const CampaignsChannel = "breachnotice_campaigns"

// cancelledError is the error recorded on the deliveries a cancellation settles.
const cancelledError = "the campaign was cancelled before this notice was sent"

// MoveCampaign moves a campaign to state to on behalf of actor — start (approved → running),
// pause, resume (paused → running) or cancel — records it in the audit log and notifies the
// workers. Moves the state machine does not allow are ECONFLICT errors saying what is possible.
//
// Starting creates the campaign's delivery partitions; the delivery rows themselves are created
// by the workers' planner (PlanCampaign), so that the first notices leave while the rest of a
// large list is still being planned. Cancelling settles every delivery not yet sent as failed
// and plans the unplanned recipients as failed too, so that every recipient has a record.
func (db *DB) MoveCampaign(ctx context.Context, id, actor string, from, to breach.CampaignState) (*breach.Campaign, error) {
	return db.underCampaignLock(ctx, id, func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
		if from != "" && c.State != from {
			return breach.Errorf(breach.ECONFLICT, "the campaign is %s, not %s", c.State, from)
		}
		from := c.State
		if err := from.Move(to); err != nil {
			return err
		}
		action := "campaign." + string(to)
		switch {
		case from == breach.CampaignApproved && to == breach.CampaignRunning:
			action = "campaign.start"
			if err := createDeliveryPartitions(ctx, tx, uid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET started_by = $2, started_at = now() WHERE id = $1`, uid, actor); err != nil {
				return fmt.Errorf("start campaign: %w", err)
			}
		case from == breach.CampaignPaused && to == breach.CampaignRunning:
			action = "campaign.resume"
		case to == breach.CampaignPaused:
			action = "campaign.pause"
		case to == breach.CampaignCancelled && c.StartedAt != nil:
			if err := settleCancelled(ctx, tx, uid, c.Channels); err != nil {
				return err
			}
		}
		finished := to == breach.CampaignCancelled || to == breach.CampaignCompleted
		err := tx.QueryRow(ctx, `
			UPDATE campaigns SET state = $2, updated_at = now(),
				finished_at = CASE WHEN $3 THEN now() ELSE finished_at END
			WHERE id = $1 RETURNING state, started_by, started_at, finished_at`, uid, to, finished,
		).Scan(&c.State, &c.StartedBy, &c.StartedAt, &c.FinishedAt)
		if err != nil {
			return fmt.Errorf("move campaign: %w", err)
		}
		if err := audit(ctx, tx, actor, action, c.ID, map[string]any{"from": from, "to": to}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, CampaignsChannel, uid.String()); err != nil {
			return fmt.Errorf("notify workers: %w", err)
		}
		return nil
	})
}

// createDeliveryPartitions creates a campaign's partitions of deliveries and delivery_events.
// They are made as tables of their own, then attached: CREATE TABLE … PARTITION OF would take
// an exclusive lock on the parent and queue every worker of every campaign behind it, ATTACH
// takes one that lets them go on.
func createDeliveryPartitions(ctx context.Context, tx pgx.Tx, uid uuid.UUID) error {
	for _, t := range []struct{ parent, name, with string }{
		{"deliveries", deliveriesPartition(uid), " WITH (fillfactor = 70)"},
		{"delivery_events", "delivery_events_" + strings.ReplaceAll(uid.String(), "-", ""), ""},
	} {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t.name).Scan(&exists); err != nil {
			return fmt.Errorf("create delivery partitions: %w", err)
		}
		if exists {
			continue
		}
		for _, stmt := range []string{
			fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)%s`, t.name, t.parent, t.with),
			fmt.Sprintf(`ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN ('%s')`, t.parent, t.name, uid),
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("create delivery partitions: %w", err)
			}
		}
	}
	return nil
}

// deliveriesPartition is the name of a campaign's partition of deliveries.
func deliveriesPartition(uid uuid.UUID) string {
	return "deliveries_" + strings.ReplaceAll(uid.String(), "-", "")
}

// settleCancelled fails what a cancelled campaign had not sent yet: its queued deliveries and
// its recipients the planner had not reached. Deliveries being sent finish as they will.
func settleCancelled(ctx context.Context, tx pgx.Tx, uid uuid.UUID, policy breach.ChannelPolicy) error {
	if _, err := tx.Exec(ctx, `
		UPDATE deliveries SET state = 'failed', error = $2, source = 'operator', updated_at = now()
		WHERE campaign_id = $1 AND state = 'queued'`, uid, cancelledError); err != nil {
		return fmt.Errorf("fail queued deliveries: %w", err)
	}
	var through int64
	if err := tx.QueryRow(ctx, `SELECT planned_through FROM campaigns WHERE id = $1`, uid).Scan(&through); err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	if _, _, err := planRows(ctx, tx, uid, policy, through, 0, breach.DeliveryFailed, "operator", cancelledError); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE campaigns SET planned = true WHERE id = $1`, uid); err != nil {
		return fmt.Errorf("mark planned: %w", err)
	}
	return nil
}

// CampaignStatus returns a campaign's deliveries counted by channel and state (recipients the
// planner has not reached yet counted as pending on the channel they will get), and the send
// rate over the last rateWindow.
func (db *DB) CampaignStatus(ctx context.Context, id string) (*breach.CampaignStatus, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	var (
		state   breach.CampaignState
		policy  breach.ChannelPolicy
		total   int64
		through int64
		planned bool
	)
	err = db.pool.QueryRow(ctx, `
		SELECT state, coalesce(spec->>'channels', ''), recipients, planned_through, planned FROM campaigns WHERE id = $1`, uid,
	).Scan(&state, &policy, &total, &through, &planned)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign: %w", err)
	}
	s := breach.NewCampaignStatus(state)
	if total == 0 { // not approved yet: the list may still change
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM recipients WHERE campaign_id = $1`, uid).Scan(&total); err != nil {
			return nil, fmt.Errorf("count recipients: %w", err)
		}
	}
	s.Total = total
	rows, err := db.pool.Query(ctx, `SELECT channel, state, sum(n) FROM delivery_counts WHERE campaign_id = $1 GROUP BY channel, state`, uid)
	if err != nil {
		return nil, fmt.Errorf("read delivery counts: %w", err)
	}
	var (
		ch breach.Channel
		st breach.DeliveryState
		n  int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&ch, &st, &n}, func() error {
		if s.ByChannel[ch] != nil {
			s.ByChannel[ch][st] = n
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read delivery counts: %w", err)
	}
	if !planned && state != breach.CampaignCancelled {
		if err := db.pendingCounts(ctx, uid, policy, through, s); err != nil {
			return nil, err
		}
	}
	var sent int64
	if err := db.pool.QueryRow(ctx, `
		SELECT count(*) FROM delivery_events
		WHERE campaign_id = $1 AND state = 'sent' AND at > now() - $2::interval`, uid, rateWindow.String(),
	).Scan(&sent); err != nil {
		return nil, fmt.Errorf("measure send rate: %w", err)
	}
	s.RatePerSec = float64(sent) / rateWindow.Seconds()
	if left := s.Remaining(); left > 0 && s.RatePerSec > 0 && state == breach.CampaignRunning {
		eta := float64(left) / s.RatePerSec
		s.ETASeconds = &eta
	}
	return s, nil
}

// pendingCounts counts, per channel, the recipients the planner has not reached yet.
func (db *DB) pendingCounts(ctx context.Context, uid uuid.UUID, policy breach.ChannelPolicy, through int64, s *breach.CampaignStatus) error {
	var email, sms int64
	err := db.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE `+wantsEmail("$3")+`), count(*) FILTER (WHERE `+wantsSMS("$3")+`)
		FROM recipients r WHERE campaign_id = $1 AND id > $2`, uid, through, policy,
	).Scan(&email, &sms)
	if err != nil {
		return fmt.Errorf("count pending recipients: %w", err)
	}
	s.ByChannel[breach.ChannelEmail][breach.DeliveryPending] = email
	s.ByChannel[breach.ChannelSMS][breach.DeliveryPending] = sms
	return nil
}
