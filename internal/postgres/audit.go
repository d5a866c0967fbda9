package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
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

// AuditLog returns the audit entries f selects, newest first. Pages are keyed on the entry ID
// (f.Before: the last ID of the previous page), so a page is an index range however long the
// log, and entries appended meanwhile never shift a page.
func (db *DB) AuditLog(ctx context.Context, f breach.AuditFilter) ([]breach.AuditEntry, error) {
	var cid *uuid.UUID
	if f.CampaignID != "" {
		u, err := uuid.Parse(f.CampaignID)
		if err != nil {
			return nil, breach.Errorf(breach.EINVALID, "campaign %q is not a campaign ID", f.CampaignID)
		}
		cid = &u
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	before := f.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.pool.Query(ctx, `
		SELECT id, at, actor, action, coalesce(campaign_id::text, ''), detail FROM audit_log
		WHERE id < $1 AND ($2::uuid IS NULL OR campaign_id = $2) AND ($3 = '' OR action = $3)
		ORDER BY id DESC LIMIT $4`, before, cid, f.Action, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.AuditEntry, error) {
		var e breach.AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.CampaignID, &e.Detail)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	return entries, nil
}
