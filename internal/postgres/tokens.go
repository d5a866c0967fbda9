package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Operator API tokens (api_tokens, migrations 00001 and 00007). Only a SHA-256 hash of each
// token is stored.

// CreateToken stores an operator token's hash under a unique name, bound to no user: it acts
// as "token:<name>" (see breach.Token).
func (db *DB) CreateToken(ctx context.Context, name string, hash []byte) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash) VALUES ($1, $2)`, name, hash)
	return tokenInsertError(name, err)
}

// CreateUserToken stores an operator token's hash under a unique name, bound to the console
// user with the given login: it acts as that user, with their roles. An unknown login is an
// ENOTFOUND error, a disabled user an ECONFLICT one.
func (db *DB) CreateUserToken(ctx context.Context, name, login string, hash []byte) error {
	login, err := breach.ParseLogin(login)
	if err != nil {
		return err
	}
	var (
		userID   int64
		disabled bool
	)
	err = db.pool.QueryRow(ctx, `SELECT id, disabled FROM users WHERE login = $1`, login).Scan(&userID, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return breach.Errorf(breach.ENOTFOUND, "no user with login %q (breachnotice user add creates one)", login)
	}
	if err != nil {
		return fmt.Errorf("select user: %w", err)
	}
	if disabled {
		return breach.Errorf(breach.ECONFLICT, "user %q is disabled", login)
	}
	// A user disabled from here on is no matter: TokenByHash checks at every use.
	_, err = db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash, user_id) VALUES ($1, $2, $3)`, name, hash, userID)
	return tokenInsertError(name, err)
}

func tokenInsertError(name string, err error) error {
	if isUniqueViolation(err) {
		return breach.Errorf(breach.ECONFLICT, "a token named %q already exists", name)
	}
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// TokenByHash returns the live token with the given hash and the user it is bound to, and
// records its use. It fails with EUNAUTHORIZED when no live token has that hash, and when the
// token's user is disabled: disabling a user stops their tokens at once.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*breach.Token, error) {
	var (
		t     breach.Token
		id    *int64
		login *string
		name  *string
		roles []breach.Role
	)
	err := db.pool.QueryRow(ctx, `
		WITH used AS (
			UPDATE api_tokens SET last_used_at = now()
			WHERE hash = $1 AND revoked_at IS NULL
				AND (user_id IS NULL OR user_id IN (SELECT id FROM users WHERE NOT disabled))
			RETURNING name, user_id)
		SELECT used.name, u.id, u.login, u.display_name, u.roles
		FROM used LEFT JOIN users u ON u.id = used.user_id`, hash).Scan(&t.Name, &id, &login, &name, &roles)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.EUNAUTHORIZED, "invalid or revoked token")
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if id != nil {
		t.User = &breach.User{ID: *id, Login: *login, DisplayName: *name, Roles: roles}
	}
	return &t, nil
}

// RotateToken stores hash under name, replacing (and so revoking) any earlier token of that
// name; the new one is bound to no user. `breachnotice run` uses it to hand out a fresh demo
// token at every start.
func (db *DB) RotateToken(ctx context.Context, name string, hash []byte) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_tokens (name, hash) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, user_id = NULL, created_at = now(),
			last_used_at = NULL, revoked_at = NULL`, name, hash)
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	return nil
}
