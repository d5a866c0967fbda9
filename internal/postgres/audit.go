package postgres

import (
	"context"
	"encoding/json"
	"fmt"
)

// Audit appends an operator action to the audit log. detail must hold no customer's personal
// data (counts and IDs, not names or addresses).
func (db *DB) Audit(ctx context.Context, actor, action, campaignID string, detail map[string]any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	var cid any
	if campaignID != "" {
		cid = campaignID
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_log (actor, action, campaign_id, detail) VALUES ($1, $2, $3, $4)`,
		actor, action, cid, d); err != nil {
		return fmt.Errorf("insert audit row: %w", err)
	}
	return nil
}
