package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
	return db.moveCampaign(ctx, id, actor, from, to, nil)
}

// PauseFailing pauses a running campaign as the system, the reason in its audit row (see
// breach.DeliveryStore); false when the campaign was no longer running.
func (db *DB) PauseFailing(ctx context.Context, id, reason string) (bool, error) {
	_, err := db.moveCampaign(ctx, id, "system", breach.CampaignRunning, breach.CampaignPaused, map[string]any{"reason": reason})
	if breach.ErrorCode(err) == breach.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// RequeueFailed puts the failed notices on channel ch of a running, paused or completed
// campaign back in the queue, at once, their attempts counted from zero: what a relay or
// provider failed for good while it was down or misconfigured (the engine pauses a campaign
// whose notices keep failing: dispatch.DefaultFailureStreak), once it is fixed. Only the
// customers that nothing has reached and nothing is on its way to: not one whose other channel
// was sent (the notice did reach them) or whose letter is owed, printed or mailed, nor a notice
// the campaign's cancellation failed; bounced and suppressed notices are the customer's answer
// and stay. A completed campaign
// with notices put back runs again until they are settled (and completes again): a failure
// noticed only once the list was done — a relay's policy refusing part of the notices — left
// those customers without a way to be told. Not once a purge of its personal data has begun,
// nor once its retention period is over. The workers hear of it at once; audited with the count.
func (db *DB) RequeueFailed(ctx context.Context, id, actor string, ch breach.Channel) (int64, error) {
	var n int64
	_, err := db.underCampaignLock(ctx, id, func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
		reopen := c.State == breach.CampaignCompleted
		switch {
		case c.State != breach.CampaignRunning && c.State != breach.CampaignPaused && !reopen:
			return breach.Errorf(breach.ECONFLICT, "the campaign is %s: failed notices are sent again only while it is running, paused or completed", c.State)
		case c.PurgedAt != nil:
			return breach.Errorf(breach.ECONFLICT, "the campaign's personal data was purged: there is no address left to send its failed notices to")
		}
		if reopen {
			// A purge marks the campaign purged only in its last batch: one begun (or broken
			// off by a crash, to be resumed) has deleted addresses already, and a campaign
			// reopened then could never be purged. Nor is one whose retention is over reopened:
			// its personal data is due for deletion, not for use.
			var purging, expired bool
			if err := tx.QueryRow(ctx, `
				SELECT EXISTS (SELECT 1 FROM recipients WHERE campaign_id = $1 AND purged_at IS NOT NULL),
					coalesce(`+retentionOver+`, false)
				FROM campaigns WHERE id = $1`, uid).Scan(&purging, &expired); err != nil {
				return fmt.Errorf("requeue failed notices: %w", err)
			}
			switch {
			case purging:
				return breach.Errorf(breach.ECONFLICT, "a purge of the campaign's personal data has begun: its failed notices can no longer be sent")
			case expired:
				return breach.Errorf(breach.ECONFLICT, "the campaign's retention period is over: its personal data is due for deletion, and its failed notices are not sent again")
			}
		}
		tag, err := tx.Exec(ctx, `
			UPDATE deliveries d SET state = 'queued', attempts = 0, next_attempt_at = now(), worker_id = NULL,
				source = 'operator', updated_at = now()
			WHERE d.campaign_id = $1 AND d.channel = $2 AND d.state = 'failed' AND d.error <> $3
				AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.campaign_id = $1 AND o.recipient_id = d.recipient_id
					AND o.state IN ('queued', 'sending', 'sent', 'delivered', 'pending', 'printed', 'mailed'))`, uid, ch, cancelledError)
		if err != nil {
			return fmt.Errorf("requeue failed notices: %w", err)
		}
		n = tag.RowsAffected()
		reopened := reopen && n > 0
		if reopened {
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET state = 'running', finished_at = NULL, updated_at = now() WHERE id = $1`, uid); err != nil {
				return fmt.Errorf("run the campaign again: %w", err)
			}
		}
		if err := audit(ctx, tx, actor, breach.ActionCampaignRequeue, c.ID, map[string]any{"channel": ch, "requeued": n, "reopened": reopened}); err != nil {
			return err
		}
		return notifyWorkers(ctx, tx, uid)
	})
	return n, err
}

// notifyWorkers tells the listening workers, at tx's commit, that campaign uid has moved or
// has notices to send again (ListenCampaigns).
func notifyWorkers(ctx context.Context, tx pgx.Tx, uid uuid.UUID) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, CampaignsChannel, uid.String()); err != nil {
		return fmt.Errorf("notify workers: %w", err)
	}
	return nil
}

// moveCampaign is MoveCampaign, with more to say in the audit row (why, when not a person's
// request).
func (db *DB) moveCampaign(ctx context.Context, id, actor string, from, to breach.CampaignState, why map[string]any) (*breach.Campaign, error) {
	return db.underCampaignLock(ctx, id, func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
		if from != "" && c.State != from {
			return breach.Errorf(breach.ECONFLICT, "the campaign is %s, not %s", c.State, from)
		}
		from := c.State
		if err := from.Move(to); err != nil {
			return err
		}
		action := breach.ActionOfMove(from, to)
		switch {
		case from == breach.CampaignApproved && to == breach.CampaignRunning:
			if err := createDeliveryPartitions(ctx, tx, uid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET started_by = $2, started_at = now() WHERE id = $1`, uid, actor); err != nil {
				return fmt.Errorf("start campaign: %w", err)
			}
		case to == breach.CampaignCancelled && c.StartedAt != nil:
			if err := settleCancelled(ctx, tx, uid, c); err != nil {
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
		detail := map[string]any{"from": from, "to": to}
		maps.Copy(detail, why)
		if err := audit(ctx, tx, actor, action, c.ID, detail); err != nil {
			return err
		}
		return notifyWorkers(ctx, tx, uid)
	})
}

// createDeliveryPartitions creates a campaign's partitions of deliveries and delivery_events.
// They are made as tables of their own, then attached: CREATE TABLE … PARTITION OF would take
// an exclusive lock on the parent and queue every worker of every campaign behind it, ATTACH
// takes one that lets them go on.
//
// A delivery is written three times on its way to sent: inserted queued, claimed, recorded.
// fillfactor 25 leaves room on each page for both updates of every row (a row is ~200 bytes:
// ten rows and their twenty later versions fit in 8 KB), so that they are HOT — no index entry,
// no lock record for a move to another page — without waiting for a prune: at 70,
// two thirds of the updates moved pages and a notice wrote 1.4 KB of WAL; at 25, none did and it wrote
// 1.06 KB (cmd/bnbench). The price is a partition about 2.8 times larger on disk (~0.8 GB per
// million deliveries, against ~0.3); WAL is what the send path waits on (WALWrite and WALSync
// are half of its samples).
func createDeliveryPartitions(ctx context.Context, tx pgx.Tx, uid uuid.UUID) error {
	for _, t := range []struct{ parent, name, with string }{
		{"deliveries", deliveriesPartition(uid), " WITH (fillfactor = 25)"},
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
func settleCancelled(ctx context.Context, tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
	if _, err := tx.Exec(ctx, `
		UPDATE deliveries SET state = 'failed', error = $2, source = 'operator', updated_at = now(), not_before = NULL
		WHERE campaign_id = $1 AND state = 'queued'`, uid, cancelledError); err != nil {
		return fmt.Errorf("fail queued deliveries: %w", err)
	}
	var through int64
	if err := tx.QueryRow(ctx, `SELECT planned_through FROM campaigns WHERE id = $1`, uid).Scan(&through); err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	if _, _, err := planRows(ctx, tx, uid, c, through, 0, breach.DeliveryFailed, "operator", cancelledError); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE campaigns SET planned = true WHERE id = $1`, uid); err != nil {
		return fmt.Errorf("mark planned: %w", err)
	}
	return nil
}

// CampaignStatus returns a campaign's deliveries counted by channel, state and the locale of
// their notice (recipients the planner has not reached yet counted as pending on the channel
// and in the locale they will get), and the send rate over the last rateWindow.
//
// It is polled while campaigns send (the console, the status benchmark at 200 requests/s), so
// it reads counters, never the deliveries or their events: the campaign's row, its
// delivery_counts rows (a few hundred at most: channel × state × locale × shard) and its
// delivery_rates rows of the last seconds, in one round trip. Only while the planner is still
// creating deliveries does it count the unplanned recipients (an index range of recipients,
// gone within seconds of the start).
func (db *DB) CampaignStatus(ctx context.Context, id string) (*breach.CampaignStatus, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	// Once planned (nearly all of a campaign's life), the status is one round trip.
	s, complete, err := db.campaignStatus(ctx, db.pool, uid, id, false)
	if err != nil || complete {
		return s, err
	}
	// While planning, the unplanned recipients are counted too, in the same snapshot as the
	// rest: a planner step committing between two reads would count its recipients twice.
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	defer tx.Rollback(ctx)
	s, _, err = db.campaignStatus(ctx, tx, uid, id, true)
	return s, err
}

// statusReader is what a pool and a transaction share for CampaignStatus.
type statusReader interface {
	querier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// campaignStatus reads a campaign's status through q. complete is false when the campaign's
// unplanned recipients must be counted too and withPending did not ask for them.
func (db *DB) campaignStatus(ctx context.Context, q statusReader, uid uuid.UUID, id string, withPending bool) (s *breach.CampaignStatus, complete bool, err error) {
	var (
		state   breach.CampaignState
		spec    breach.Campaign // its locales and channel policy
		total   int64
		through int64
		planned bool
		counts  []deliveryCount
		sent    int64
	)
	b := &pgx.Batch{}
	var merged, shared [3]int64 // of mergedChannels
	b.Queue(`SELECT state, spec, recipients, planned_through, planned, merged_email, merged_sms, merged_letter,
			shared_email, shared_sms, shared_letter
		FROM campaigns WHERE id = $1`, uid).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&state, &spec, &total, &through, &planned, &merged[0], &merged[1], &merged[2], &shared[0], &shared[1], &shared[2])
			if errors.Is(err, pgx.ErrNoRows) {
				return breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
			}
			if err != nil {
				return fmt.Errorf("read campaign: %w", err)
			}
			return nil
		})
	b.Queue(`SELECT channel, state, locale, sum(n) FROM delivery_counts WHERE campaign_id = $1 GROUP BY channel, state, locale`, uid).
		Query(func(rows pgx.Rows) error {
			var err error
			if counts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[deliveryCount]); err != nil {
				return fmt.Errorf("read delivery counts: %w", err)
			}
			return nil
		})
	b.Queue(`SELECT coalesce(sum(sent), 0) FROM delivery_rates WHERE campaign_id = $1 AND second > now() - $2::interval`,
		uid, rateWindow.String()).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&sent); err != nil {
			return fmt.Errorf("measure send rate: %w", err)
		}
		return nil
	})
	var (
		dups   int64
		quiet  breach.QuietWait
		relays []breach.RelayCount
		wc     breach.WorkerCount
	)
	queuePossibleDuplicates(b, uid, &dups)
	queueWorkerCount(b, uid, &wc)
	db.queueQuietWait(b, uid, &quiet)
	queueRelayCounts(b, uid, &relays)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, fmt.Errorf("read status: %w", err)
	}
	needPending := !planned && state != breach.CampaignCancelled
	if needPending && !withPending {
		return nil, false, nil
	}
	s = breach.NewCampaignStatus(state, spec.Locales...)
	if total == 0 { // not approved yet: the list may still change
		if err := q.QueryRow(ctx, `SELECT count(*) FROM recipients WHERE campaign_id = $1`, uid).Scan(&total); err != nil {
			return nil, false, fmt.Errorf("count recipients: %w", err)
		}
	}
	s.Total, s.PossibleDuplicates, s.QuietHours, s.Relays = total, dups, quiet, relays
	s.Merged, s.Shared = channelCounts(merged), channelCounts(shared)
	if state == breach.CampaignRunning {
		s.Workers = &wc
	}
	if state == breach.CampaignPaused {
		// The latest pause, when the engine made it: the operator must learn why from here.
		err := q.QueryRow(ctx, `SELECT coalesce((SELECT CASE WHEN actor = 'system' THEN detail->>'reason' END
			FROM audit_log WHERE campaign_id = $1 AND action = $2 ORDER BY id DESC LIMIT 1), '')`,
			uid, breach.ActionCampaignPause).Scan(&s.PausedBecause)
		if err != nil {
			return nil, false, fmt.Errorf("read why the campaign is paused: %w", err)
		}
	}
	for _, c := range counts {
		s.Add(c.Locale, c.Channel, c.State, c.N)
	}
	if needPending {
		if err := db.pending.add(ctx, q, uid, &spec, state, through, s); err != nil {
			return nil, false, err
		}
	}
	if err := db.owed.addPending(ctx, q, uid, &spec, state, s); err != nil {
		return nil, false, err
	}
	s.RatePerSec = float64(sent) / rateWindow.Seconds()
	if left := s.Remaining(); left > 0 && s.RatePerSec > 0 && state == breach.CampaignRunning {
		eta := float64(left) / s.RatePerSec
		s.ETASeconds = &eta
	}
	return s, true, nil
}

// deliveryCount is one row of a campaign's delivery_counts, its shards summed.
type deliveryCount struct {
	Channel breach.Channel
	State   breach.DeliveryState
	Locale  string
	N       int64
}

// channelCounts is a count per channel of mergedChannels as the status gives it: nil when all
// are nought, else every channel's, nought or not.
func channelCounts(n [3]int64) map[breach.Channel]int64 {
	if n == [3]int64{} {
		return nil
	}
	m := make(map[breach.Channel]int64, len(mergedChannels))
	for i, ch := range mergedChannels {
		m[ch] = n[i]
	}
	return m
}
