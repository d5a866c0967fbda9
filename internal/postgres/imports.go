package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// BeginImport records imp as running and opens the transaction its rows are copied into: a
// temporary staging table filled with COPY (the fastest way into PostgreSQL), merged into
// recipients by one set-based statement on Commit. Until then nothing of the import is
// visible, so a failed import leaves the campaign as it was.
func (db *DB) BeginImport(ctx context.Context, imp *breach.Import) (importer.Session, error) {
	cid, err := parseID("campaign", imp.CampaignID)
	if err != nil {
		return nil, err
	}
	var state breach.CampaignState
	err = db.pool.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1`, cid).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "campaign %q not found", imp.CampaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("select campaign: %w", err)
	}
	if err := importable(state); err != nil {
		return nil, err
	}
	err = db.pool.QueryRow(ctx, `
		INSERT INTO imports (campaign_id, filename, created_by) VALUES ($1, $2, $3)
		RETURNING id, state, started_at`,
		cid, imp.Filename, imp.CreatedBy,
	).Scan(&imp.ID, &imp.State, &imp.StartedAt)
	if err != nil {
		return nil, fmt.Errorf("insert import: %w", err)
	}

	s := &importSession{db: db, importID: imp.ID, batches: make(chan *breach.ImportBatch, 4), copied: make(chan copyResult, 1)}
	if err := s.open(ctx); err != nil {
		s.Abort(context.WithoutCancel(ctx), imp, err)
		return nil, err
	}
	return s, nil
}

// importable says whether a campaign in state st still takes customer lists: only a draft
// does, because approval is of a given list.
func importable(st breach.CampaignState) error {
	if st != breach.CampaignDraft {
		return breach.Errorf(breach.ECONFLICT, "the campaign is %s; customer lists can only be imported into a draft campaign", st)
	}
	return nil
}

type copyResult struct {
	rows int64
	err  error
}

// importSession is one import's open transaction and the COPY that feeds it.
type importSession struct {
	db       *DB
	importID string
	conn     *pgxpool.Conn
	tx       pgx.Tx
	batches  chan *breach.ImportBatch
	copied   chan copyResult
	closed   bool
}

var stagingColumns = []string{"line", "customer_id", "email", "phone", "name", "locale", "country",
	"jurisdiction", "exposed", "attributes", "reject_field", "reject_reason"}

func (s *importSession) open(ctx context.Context) error {
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	s.conn = conn
	if s.tx, err = conn.Begin(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A temporary table is private to this connection and skips the write-ahead log; valid
	// rows and rejects share it so that both travel in one COPY stream.
	if _, err := s.tx.Exec(ctx, `
		CREATE TEMP TABLE import_staging (
			line bigint NOT NULL, customer_id text, email text, phone text, name text,
			locale text, country text, jurisdiction text, exposed integer, attributes jsonb,
			reject_field text, reject_reason text
		) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	go func() {
		n, err := s.tx.CopyFrom(ctx, pgx.Identifier{"import_staging"}, stagingColumns, &batchSource{batches: s.batches})
		s.copied <- copyResult{n, err}
	}()
	return nil
}

// Write hands a batch to the COPY; it blocks while the COPY is behind, which is what keeps the
// importer's memory bounded.
func (s *importSession) Write(ctx context.Context, b *breach.ImportBatch) error {
	select {
	case s.batches <- b:
		return nil
	case r := <-s.copied:
		s.copied <- r // keep the result for Commit or Abort
		if r.err == nil {
			return errors.New("copy ended early")
		}
		return fmt.Errorf("copy rows: %w", r.err)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *importSession) Progress(ctx context.Context, read int64) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE imports SET read = $2 WHERE id = $1 AND state = 'running'`,
		s.importID, read)
	return err
}

func (s *importSession) finishCopy() copyResult {
	if !s.closed {
		s.closed = true
		close(s.batches)
	}
	if s.tx == nil {
		return copyResult{err: errors.New("no transaction")}
	}
	r := <-s.copied
	s.copied <- r
	return r
}

func (s *importSession) Commit(ctx context.Context, imp *breach.Import) error {
	copied := s.finishCopy()
	if copied.err != nil {
		return fmt.Errorf("copy rows: %w", copied.err)
	}
	if copied.rows != imp.Read {
		return fmt.Errorf("copied %d rows but read %d", copied.rows, imp.Read)
	}
	var state breach.CampaignState
	// Lock the campaign: two imports into one campaign merge one after the other.
	if err := s.tx.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1 FOR UPDATE`, imp.CampaignID).Scan(&state); err != nil {
		return fmt.Errorf("lock campaign: %w", err)
	}
	if err := importable(state); err != nil {
		return err
	}
	inserted, updated, err := s.merge(ctx, imp)
	if err != nil {
		return err
	}
	imp.Accepted = inserted
	imp.Updated = updated
	imp.Merged = imp.Read - imp.Rejected - inserted
	imp.State = breach.ImportCompleted
	err = s.tx.QueryRow(ctx, `
		UPDATE imports SET state = 'completed', encoding = $2, delimiter = $3, read = $4,
			accepted = $5, merged = $6, rejected = $7, updated = $8, finished_at = now()
		WHERE id = $1 RETURNING finished_at`,
		imp.ID, imp.Encoding, imp.Delimiter, imp.Read, imp.Accepted, imp.Merged, imp.Rejected, imp.Updated,
	).Scan(&imp.FinishedAt)
	if err != nil {
		return fmt.Errorf("update import: %w", err)
	}
	if err := s.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	s.tx = nil
	s.conn.Release()
	s.conn = nil
	return nil
}

// Abort rolls the import back and records it as failed. cause's message is stored for the
// operator; it must not carry personal data (the importer's errors name lines and fields).
func (s *importSession) Abort(ctx context.Context, imp *breach.Import, cause error) {
	if s.tx != nil {
		s.finishCopy()
		_ = s.tx.Rollback(ctx)
		s.tx = nil
	}
	if s.conn != nil {
		s.conn.Release()
		s.conn = nil
	}
	imp.State = breach.ImportFailed
	imp.Error = breach.ErrorMessage(cause)
	now := time.Now()
	imp.FinishedAt = &now
	_, _ = s.db.pool.Exec(ctx, `
		UPDATE imports SET state = 'failed', error = $2, read = $3, rejected = $4, finished_at = now(),
			encoding = $5, delimiter = $6
		WHERE id = $1`, imp.ID, imp.Error, imp.Read, imp.Rejected, imp.Encoding, imp.Delimiter)
}

// merge stores the rejects and folds the staged rows into the campaign's recipients, returning
// how many recipients it created and how many it changed.
//
// Rows of a customer who appears once in the list (nearly all) are taken as they are; those of
// a customer who appears several times are first folded into one (see foldedSQL). Customers
// already in the campaign are then updated, and only if something changes, so importing the
// same list again writes nothing; the rest are inserted. A plain INSERT is safe here, without
// ON CONFLICT and its per-row speculative insertion, because the caller holds the campaign's
// row lock: no other import can add the same customer meanwhile.
func (s *importSession) merge(ctx context.Context, imp *breach.Import) (inserted, updated int64, err error) {
	var existing bool
	if err := s.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recipients WHERE campaign_id = $1)`, imp.CampaignID).Scan(&existing); err != nil {
		return 0, 0, fmt.Errorf("look for recipients: %w", err)
	}
	type step struct {
		name string
		sql  string
		args []any
		n    *int64
	}
	steps := []step{
		// Sorts and hashes over millions of staged rows must not spill to disk.
		{"raise work_mem", `SET LOCAL work_mem = '256MB'`, nil, nil},
		{"analyze staging", `ANALYZE import_staging`, nil, nil},
		{"store rejects", insertRejectsSQL, []any{imp.ID}, nil},
		{"find duplicates", findDuplicatesSQL, nil, nil},
	}
	if existing {
		steps = append(steps,
			// Statistics lag behind imports; without fresh ones the planner may take a campaign
			// of millions for an empty one and join it row by row.
			step{"analyze recipients", `ANALYZE recipients`, nil, nil},
			step{"update recipients", updateRecipientsSQL, []any{imp.ID, imp.CampaignID}, &updated},
			step{"insert recipients", insertNewRecipientsSQL, []any{imp.ID, imp.CampaignID}, &inserted})
	} else {
		// The campaign's first list: every customer is new.
		steps = append(steps, step{"insert recipients", insertRecipientsSQL, []any{imp.ID, imp.CampaignID}, &inserted})
	}
	for _, st := range steps {
		tag, err := s.tx.Exec(ctx, st.sql, st.args...)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", st.name, err)
		}
		if st.n != nil {
			*st.n = tag.RowsAffected()
		}
	}
	return inserted, updated, nil
}

const insertRejectsSQL = `
	INSERT INTO import_rejects (import_id, line, customer_id, field, reason)
	SELECT $1, line, coalesce(customer_id, ''), coalesce(reject_field, ''), reject_reason
	FROM import_staging WHERE reject_reason IS NOT NULL`

const findDuplicatesSQL = `
	CREATE TEMP TABLE import_duplicates ON COMMIT DROP AS
	SELECT customer_id FROM import_staging
	WHERE reject_reason IS NULL GROUP BY customer_id HAVING count(*) > 1`

// foldedSQL is one row per customer of the list. A customer's several rows fold into one: the
// latest non-empty value of each field wins, categories are united, attributes are merged key
// by key (the latest value of each).
const foldedSQL = `
	SELECT s.customer_id, s.email, s.phone, s.name, s.locale, s.country, s.jurisdiction, s.exposed, s.attributes
	FROM import_staging s
	WHERE s.reject_reason IS NULL
		AND NOT EXISTS (SELECT 1 FROM import_duplicates d WHERE d.customer_id = s.customer_id)
	UNION ALL
	SELECT g.customer_id,
		(array_agg(g.email ORDER BY g.line DESC) FILTER (WHERE g.email IS NOT NULL))[1],
		(array_agg(g.phone ORDER BY g.line DESC) FILTER (WHERE g.phone IS NOT NULL))[1],
		coalesce((array_agg(g.name ORDER BY g.line DESC) FILTER (WHERE g.name <> ''))[1], ''),
		coalesce((array_agg(g.locale ORDER BY g.line DESC) FILTER (WHERE g.locale <> ''))[1], ''),
		coalesce((array_agg(g.country ORDER BY g.line DESC) FILTER (WHERE g.country <> ''))[1], ''),
		coalesce((array_agg(g.jurisdiction ORDER BY g.line DESC) FILTER (WHERE g.jurisdiction <> ''))[1], ''),
		bit_or(g.exposed),
		(SELECT coalesce(jsonb_object_agg(latest.key, latest.value), '{}'::jsonb) FROM (
			SELECT DISTINCT ON (kv.key) kv.key, kv.value
			FROM unnest(array_agg(g.attributes ORDER BY g.line DESC)) WITH ORDINALITY AS a(attrs, n),
				jsonb_each(a.attrs) kv
			ORDER BY kv.key, a.n) latest)
	FROM import_staging g JOIN import_duplicates USING (customer_id)
	WHERE g.reject_reason IS NULL
	GROUP BY g.customer_id`

// updateRecipientsSQL merges the list into customers already in the campaign: non-empty
// fields replace, categories and attributes add up.
const updateRecipientsSQL = `
	WITH folded AS (` + foldedSQL + `)
	UPDATE recipients r SET
		email = coalesce(f.email, r.email),
		phone = coalesce(f.phone, r.phone),
		name = CASE WHEN f.name <> '' THEN f.name ELSE r.name END,
		locale = CASE WHEN f.locale <> '' THEN f.locale ELSE r.locale END,
		country = CASE WHEN f.country <> '' THEN f.country ELSE r.country END,
		jurisdiction = CASE WHEN f.jurisdiction <> '' THEN f.jurisdiction ELSE r.jurisdiction END,
		exposed = r.exposed | f.exposed,
		attributes = r.attributes || f.attributes,
		import_id = $1,
		updated_at = now()
	FROM folded f
	WHERE r.campaign_id = $2 AND r.customer_id = f.customer_id
		AND (r.email, r.phone, r.name, r.locale, r.country, r.jurisdiction, r.exposed, r.attributes)
		IS DISTINCT FROM (
			coalesce(f.email, r.email), coalesce(f.phone, r.phone),
			CASE WHEN f.name <> '' THEN f.name ELSE r.name END,
			CASE WHEN f.locale <> '' THEN f.locale ELSE r.locale END,
			CASE WHEN f.country <> '' THEN f.country ELSE r.country END,
			CASE WHEN f.jurisdiction <> '' THEN f.jurisdiction ELSE r.jurisdiction END,
			r.exposed | f.exposed, r.attributes || f.attributes)`

const insertRecipientsSQL = `
	WITH folded AS (` + foldedSQL + `)
	INSERT INTO recipients (campaign_id, customer_id, email, phone, name, locale, country,
		jurisdiction, exposed, attributes, import_id)
	SELECT $2, customer_id, email, phone, name, locale, country, jurisdiction, exposed, attributes, $1
	FROM folded f`

const insertNewRecipientsSQL = insertRecipientsSQL + `
	WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = $2 AND r.customer_id = f.customer_id)`

// batchSource feeds batches to CopyFrom: each batch's rows, then its rejects.
type batchSource struct {
	batches <-chan *breach.ImportBatch
	cur     *breach.ImportBatch
	i       int
	values  []any
	err     error
}

func (b *batchSource) Next() bool {
	for {
		if b.cur != nil && b.i < len(b.cur.Rows)+len(b.cur.Rejects) {
			b.i++
			return true
		}
		next, ok := <-b.batches
		if !ok {
			return false
		}
		b.cur, b.i = next, 0
	}
}

func (b *batchSource) Values() ([]any, error) {
	if b.values == nil {
		b.values = make([]any, len(stagingColumns))
	}
	v := b.values
	if k := b.i - 1; k < len(b.cur.Rows) {
		r := &b.cur.Rows[k]
		v[0], v[1], v[2], v[3] = r.Line, r.CustomerID, nullable(r.Email), nullable(r.Phone)
		v[4], v[5], v[6], v[7] = r.Name, r.Locale, r.Country, r.Jurisdiction
		v[8], v[9], v[10], v[11] = int32(r.Exposed), attributesJSON(r.Attributes), nil, nil
		return v, nil
	}
	rej := &b.cur.Rejects[b.i-1-len(b.cur.Rows)]
	clear(v)
	v[0], v[1], v[10], v[11] = rej.Line, rej.CustomerID, rej.Field, rej.Reason
	return v, nil
}

func (b *batchSource) Err() error { return b.err }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const importSelect = `
	SELECT id, campaign_id, state, filename, encoding, delimiter, read, accepted, merged,
		rejected, updated, error, created_by, started_at, finished_at
	FROM imports`

func scanImport(row pgx.CollectableRow) (*breach.Import, error) {
	var imp breach.Import
	err := row.Scan(&imp.ID, &imp.CampaignID, &imp.State, &imp.Filename, &imp.Encoding, &imp.Delimiter,
		&imp.Read, &imp.Accepted, &imp.Merged, &imp.Rejected, &imp.Updated, &imp.Error,
		&imp.CreatedBy, &imp.StartedAt, &imp.FinishedAt)
	return &imp, err
}

// Import returns an import of a campaign.
func (db *DB) Import(ctx context.Context, campaignID, importID string) (*breach.Import, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	iid, err := parseID("import", importID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, importSelect+` WHERE id = $1 AND campaign_id = $2`, iid, cid)
	if err != nil {
		return nil, fmt.Errorf("select import: %w", err)
	}
	imp, err := pgx.CollectExactlyOneRow(rows, scanImport)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "import %q of campaign %q not found", importID, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("select import: %w", err)
	}
	return imp, nil
}

// Imports returns a campaign's imports, oldest first.
func (db *DB) Imports(ctx context.Context, campaignID string) ([]*breach.Import, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, importSelect+` WHERE campaign_id = $1 ORDER BY started_at`, cid)
	if err != nil {
		return nil, fmt.Errorf("select imports: %w", err)
	}
	imps, err := pgx.CollectRows(rows, scanImport)
	if err != nil {
		return nil, fmt.Errorf("select imports: %w", err)
	}
	return imps, nil
}

// Rejects calls fn with each reject of an import in line order, streaming them from the
// database however many there are.
func (db *DB) Rejects(ctx context.Context, importID string, fn func(breach.Reject) error) error {
	iid, err := parseID("import", importID)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT line, customer_id, field, reason FROM import_rejects
		WHERE import_id = $1 ORDER BY line`, iid)
	if err != nil {
		return fmt.Errorf("select rejects: %w", err)
	}
	defer rows.Close()
	var r breach.Reject
	_, err = pgx.ForEachRow(rows, []any{&r.Line, &r.CustomerID, &r.Field, &r.Reason}, func() error {
		return fn(r)
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
