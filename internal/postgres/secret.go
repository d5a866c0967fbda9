package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// BindSecret checks that fingerprint is the one of the secret this database's records are
// keyed with (migration 00022), and records it, on behalf of by, when none is recorded yet. A
// database that holds reference codes but no fingerprint (one a previous release filled) is
// bound only to a secret whose codes are those: fits is asked about one stored code. A
// different secret is EINVALID, saying when and by whom the database was bound.
//
// A database whose migrations are behind (no secret_binding table yet: serve starts before the
// migration job has run, and its readiness holds traffic back) is not checked: the check waits
// for the next process that starts once it has.
func (db *DB) BindSecret(ctx context.Context, fingerprint []byte, by string, fits func(campaignID, customerID string, refKey int64) bool) error {
	bound, err := db.boundSecret(ctx)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return nil
	}
	if err != nil {
		return err
	}
	if bound == nil {
		var (
			cid      uuid.UUID
			customer string
			key      int64
		)
		err := db.pool.QueryRow(ctx, `SELECT campaign_id, customer_id, ref_key FROM recipients WHERE ref_key IS NOT NULL LIMIT 1`).
			Scan(&cid, &customer, &key)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read a stored reference code: %w", err)
		case !fits(cid.String(), customer, key):
			return breach.Errorf(breach.EINVALID, "BREACHNOTICE_SECRET is not the secret this database's reference codes were made with: "+sameSecret)
		}
		if _, err := db.pool.Exec(ctx, `INSERT INTO secret_binding (fingerprint, bound_by) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			fingerprint, by); err != nil {
			return fmt.Errorf("record the secret's fingerprint: %w", err)
		}
		if bound, err = db.boundSecret(ctx); err != nil { // another process may have bound it first
			return err
		}
		if bound == nil {
			return errors.New("record the secret's fingerprint: no row after the insert")
		}
	}
	if subtle.ConstantTimeCompare(bound.fingerprint, fingerprint) != 1 {
		return breach.Errorf(breach.EINVALID, "BREACHNOTICE_SECRET is not the secret this database's records are keyed with (the one %s first used, %s): %s",
			bound.by, bound.at.UTC().Format(time.RFC3339), sameSecret)
	}
	return nil
}

// sameSecret is what a refused secret's error asks for.
const sameSecret = "reference codes, opt-out links and proofs made with one are refused under the other. Give every process — serve, worker, run and the command line — the same BREACHNOTICE_SECRET"

type secretBinding struct {
	fingerprint []byte
	at          time.Time
	by          string
}

// boundSecret returns the database's recorded secret fingerprint, nil when none is recorded.
func (db *DB) boundSecret(ctx context.Context) (*secretBinding, error) {
	var b secretBinding
	err := db.pool.QueryRow(ctx, `SELECT fingerprint, bound_at, bound_by FROM secret_binding`).Scan(&b.fingerprint, &b.at, &b.by)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the secret's fingerprint: %w", err)
	}
	return &b, nil
}
