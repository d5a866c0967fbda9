package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Audit appends an operator action to the audit log. detail must hold no customer's personal
// data (counts and IDs, not names or addresses).
func (db *DB) Audit(ctx context.Context, actor, action, campaignID string, detail map[string]any) error {
	return audit(ctx, db.pool, actor, action, campaignID, detail)
}

// execer is what a pool and a transaction share for statements without rows.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// audit appends an audit row through q: inside a transaction, the action and its record commit
// together.
func audit(ctx context.Context, q execer, actor, action, campaignID string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	var cid any
	if campaignID != "" {
		cid = campaignID
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (actor, action, campaign_id, detail) VALUES ($1, $2, $3, $4)`,
		actor, action, cid, d); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
