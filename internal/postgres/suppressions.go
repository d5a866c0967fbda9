package postgres

import (
	"context"
	"fmt"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Suppress puts an address on the suppression list of channel ch: no notice is sent to it any
// more, by any campaign (the workers check the list when they claim). The address is kept as
// given; the claim matches it in any letter case (Maria@Ex.com suppresses maria@ex.com, see
// migration 00009). Suppressing an address twice keeps the first record.
func (db *DB) Suppress(ctx context.Context, ch breach.Channel, address, source, reason, campaignID string) error {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `
		INSERT INTO suppressions (channel, address, source, reason, campaign_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, ch, address, source, reason, cid); err != nil {
		return fmt.Errorf("suppress: %w", err)
	}
	return nil
}
