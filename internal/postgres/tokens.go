package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CreateToken stores an operator token's hash under a unique name.
func (db *DB) CreateToken(ctx context.Context, name string, hash []byte) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash) VALUES ($1, $2)`, name, hash)
	if isUniqueViolation(err) {
		return breach.Errorf(breach.ECONFLICT, "a token named %q already exists", name)
	}
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// TokenName returns the name of the live token with the given hash, and records its use. It
// fails with EUNAUTHORIZED when no live token has that hash.
func (db *DB) TokenName(ctx context.Context, hash []byte) (string, error) {
	var name string
	err := db.pool.QueryRow(ctx, `
		UPDATE api_tokens SET last_used_at = now()
		WHERE hash = $1 AND revoked_at IS NULL
		RETURNING name`, hash).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", breach.Errorf(breach.EUNAUTHORIZED, "invalid or revoked token")
	}
	if err != nil {
		return "", fmt.Errorf("look up token: %w", err)
	}
	return name, nil
}

// RotateToken stores hash under name, replacing (and so revoking) any earlier token of that
// name. `breachnotice run` uses it to hand out a fresh demo token at every start.
func (db *DB) RotateToken(ctx context.Context, name string, hash []byte) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_tokens (name, hash) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, created_at = now(),
			last_used_at = NULL, revoked_at = NULL`, name, hash)
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	return nil
}
