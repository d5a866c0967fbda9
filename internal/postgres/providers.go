package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// ApplyReport applies a provider's report to one delivery, found by its primary key, and
// reports whether the delivery's state changed. A delivery that does not exist (a purged
// campaign, a recipient removed) is an ENOTFOUND error.
//
// Reports arrive late, twice and out of order: the state changes only when
// breach.ReportStates allows it from the current one (so a duplicate changes nothing and
// writes no second event, and a late "delivered" never overwrites a bounce). The change is
// recorded with source 'webhook' and the provider's code in error, and the triggers write its
// event. r.Suppress puts the delivery's own address on the suppression list, whether or not
// the state changed (a second complaint adds nothing: the first suppression is kept).
//
// When a report settles a delivery as bounced, failed or suppressed, the campaign's policy
// falls back to the other channel, and the campaign is still running or paused, the customer's
// other channel is queued as the engine does it (queueFallbacks); the workers' reconciler finds
// it and sends it (at once if running, after the resume if paused). A completed or cancelled
// campaign gets no fallback: it is over, and its record shows the bounce for an operator to act
// on, rather than a finished campaign quietly sending again.
func (db *DB) ApplyReport(ctx context.Context, r breach.Report) (changed bool, err error) {
	uid, err := parseID("campaign", r.CampaignID)
	if err != nil {
		return false, err
	}
	var from []string
	if r.State != "" {
		states := breach.ReportStates(r.State)
		if states == nil {
			return false, fmt.Errorf("apply report: a report cannot set a delivery %s", r.State)
		}
		for _, s := range states {
			from = append(from, string(s))
		}
	}
	settles := r.State != "" && r.State != breach.DeliveryDelivered
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	// A report that may queue a fallback locks the campaign first, in the order MoveCampaign
	// takes its locks (campaign, then deliveries): a cancellation settling the queued
	// deliveries meanwhile would otherwise deadlock with it, or miss the fallback it queues.
	var fallback bool
	if settles {
		if fallback, err = fallsBack(ctx, tx, r.CampaignID); err != nil {
			return false, err
		}
	}
	var address *string
	err = tx.QueryRow(ctx, `
		WITH moved AS (
			UPDATE deliveries SET state = $4, error = $5, source = 'webhook', worker_id = NULL, updated_at = now(),
				provider_id = CASE WHEN provider_id = '' THEN $6 ELSE provider_id END
			WHERE campaign_id = $1 AND recipient_id = $2 AND channel = $3 AND state = ANY ($7::text[])
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM moved), CASE WHEN d.channel = 'email' THEN r.email ELSE r.phone END
		FROM deliveries d JOIN recipients r ON r.campaign_id = $1 AND r.id = $2
		WHERE d.campaign_id = $1 AND d.recipient_id = $2 AND d.channel = $3`,
		uid, r.RecipientID, r.Channel, r.State, r.Error, r.ProviderID, from,
	).Scan(&changed, &address)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, breach.Errorf(breach.ENOTFOUND, "no such delivery")
	}
	if err != nil {
		return false, fmt.Errorf("apply report: %w", err)
	}
	if r.Suppress && address != nil {
		if _, err := tx.Exec(ctx, `
			INSERT INTO suppressions (channel, address, source, reason, campaign_id) VALUES ($1, $2, 'webhook', $3, $4)
			ON CONFLICT DO NOTHING`, r.Channel, *address, r.Error, uid); err != nil {
			return false, fmt.Errorf("apply report: suppress: %w", err)
		}
	}
	if changed && settles && fallback {
		if _, err := queueFallbacks(ctx, tx, r.CampaignID, r.Channel.Other(), []int64{r.RecipientID}); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit report: %w", err)
	}
	return changed, nil
}

// fallsBack locks a campaign against moves (FOR SHARE) and reports whether a delivery of it
// that a provider settles now gets the other channel: its policy falls back and it is running
// or paused.
func fallsBack(ctx context.Context, tx pgx.Tx, campaignID string) (bool, error) {
	var (
		state  breach.CampaignState
		policy breach.ChannelPolicy
	)
	err := tx.QueryRow(ctx, `SELECT state, coalesce(spec->>'channels', '') FROM campaigns WHERE id = $1 FOR SHARE`,
		campaignID).Scan(&state, &policy)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, breach.Errorf(breach.ENOTFOUND, "no such delivery")
	}
	if err != nil {
		return false, fmt.Errorf("apply report: read campaign: %w", err)
	}
	return policy.FallsBack() && (state == breach.CampaignRunning || state == breach.CampaignPaused), nil
}

// SuppressAddress puts an address on channel ch's suppression list at its owner's request
// outside any campaign — an SMS STOP reply names a number, not a notice — so that no campaign
// sends to it any more. Suppressing an address twice keeps the first record.
func (db *DB) SuppressAddress(ctx context.Context, ch breach.Channel, address, source, reason string) error {
	if _, err := db.pool.Exec(ctx, `
		INSERT INTO suppressions (channel, address, source, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, ch, address, source, reason); err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	return nil
}
