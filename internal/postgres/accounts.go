package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// The web console's accounts: users, their sessions and failed sign-ins (migration 00006).

// CreateUser stores a new console user with the given password hash (package password makes
// it), and sets u's ID and creation time, with the audit row of actor's act in the same
// transaction. A login already taken is an ECONFLICT error.
func (db *DB) CreateUser(ctx context.Context, u *breach.User, passwordHash, actor string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, "create user", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO users (login, display_name, password_hash, roles) VALUES ($1, $2, $3, $4)
			RETURNING id, created_at`, u.Login, u.DisplayName, passwordHash, u.Roles,
		).Scan(&u.ID, &u.CreatedAt)
		if isUniqueViolation(err) {
			return breach.Errorf(breach.ECONFLICT, "a user with login %q already exists", u.Login)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return audit(ctx, tx, actor, breach.ActionUserCreate, "", map[string]any{"login": u.Login, "roles": u.Roles})
	})
}

// ResetUser creates u, or gives the existing user of that login u's display name and roles and
// a new password hash; their sessions end. A disabled user stays disabled (u.Disabled says so):
// an administrator's decision is not undone by a restart. `breachnotice run` uses it to hand
// out fresh demo credentials at every start.
func (db *DB) ResetUser(ctx context.Context, u *breach.User, passwordHash, actor string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, "reset user", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO users (login, display_name, password_hash, roles) VALUES ($1, $2, $3, $4)
			ON CONFLICT (login) DO UPDATE SET display_name = excluded.display_name,
				password_hash = excluded.password_hash, roles = excluded.roles, updated_at = now()
			RETURNING id, created_at, disabled`, u.Login, u.DisplayName, passwordHash, u.Roles,
		).Scan(&u.ID, &u.CreatedAt, &u.Disabled)
		if err != nil {
			return fmt.Errorf("reset user: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return audit(ctx, tx, actor, breach.ActionUserReset, "", map[string]any{"login": u.Login, "roles": u.Roles})
	})
}

// DisableUser stops a user from signing in and ends their sessions. An unknown login is an
// ENOTFOUND error.
func (db *DB) DisableUser(ctx context.Context, login, actor string) error {
	return db.inTx(ctx, "disable user", func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET disabled = true, updated_at = now() WHERE login = $1 RETURNING id`, login).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return breach.Errorf(breach.ENOTFOUND, "no user with login %q", login)
		}
		if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return audit(ctx, tx, actor, breach.ActionUserDisable, "", map[string]any{"login": login})
	})
}

const userColumns = `u.id, u.login, u.display_name, u.roles, u.disabled, u.created_at`

func scanUser(row pgx.CollectableRow) (*breach.User, error) {
	var u breach.User
	err := row.Scan(&u.ID, &u.Login, &u.DisplayName, &u.Roles, &u.Disabled, &u.CreatedAt)
	return &u, err
}

// UserForSignIn returns the user with the given login and their password hash, for checking
// a sign-in. An unknown login is an ENOTFOUND error; a disabled user is returned as such.
func (db *DB) UserForSignIn(ctx context.Context, login string) (*breach.User, string, error) {
	var (
		u    breach.User
		hash string
	)
	err := db.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.login = $1`, login).
		Scan(&u.ID, &u.Login, &u.DisplayName, &u.Roles, &u.Disabled, &u.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", breach.Errorf(breach.ENOTFOUND, "no user with login %q", login)
	}
	if err != nil {
		return nil, "", fmt.Errorf("select user: %w", err)
	}
	return &u, hash, nil
}

// CreateSession opens a session for a user under the SHA-256 hash of its cookie value. It
// ends after ttl, or after idle without use. Sessions that ended over a day ago are deleted
// on the way.
func (db *DB) CreateSession(ctx context.Context, userID int64, hash []byte, ttl, idle time.Duration) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM user_sessions WHERE expires_at < now() - interval '1 day'`); err != nil {
		return fmt.Errorf("delete ended sessions: %w", err)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO user_sessions (hash, user_id, expires_at, idle_timeout)
		VALUES ($1, $2, now() + make_interval(secs => $3), make_interval(secs => $4))`, hash, userID, ttl.Seconds(), idle.Seconds())
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser returns the enabled user of the live session with the given hash and records
// its use (which keeps it from idling out). Anything else — no such session, expired, idle
// too long, user disabled — is an EUNAUTHORIZED error.
func (db *DB) SessionUser(ctx context.Context, hash []byte) (*breach.User, error) {
	rows, err := db.pool.Query(ctx, `
		UPDATE user_sessions s SET last_seen_at = now()
		FROM users u
		WHERE s.hash = $1 AND u.id = s.user_id AND NOT u.disabled
			AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
		RETURNING `+userColumns, hash)
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.EUNAUTHORIZED, "your session has ended: please sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	return u, nil
}

// DeleteSession ends the session with the given hash (signing out); an unknown one is no
// error.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM user_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// RecordSignInAttempt counts a sign-in attempt as a failure against a login (by its keyed
// hash) from a client address before its password is checked, and returns the failures
// within the last window, this one included, of that login from that address and of the
// address for any login. Attempts from one address are counted one at a time (an advisory
// lock on the address), so a burst of parallel guesses sees the limit as a sequence would.
// A successful sign-in then forgets its failures (ClearSignInFailures). Failures older than a
// day are deleted on the way.
func (db *DB) RecordSignInAttempt(ctx context.Context, loginHash []byte, clientIP string, window time.Duration, maxPair, maxIP int) (byPair, byIP int, err error) {
	if _, err := db.pool.Exec(ctx, `DELETE FROM signin_failures WHERE at < now() - interval '1 day'`); err != nil {
		return 0, 0, fmt.Errorf("delete old sign-in failures: %w", err)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('signin:' || $1, 0))`, clientIP); err != nil {
		return 0, 0, fmt.Errorf("lock sign-in failures: %w", err)
	}
	err = tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE login_hash = $1), count(*)
		FROM signin_failures
		WHERE client_ip = $2 AND at > now() - make_interval(secs => $3)`, loginHash, clientIP, window.Seconds(),
	).Scan(&byPair, &byIP)
	if err != nil {
		return 0, 0, fmt.Errorf("count sign-in failures: %w", err)
	}
	byPair, byIP = byPair+1, byIP+1 // this attempt
	if byPair > maxPair || byIP > maxIP {
		return byPair, byIP, nil // refused unchecked: not recorded, the pause not lengthened
	}
	if _, err := tx.Exec(ctx, `INSERT INTO signin_failures (login_hash, client_ip) VALUES ($1, $2)`, loginHash, clientIP); err != nil {
		return 0, 0, fmt.Errorf("record sign-in attempt: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("commit: %w", err)
	}
	return byPair, byIP, nil
}

// ClearSignInFailures forgets the failed sign-ins of a login (by its keyed hash) from a client
// address, after it signed in successfully from there.
func (db *DB) ClearSignInFailures(ctx context.Context, loginHash []byte, clientIP string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM signin_failures WHERE login_hash = $1 AND client_ip = $2`, loginHash, clientIP); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}
