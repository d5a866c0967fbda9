package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Operator API tokens (api_tokens, migrations 00001 and 00007). Only a SHA-256 hash of each
// token is stored.

// CreateToken stores an operator token's hash under a unique name, bound to the console user
// with the given login unless it is empty (it then acts as "token:<name>", see breach.Token),
// valid until expires (for ever when zero). An unknown login is an ENOTFOUND error, a disabled
// user an ECONFLICT one.
func (db *DB) CreateToken(ctx context.Context, name, login string, hash []byte, expires time.Time) error {
	var exp *time.Time
	if !expires.IsZero() {
		exp = &expires
	}
	// Names are actors' names ("token:<name>" in the audit log): Alice and alice were two
	// actors a reader takes for one (a review). The same name is refused by its unique key.
	var other string
	err := db.pool.QueryRow(ctx, `SELECT name FROM api_tokens WHERE lower(name) = lower($1) AND name <> $1 LIMIT 1`, name).Scan(&other)
	if err == nil {
		return breach.Errorf(breach.ECONFLICT, "a token named %q exists: token names must differ in more than their letter case", other)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("look for a token of that name: %w", err)
	}
	if login == "" {
		_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash, expires_at) VALUES ($1, $2, $3)`, name, hash, exp)
		return tokenInsertError(name, err)
	}
	login, err = breach.ParseLogin(login)
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
	_, err = db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash, user_id, expires_at) VALUES ($1, $2, $3, $4)`, name, hash, userID, exp)
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

// CachedToken is TokenByHash from the cache alone (see tokenCache): no query.
func (db *DB) CachedToken(hash []byte) (*breach.Token, bool) {
	return db.tokens.get(hash, time.Now())
}

// TokenByHash returns the live token with the given hash and the user it is bound to, and
// notes its use (at most once a minute per token: a write per request would cost every API
// call a WAL flush). It fails with EUNAUTHORIZED when no live token has that hash — unknown,
// revoked or expired — and when the token's user is disabled: disabling a user or revoking a
// token stops it at once. While CacheTokens runs, a token found live is answered from memory
// for a minute at most, until its expiry, or until any token or user changes.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*breach.Token, error) {
	if t, ok := db.tokens.get(hash, time.Now()); ok {
		return t, nil
	}
	gen, caching := db.tokens.generation()
	var (
		t       breach.Token
		tokenID int64
		used    *time.Time
		expires *time.Time
		id      *int64
		login   *string
		name    *string
		roles   []breach.Role
	)
	err := db.pool.QueryRow(ctx, `
		SELECT t.id, t.name, t.last_used_at, t.expires_at, u.id, u.login, u.display_name, u.roles
		FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
			AND (t.user_id IS NULL OR NOT u.disabled)`, hash).Scan(&tokenID, &t.Name, &used, &expires, &id, &login, &name, &roles)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.EUNAUTHORIZED, "invalid, expired or revoked token")
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if used == nil || time.Since(*used) > time.Minute {
		if _, err := db.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, tokenID); err != nil {
			return nil, fmt.Errorf("note token use: %w", err)
		}
	}
	if id != nil {
		t.User = &breach.User{ID: *id, Login: *login, DisplayName: *name, Roles: roles}
	}
	if caching {
		db.tokens.put(hash, gen, tokenEntry{token: t, expires: expires, read: time.Now()})
	}
	return &t, nil
}

// Tokens lists the operator tokens, newest first, revoked and expired ones included; only
// those bound to the user login when it is not empty.
func (db *DB) Tokens(ctx context.Context, login string) ([]breach.TokenInfo, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT t.name, coalesce(u.login, ''), t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
			coalesce(u.disabled, false)
		FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
		WHERE $1 = '' OR u.login = $1
		ORDER BY t.created_at DESC, t.id DESC`, login)
	if err != nil {
		return nil, fmt.Errorf("select tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.TokenInfo, error) {
		var t breach.TokenInfo
		err := row.Scan(&t.Name, &t.User, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt, &t.UserDisabled)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("select tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the live token named name — of the user login only, when it is not
// empty — at once: TokenByHash refuses it from now on. ENOTFOUND when there is no such live
// token.
func (db *DB) RevokeToken(ctx context.Context, name, login string) error {
	tag, err := db.pool.Exec(ctx, `
		UPDATE api_tokens SET revoked_at = now()
		WHERE name = $1 AND revoked_at IS NULL
			AND ($2 = '' OR user_id = (SELECT id FROM users WHERE login = $2))`, name, login)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return breach.Errorf(breach.ENOTFOUND, "no live token named %q", breach.QuoteText(name))
	}
	return nil
}

// RotateToken stores hash under name, replacing (and so revoking) any earlier token of that
// name; the new one is bound to no user. `breachnotice run` uses it to hand out a fresh demo
// token at every start.
func (db *DB) RotateToken(ctx context.Context, name string, hash []byte) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_tokens (name, hash) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, user_id = NULL, created_at = now(),
			last_used_at = NULL, revoked_at = NULL, expires_at = NULL`, name, hash)
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	return nil
}
