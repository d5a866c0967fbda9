package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// The enrolment code pool (migration 00012): the vendor's codes of a campaign and the customer
// each went to. Every write — a codes import, the end of a list import, an approval — holds the
// campaign's row lock and assigns with one set-based statement (assignCodes), so two of them
// never hand out the same free code; the unique keys on (campaign, code) and (campaign,
// recipient) are the backstop.

// spaces are the characters Go's strings.TrimSpace trims (unicode.IsSpace): the SQL rule of who
// has a list code must trim what the renderer's offerCodeOf trims.
const spaces = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

// listCodeOf is, in SQL, the trimmed list code of recipient r for the code column $2 (NULL
// when the row has none).
const listCodeOf = `btrim(r.attributes->>$2::text, '` + spaces + `')`

// needsPoolCode is, in SQL, whether recipient r gets a code from the pool: the campaign's code
// column ($2, empty when none) gives r no value that looks like a code — the renderer's rule
// (notice.offerCodeOf, breach.IsEnrolmentCode).
const needsPoolCode = `NOT ($2::text <> '' AND coalesce(` + listCodeIsCode + `, false))`

// listCodeIsCode is, in SQL, whether recipient r's list code looks like a code
// (breach.IsEnrolmentCode; NULL when the row has none).
const listCodeIsCode = listCodeOf + ` ~ '^[A-Za-z0-9][A-Za-z0-9-]{0,39}$'`

// assignStatement gives each recipient of campaign $1 who needs a pool code and has none a free
// code, in list order and the vendor's file order, skipping free codes that a customer's list
// code already uses. One statement: its snapshot sees every assignment committed before it,
// and the caller's campaign lock keeps any other from committing meanwhile.
const assignStatement = `
	WITH need AS MATERIALIZED (
		SELECT r.id, row_number() OVER (ORDER BY r.id) AS n
		FROM recipients r
		WHERE r.campaign_id = $1 AND r.purged_at IS NULL AND ` + needsPoolCode + `
			AND NOT EXISTS (SELECT 1 FROM enrolment_codes e WHERE e.campaign_id = $1 AND e.recipient_id = r.id)
	), listed AS MATERIALIZED (
		SELECT DISTINCT upper(` + listCodeOf + `) AS key FROM recipients r
		WHERE r.campaign_id = $1 AND $2::text <> '' AND r.attributes ? $2::text
	), free AS (
		SELECT f.code_key, row_number() OVER (ORDER BY f.seq) AS n
		FROM (SELECT e.code_key, e.seq FROM enrolment_codes e
			LEFT JOIN listed l ON l.key = e.code_key
			WHERE e.campaign_id = $1 AND e.recipient_id IS NULL AND l.key IS NULL
			ORDER BY e.seq LIMIT (SELECT count(*) FROM need)) f
	)
	UPDATE enrolment_codes e SET recipient_id = need.id, assigned_at = now()
	FROM need JOIN free ON free.n = need.n
	WHERE e.campaign_id = $1 AND e.code_key = free.code_key`

// releaseStatement frees, before an assignment, the pool codes a list imported since has made
// wrong: a code that is now some customer's list code (else two customers would hold it), and
// the code of a customer whose list row now gives a code of their own. Assignments are only
// made to drafts, before any notice is sent, so nothing sent ever changes.
const releaseStatement = `
	WITH listed AS MATERIALIZED (
		SELECT DISTINCT upper(` + listCodeOf + `) AS key FROM recipients r
		WHERE r.campaign_id = $1 AND $2::text <> '' AND r.attributes ? $2::text
	)
	UPDATE enrolment_codes e SET recipient_id = NULL, assigned_at = NULL
	WHERE e.campaign_id = $1 AND e.recipient_id IS NOT NULL AND $2::text <> ''
		AND (e.code_key IN (SELECT key FROM listed)
			OR e.recipient_id IN (SELECT r.id FROM recipients r WHERE r.campaign_id = $1 AND NOT (` + needsPoolCode + `)))`

// refreshPool writes the pool's counts (enrolment_code_pools) after an assignment.
const refreshPool = `
	INSERT INTO enrolment_code_pools AS p (campaign_id, size, assigned, missing, updated_at)
	SELECT $1, count(*), count(e.recipient_id),
		(SELECT count(*) FROM recipients r WHERE r.campaign_id = $1 AND r.purged_at IS NULL AND ` + needsPoolCode + `
			AND NOT EXISTS (SELECT 1 FROM enrolment_codes e WHERE e.campaign_id = $1 AND e.recipient_id = r.id)),
		now()
	FROM enrolment_codes e WHERE e.campaign_id = $1
	ON CONFLICT (campaign_id) DO UPDATE SET size = excluded.size, assigned = excluded.assigned,
		missing = excluded.missing, updated_at = excluded.updated_at
	RETURNING size, assigned, missing, updated_at`

// withoutNestedLoops runs fn's statements, in tx, with nested-loop joins off and room to hash
// and sort in memory (work_mem 32 MB, not spilling a pool of millions to disk), then puts the
// settings back. The pool's statements join sets of millions (codes, customers, list codes)
// that were just written in the same transaction, so the planner's statistics know nothing of
// them yet: believing a side tiny, it chose a nested loop that rescanned every customer for
// every code — over ten minutes for 200,000 codes — where hash joins take seconds.
func withoutNestedLoops(ctx context.Context, tx pgx.Tx, fn func() error) error {
	var nestloop, workMem string
	if err := tx.QueryRow(ctx, `SELECT current_setting('enable_nestloop'), current_setting('work_mem'),
		set_config('enable_nestloop', 'off', true), set_config('work_mem', '32MB', true)`).Scan(&nestloop, &workMem, new(string), new(string)); err != nil {
		return fmt.Errorf("plan the pool's statements: %w", err)
	}
	if err := fn(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('enable_nestloop', $1, true), set_config('work_mem', $2, true)`, nestloop, workMem); err != nil {
		return fmt.Errorf("plan the pool's statements: %w", err)
	}
	return nil
}

// sharedListCodesStatement counts, in campaign $1, the list codes of column $2 that more than
// one customer's row gives (codes as needsPoolCode reads them, compared as code_key does), and
// names a few of those customers.
const sharedListCodesStatement = `
	WITH shared AS (
		SELECT upper(` + listCodeOf + `) AS key, count(*) AS n, (array_agg(r.customer_id ORDER BY r.id))[1:3] AS ids
		FROM recipients r
		WHERE r.campaign_id = $1 AND r.purged_at IS NULL AND r.attributes ? $2::text
			AND ` + listCodeIsCode + `
		GROUP BY 1 HAVING count(*) > 1
	)
	SELECT count(*), coalesce(sum(n), 0),
		coalesce((SELECT array_agg(id) FROM (SELECT unnest(ids) AS id FROM (SELECT ids FROM shared ORDER BY key LIMIT 2) k) e), '{}')
	FROM shared`

// sharedListCodes returns the list codes several of campaign c's customers share (see
// breach.SharedListCodes), nil when its offer reads no code from the list.
func sharedListCodes(ctx context.Context, tx pgx.Tx, c *breach.Campaign) (*breach.SharedListCodes, error) {
	if c.Offer == nil || c.Offer.CodeAttribute == "" {
		return nil, nil
	}
	s := &breach.SharedListCodes{}
	err := withoutNestedLoops(ctx, tx, func() error {
		return tx.QueryRow(ctx, sharedListCodesStatement, c.ID, c.Offer.CodeAttribute).Scan(&s.Codes, &s.Customers, &s.Examples)
	})
	if err != nil {
		return nil, fmt.Errorf("look for list codes given to several customers: %w", err)
	}
	return s, nil
}

// codeColumn returns the campaign's offer code column (empty when none) and whether it has a pool.
func codeColumn(ctx context.Context, tx pgx.Tx, campaignID string) (column string, pooled bool, err error) {
	err = tx.QueryRow(ctx, `
		SELECT coalesce(c.spec->'offer'->>'code_attribute', ''),
			EXISTS (SELECT 1 FROM enrolment_code_pools p WHERE p.campaign_id = c.id)
		FROM campaigns c WHERE c.id = $1`, campaignID).Scan(&column, &pooled)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, breach.Errorf(breach.ENOTFOUND, "no campaign %q", campaignID)
	}
	if err != nil {
		return "", false, fmt.Errorf("read the campaign's code column: %w", err)
	}
	return column, pooled, nil
}

// assignCodes assigns free pool codes to the campaign's recipients who need one, in tx (which
// must hold the campaign's row lock), and returns how many were assigned and the pool after;
// nil and 0 when the campaign has no pool.
func assignCodes(ctx context.Context, tx pgx.Tx, campaignID string) (int64, *breach.CodePool, error) {
	column, pooled, err := codeColumn(ctx, tx, campaignID)
	if err != nil || !pooled {
		return 0, nil, err
	}
	var tag pgconn.CommandTag
	var p breach.CodePool
	err = withoutNestedLoops(ctx, tx, func() error {
		if _, err := tx.Exec(ctx, releaseStatement, campaignID, column); err != nil {
			return fmt.Errorf("release enrolment codes: %w", err)
		}
		if tag, err = tx.Exec(ctx, assignStatement, campaignID, column); err != nil {
			return fmt.Errorf("assign enrolment codes: %w", err)
		}
		if err := tx.QueryRow(ctx, refreshPool, campaignID, column).Scan(&p.Size, &p.Assigned, &p.Missing, &p.UpdatedAt); err != nil {
			return fmt.Errorf("count the enrolment code pool: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	p.Free = p.Size - p.Assigned
	return tag.RowsAffected(), &p, nil
}

// CodePool returns a campaign's enrolment code pool as last counted, nil when none was
// imported.
func (db *DB) CodePool(ctx context.Context, campaignID string) (*breach.CodePool, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	var p breach.CodePool
	err = db.pool.QueryRow(ctx, `SELECT size, assigned, missing, updated_at FROM enrolment_code_pools WHERE campaign_id = $1`, cid).
		Scan(&p.Size, &p.Assigned, &p.Missing, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the enrolment code pool: %w", err)
	}
	p.Free = p.Size - p.Assigned
	return &p, nil
}

// AssignCodes assigns free pool codes to the campaign's customers who need one, under the
// campaign's lock, and returns the pool after (nil without a pool).
func (db *DB) AssignCodes(ctx context.Context, campaignID string) (*breach.CodePool, error) {
	var pool *breach.CodePool
	_, err := db.underCampaignLock(ctx, campaignID, func(tx pgx.Tx, _ uuid.UUID, c *breach.Campaign) error {
		var err error
		_, pool, err = assignCodes(ctx, tx, c.ID)
		return err
	})
	return pool, err
}

// ImportCodes adds the codes next reads (until it reports no more) to a draft
// campaign's pool, under its row lock, and assigns them. The codes travel by COPY into a
// temporary table and are checked there in one pass, set-based, so a pool of millions imports
// in bounded memory: a code rejected by the reader (empty, not a code, an unreadable line) keeps
// its reason; a code seen on an earlier line of the file, already in the pool, or used by a
// customer's list code is rejected too, each with its line. ci (CampaignID, Filename,
// CreatedBy set) gets the counts, the first rejects and the pool after. Its audit row
// (breach.ActionCodesImport, by ci.CreatedBy) commits with it.
func (db *DB) ImportCodes(ctx context.Context, ci *breach.CodeImport, next func() (breach.PoolCode, bool, error)) error {
	cid, err := parseID("campaign", ci.CampaignID)
	if err != nil {
		return err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var state breach.CampaignState
	if err := tx.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1 FOR UPDATE`, cid).Scan(&state); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return breach.Errorf(breach.ENOTFOUND, "no campaign %q", ci.CampaignID)
		}
		return fmt.Errorf("lock campaign: %w", err)
	}
	if state != breach.CampaignDraft {
		return breach.Errorf(breach.ECONFLICT, "the campaign is %s; enrolment codes can only be imported into a draft campaign (its list and notices are frozen once approved)", state)
	}
	column, _, err := codeColumn(ctx, tx, ci.CampaignID)
	if err != nil {
		return err
	}
	for _, table := range []string{
		`CREATE TEMP TABLE code_staging (line bigint NOT NULL, code text COLLATE "C" NOT NULL, reason text) ON COMMIT DROP`,
		`CREATE TEMP TABLE code_rejects (line bigint NOT NULL, reason text NOT NULL) ON COMMIT DROP`,
	} {
		if _, err := tx.Exec(ctx, table); err != nil {
			return fmt.Errorf("create the codes' staging tables: %w", err)
		}
	}
	var readErr error
	read, err := copyText(ctx, tx, "code_staging", []string{"line", "code", "reason"}, false, func(b []byte) ([]byte, bool) {
		for range 256 {
			pc, ok, err := next()
			if err != nil {
				readErr = err
				return b, false
			}
			if !ok {
				return b, false
			}
			b = appendInt(b, pc.Line)
			b = append(b, '\t')
			b = appendText(b, pc.Code)
			b = append(b, '\t')
			b = appendNullable(b, pc.Reason)
			b = append(b, '\n')
		}
		return b, true
	})
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return fmt.Errorf("copy the codes: %w", err)
	}
	ci.Read = read
	// A temporary table has no statistics until analyzed: sampling it is cheap and private.
	if _, err := tx.Exec(ctx, `ANALYZE code_staging`); err != nil {
		return fmt.Errorf("analyze the codes: %w", err)
	}
	var tag pgconn.CommandTag
	err = withoutNestedLoops(ctx, tx, func() error {
		var err error
		tag, err = tx.Exec(ctx, checkCodes, cid, column)
		return err
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return breach.Errorf(breach.ECONFLICT, "another import added some of these codes meanwhile: import the file again")
		}
		return fmt.Errorf("add the codes: %w", err)
	}
	ci.Added = tag.RowsAffected()
	ci.Rejected = ci.Read - ci.Added
	rows, err := tx.Query(ctx, `SELECT line, reason FROM code_rejects ORDER BY line LIMIT $1`, breach.MaxListedCodeRejects)
	if err != nil {
		return fmt.Errorf("read the rejected codes: %w", err)
	}
	if ci.Rejects, err = pgx.CollectRows(rows, pgx.RowToStructByPos[breach.CodeReject]); err != nil {
		return fmt.Errorf("read the rejected codes: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO enrolment_code_pools (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING`, cid); err != nil {
		return fmt.Errorf("create the enrolment code pool: %w", err)
	}
	if ci.Assigned, ci.Pool, err = assignCodes(ctx, tx, ci.CampaignID); err != nil {
		return err
	}
	// The audit row commits with the codes: the approval rules read it (who added codes may
	// not approve). Adding codes moved the list's version (a trigger, migration 00021), so
	// approvals given before no longer count.
	if err := audit(ctx, tx, ci.CreatedBy, breach.ActionCodesImport, ci.CampaignID, ci.AuditDetail()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit the codes: %w", err)
	}
	return nil
}

// checkCodes sorts the staged lines of a codes import ($1 the campaign, $2 its code column)
// into rejects (code_rejects, with the reader's reason or one of the file, the pool or the list)
// and codes added to the pool, in file order. One statement: its parts see the pool as it was
// before the import.
const checkCodes = `
	WITH listed AS MATERIALIZED (
		SELECT DISTINCT upper(` + listCodeOf + `) AS key FROM recipients r
		WHERE r.campaign_id = $1 AND $2::text <> '' AND r.attributes ? $2::text
	), checked AS MATERIALIZED (
		SELECT s.line, s.code, CASE
			WHEN s.reason IS NOT NULL THEN s.reason
			WHEN s.first < s.line THEN 'the same code as line ' || s.first || ' (codes are compared without regard to case)'
			WHEN e.code_key IS NOT NULL THEN 'already in the campaign''s pool (imported before)'
			WHEN l.key IS NOT NULL THEN 'a customer''s list row already has this code (column ' || $2::text || ')'
			END AS reason
		FROM (SELECT line, code, reason, upper(code) AS key, min(line) OVER (PARTITION BY upper(code)) AS first
			FROM code_staging) s
		LEFT JOIN enrolment_codes e ON e.campaign_id = $1 AND e.code_key = s.key
		LEFT JOIN listed l ON l.key = s.key
	), rejected AS (
		INSERT INTO code_rejects (line, reason) SELECT line, reason FROM checked WHERE reason IS NOT NULL
	)
	INSERT INTO enrolment_codes (campaign_id, code)
	SELECT $1, code FROM checked WHERE reason IS NULL ORDER BY line`

// ExportCodes calls fn with each assigned pool code of a campaign and its customer's
// customer_id, in the pool's order, as they are read; it returns how many. ENOTFOUND for an
// unknown campaign, before any call.
func (db *DB) ExportCodes(ctx context.Context, campaignID string, fn func(code, customerID string) error) (int64, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return 0, err
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, cid).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look up campaign: %w", err)
	}
	if !exists {
		return 0, breach.Errorf(breach.ENOTFOUND, "no campaign %q", campaignID)
	}
	rows, err := db.pool.Query(ctx, `
		SELECT e.code, r.customer_id FROM enrolment_codes e
		JOIN recipients r ON r.campaign_id = $1 AND r.id = e.recipient_id
		WHERE e.campaign_id = $1 AND e.recipient_id IS NOT NULL
		ORDER BY e.seq`, cid)
	if err != nil {
		return 0, fmt.Errorf("export codes: %w", err)
	}
	defer rows.Close()
	var n int64
	var code, customer string
	for rows.Next() {
		if err := rows.Scan(&code, &customer); err != nil {
			return n, fmt.Errorf("export codes: %w", err)
		}
		if err := fn(code, customer); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export codes: %w", err)
	}
	return n, nil
}
