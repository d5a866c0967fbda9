package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// BindSecret checks that fingerprint is the one of the secret this database's records are
// keyed with (migration 00022) and, when none is recorded yet and mayBind, records it on behalf
// of by. A database that holds reference codes but no fingerprint (one a previous release
// filled) is bound only to a secret that made them: fits is asked about one stored code of
// each campaign, and every one must fit. A different secret is EINVALID, saying when and by
// whom the database was bound; so is an unbound database when !mayBind (the command line's
// demo secret binds nothing: a stray command must not bind a deployment's database to a
// laptop's key).
//
// bound is false, with no error, for a database whose migrations are behind (no
// secret_binding table yet: serve starts before the migration job has run, and its readiness
// holds traffic back): the caller asks again later. Such a database's stored reference codes
// are checked all the same, reading only, so that a process with another secret is refused
// before anything changes the database — `run` migrates it after this check.
func (db *DB) BindSecret(ctx context.Context, fingerprint []byte, by string, mayBind bool,
	fits func(campaignID, customerID string, refKey int64) bool) (bound bool, err error) {
	b, err := db.boundSecret(ctx)
	if undefinedTable(err) {
		// Reference codes are stored since migration 13; before, there is nothing to check.
		var codes bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'recipients' AND column_name = 'ref_key')`).Scan(&codes); err != nil {
			return false, fmt.Errorf("look for stored reference codes: %w", err)
		}
		if codes {
			if err := db.storedCodesFit(ctx, fits); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if b == nil {
		if !mayBind {
			return false, breach.Errorf(breach.EINVALID, "no process with a BREACHNOTICE_SECRET has used this database yet, and this one has none of its own")
		}
		if err := db.storedCodesFit(ctx, fits); err != nil {
			return false, err
		}
		if err := db.recordBinding(ctx, fingerprint, by); err != nil {
			return false, err
		}
		if b, err = db.boundSecret(ctx); err != nil { // another process may have bound it first
			return false, err
		}
		if b == nil {
			return false, errors.New("record the secret's fingerprint: no row after the insert")
		}
	}
	if subtle.ConstantTimeCompare(b.fingerprint, fingerprint) != 1 {
		return false, breach.Errorf(breach.EINVALID, "BREACHNOTICE_SECRET is not the secret this database's records are keyed with (the one %s first used, %s): %s",
			breach.Clip(b.by), b.at.UTC().Format(time.RFC3339), sameSecret)
	}
	return true, nil
}

// undefinedTable reports whether err is PostgreSQL's answer about a table that does not exist
// yet: a database whose migrations are behind.
func undefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// recordBinding records fingerprint as the database's secret, with its audit row, unless
// another process recorded one first.
func (db *DB) recordBinding(ctx context.Context, fingerprint []byte, by string) error {
	return db.inTx(ctx, "record the secret's fingerprint", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO secret_binding (fingerprint, bound_by) VALUES ($1, $2) ON CONFLICT DO NOTHING`, fingerprint, by)
		if err != nil {
			return fmt.Errorf("record the secret's fingerprint: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return audit(ctx, tx, by, breach.ActionSecretBind, "", nil)
		}
		return nil
	})
}

// storedCodesFit asks fits about the first and the last stored reference code of each
// campaign that has any — its first list's and its latest import's, recipients being numbered
// as they are imported — and refuses the secret unless every one fits: codes made with two
// secrets (a list imported from a command line that fell back to a demo secret, then again
// under the deployment's) have no one secret to bind, and which one is right is a person's
// call.
func (db *DB) storedCodesFit(ctx context.Context, fits func(campaignID, customerID string, refKey int64) bool) error {
	var checked, others []string
	rows, err := db.pool.Query(ctx, `
		SELECT c.id, r.customer_id, r.ref_key FROM campaigns c
		CROSS JOIN LATERAL (
			(SELECT customer_id, ref_key FROM recipients
				WHERE campaign_id = c.id AND ref_key IS NOT NULL ORDER BY id LIMIT 1)
			UNION ALL
			(SELECT customer_id, ref_key FROM recipients
				WHERE campaign_id = c.id AND ref_key IS NOT NULL ORDER BY id DESC LIMIT 1)) r
		ORDER BY c.created_at, c.id`)
	if err != nil {
		return fmt.Errorf("read the stored reference codes: %w", err)
	}
	var (
		cid      uuid.UUID
		customer string
		key      int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&cid, &customer, &key}, func() error {
		id := cid.String()
		if len(checked) == 0 || checked[len(checked)-1] != id {
			checked = append(checked, id)
		}
		if !fits(id, customer, key) && (len(others) == 0 || others[len(others)-1] != id) {
			others = append(others, id)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read the stored reference codes: %w", err)
	}
	switch {
	case len(others) == 0:
		return nil
	case len(others) == len(checked):
		return breach.Errorf(breach.EINVALID, "BREACHNOTICE_SECRET is not the secret this database's reference codes were made with: "+sameSecret)
	}
	return breach.Errorf(breach.EINVALID, "the reference codes of %d of this database's %d campaigns with codes were made with another secret than BREACHNOTICE_SECRET (%s): their notices' codes will not verify. Re-import their lists under the deployment's secret, or choose which secret is the deployment's; nothing is bound until one fits them all",
		len(others), len(checked), strings.Join(others[:min(len(others), 5)], ", "))
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
