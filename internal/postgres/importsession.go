package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// importSession is one import: a transaction that holds the campaign's row lock from start to
// commit (imports into one campaign take turns, and nothing else writes its recipients
// meanwhile), and the COPY that feeds it while the importer is still parsing.
//
// Rows travel by one of two roads:
//
//   - Direct, for a campaign's first list (the one with millions of rows): the import creates
//     the campaign's recipients partition and copies each row straight into it, unless its
//     customer may already have been copied (seenFilter) — then the row goes to the staging
//     table with the rejects, to be merged at the end. The partition has no index while it is
//     filled; Commit builds them (one sort each, far cheaper than maintaining them row by row)
//     and attaches the partition to recipients. The COPY overlaps the parsing, so the list is
//     stored about as fast as it is read.
//   - Staged, when the campaign already has its partition: every row goes to the staging table
//     and the merge (importmerge.go) updates the customers already present and adds the rest.
type importSession struct {
	db       *DB
	importID string
	conn     *pgxpool.Conn
	tx       pgx.Tx
	batches  chan *breach.ImportBatch
	copied   chan copyResult
	closed   bool
	copying  bool // the COPY goroutine was started and will report on copied
	released bool // the import slot was given back
	// stopAlive stops refreshing the import's alive_at (DB.keepAlive).
	stopAlive func()
	// partition is the campaign's recipients partition, and existed is set when an earlier
	// import created it.
	partition string
	existed   bool
	// defaultExposed is what a row without categories gets (breach.Import.DefaultExposed).
	defaultExposed breach.Categories
}

// partitionName is the name of a campaign's recipients partition.
func partitionName(campaignID string) string {
	return "recipients_" + strings.ReplaceAll(campaignID, "-", "")
}

// copyResult is what the COPY goroutine did: rows copied straight into recipients, rows (and
// rejects) staged, and the error that stopped it.
type copyResult struct {
	direct, staged int64
	err            error
}

// sideLimit bounds the rows held back for the staging table while COPY into recipients runs.
const sideLimit = 4096

var stagingColumns = []string{"line", "customer_id", "email", "phone", "name", "locale", "country",
	"jurisdiction", "exposed", "attributes", "ref_key", "postal", "reject_field", "reject_reason"}

// directColumns are the columns a direct COPY sends; the partition's campaign_id and
// import_id are the same for every row, so they come from column defaults set for the import
// (see open): sending and parsing two UUIDs a row would cost the COPY a tenth of its time.
var directColumns = []string{"customer_id", "email", "phone", "name", "locale", "country",
	"jurisdiction", "exposed", "attributes", "ref_key", "postal", "exposed_default"}

func (s *importSession) open(ctx context.Context, imp *breach.Import) error {
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	s.conn = conn
	if s.tx, err = conn.Begin(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	var state breach.CampaignState
	if err := s.tx.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1 FOR UPDATE`, imp.CampaignID).Scan(&state); err != nil {
		return fmt.Errorf("lock campaign: %w", err)
	}
	if err := importable(state); err != nil {
		return err
	}
	// The merge's statements cost the planner over jit_above_cost (a million-row partition)
	// while they touch a few thousand rows through an index: compiling them took 120 ms of
	// the update's time and saved nothing.
	if _, err := s.tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("turn off JIT: %w", err)
	}
	s.partition = partitionName(imp.CampaignID)
	s.defaultExposed = imp.DefaultExposed
	if err := s.tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.partition).Scan(&s.existed); err != nil {
		return fmt.Errorf("look for the recipients partition: %w", err)
	}
	if !s.existed {
		// No index yet (see Commit); the CHECK lets ATTACH skip scanning the table to prove
		// that every row belongs to the campaign.
		_, err := s.tx.Exec(ctx, `CREATE TABLE `+pgx.Identifier{s.partition}.Sanitize()+`
			(LIKE recipients INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
			 CHECK (campaign_id = '`+imp.CampaignID+`'::uuid))`)
		if err != nil {
			return fmt.Errorf("create the recipients partition: %w", err)
		}
		_, err = s.tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{s.partition}.Sanitize()+`
			ALTER COLUMN campaign_id SET DEFAULT '`+imp.CampaignID+`'::uuid,
			ALTER COLUMN import_id SET DEFAULT '`+imp.ID+`'::uuid`)
		if err != nil {
			return fmt.Errorf("set the recipients partition's defaults: %w", err)
		}
	}
	// A temporary table is private to this connection and skips the write-ahead log.
	if _, err := s.tx.Exec(ctx, `
		CREATE TEMP TABLE import_staging (
			line bigint NOT NULL, customer_id text COLLATE "C", email text, phone text, name text,
			locale text, country text, jurisdiction text, exposed integer, attributes jsonb,
			ref_key bigint, postal jsonb, reject_field text, reject_reason text
		) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	s.copying = true
	go func() { s.copied <- s.copyAll(ctx) }()
	return nil
}

// copyAll runs the COPY (or COPYs) of the import until the importer closes the batches.
func (s *importSession) copyAll(ctx context.Context) copyResult {
	in := &itemStream{batches: s.batches}
	if s.existed {
		n, err := copyText(ctx, s.tx, "import_staging", stagingColumns, false, stagedRows(in.next))
		return copyResult{staged: n, err: err}
	}
	var res copyResult
	seen := newSeenFilter()
	in.arrived = func(b *breach.ImportBatch) { seen.warm(b.Rows) }
	var side []stagedItem
	for {
		n, err := copyText(ctx, s.tx, s.partition, directColumns, true, directRows(in, seen, &side, s.defaultExposed))
		res.direct += n
		if err != nil {
			res.err = fmt.Errorf("copy into recipients: %w", err)
			return res
		}
		if len(side) > 0 {
			i := 0
			n, err := copyText(ctx, s.tx, "import_staging", stagingColumns, false, stagedRows(func() (*breach.ImportRow, *breach.Reject, bool) {
				if i == len(side) {
					return nil, nil, false
				}
				i++
				return side[i-1].row, side[i-1].reject, true
			}))
			res.staged += n
			if err != nil {
				res.err = fmt.Errorf("copy into staging: %w", err)
				return res
			}
			clear(side)
			side = side[:0]
		}
		if in.done {
			return res
		}
	}
}

// attachPartition indexes the partition filled by a direct import and attaches it to
// recipients. The indexes are created as the parent's constraints, so that ATTACH adopts them
// instead of building its own.
func (s *importSession) attachPartition(ctx context.Context, imp *breach.Import) error {
	p := pgx.Identifier{s.partition}.Sanitize()
	for _, st := range []struct{ name, sql string }{
		{"raise maintenance_work_mem", `SET LOCAL maintenance_work_mem = '256MB'`},
		{"drop the import's defaults", `ALTER TABLE ` + p + ` ALTER COLUMN campaign_id DROP DEFAULT, ALTER COLUMN import_id DROP DEFAULT`},
		{"index recipients", `ALTER TABLE ` + p + ` ADD PRIMARY KEY (campaign_id, id), ADD UNIQUE (campaign_id, customer_id)`},
		{"attach recipients", `ALTER TABLE recipients ATTACH PARTITION ` + p + ` FOR VALUES IN ('` + imp.CampaignID + `')`},
	} {
		if _, err := s.tx.Exec(ctx, st.sql); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
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
		return r.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Progress records the rows read so far, if a connection is free within a moment: watching an
// import is worth less than the import itself.
func (s *importSession) Progress(ctx context.Context, read int64) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, _ = s.db.pool.Exec(ctx, `UPDATE imports SET read = $2 WHERE id = $1 AND state = 'running'`, s.importID, read)
}

// release gives back the session's connection and its import slot.
func (s *importSession) release() {
	if s.stopAlive != nil {
		s.stopAlive()
	}
	if s.conn != nil {
		s.conn.Release()
		s.conn = nil
	}
	if !s.released {
		s.released = true
		<-s.db.importSlots
	}
}

func (s *importSession) finishCopy() copyResult {
	if !s.closed {
		s.closed = true
		close(s.batches)
	}
	if !s.copying {
		return copyResult{err: errors.New("the import's copy never started")}
	}
	r := <-s.copied
	s.copied <- r
	return r
}

func (s *importSession) Commit(ctx context.Context, imp *breach.Import) error {
	copied := s.finishCopy()
	if copied.err != nil {
		return copied.err
	}
	if copied.direct+copied.staged != imp.Read {
		return fmt.Errorf("copied %d rows but read %d", copied.direct+copied.staged, imp.Read)
	}
	// A new partition is indexed and attached before the merge, which then probes its
	// indexes for the few customers the list repeats — unless the list repeats many (more
	// than one staged row for 20 copied: a hash join of the whole partition costs less than
	// that many probes and updates through three indexes): then it is merged into first.
	mergeFirst := !s.existed && copied.direct > 0 && (copied.staged-imp.Rejected)*20 > copied.direct
	if !s.existed && !mergeFirst {
		if err := s.attachPartition(ctx, imp); err != nil {
			return err
		}
	}
	inserted, updated, err := s.merge(ctx, imp, copied, !mergeFirst)
	if err != nil {
		return err
	}
	if mergeFirst {
		if err := s.attachPartition(ctx, imp); err != nil {
			return err
		}
	}
	// The customers the list brought get their enrolment codes now, under the lock and in
	// the same transaction, so none is ever seen without the code the pool has for them.
	if _, _, err := assignCodes(ctx, s.tx, imp.CampaignID); err != nil {
		return err
	}
	imp.Accepted = copied.direct + inserted
	imp.Updated = updated
	imp.Merged = imp.Read - imp.Rejected - imp.Accepted
	imp.State = breach.ImportCompleted
	// finished_at is the moment of the commit, not the transaction's start (now()): imports
	// of a campaign take turns under its lock, and their finished_at follow the order they
	// land in. Moving to completed moves the campaign's list version (a trigger, migration
	// 00021): approvals given before no longer count.
	err = s.tx.QueryRow(ctx, `
		UPDATE imports SET state = 'completed', encoding = $2, delimiter = $3, read = $4,
			accepted = $5, merged = $6, rejected = $7, updated = $8, warned = $9, warnings = $10,
			sheet = $11, warned_by = $12, finished_at = clock_timestamp()
		WHERE id = $1 RETURNING finished_at`,
		imp.ID, imp.Encoding, imp.Delimiter, imp.Read, imp.Accepted, imp.Merged, imp.Rejected, imp.Updated,
		imp.Warned, warningsJSON(imp.Warnings), imp.Sheet, warnedByJSON(imp.WarnedBy),
	).Scan(&imp.FinishedAt)
	if err != nil {
		return fmt.Errorf("update import: %w", err)
	}
	if err := s.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	s.tx = nil
	s.release()
	return nil
}

// warnedByJSON is an import's warned rows by field as the imports.warned_by column holds them.
func warnedByJSON(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// warningsJSON is an import's listed warnings as the imports.warnings column holds them.
func warningsJSON(ws []breach.Warning) []breach.Warning {
	if ws == nil {
		return []breach.Warning{}
	}
	return ws
}

// Abort rolls the import back and records it as failed (failImport).
func (s *importSession) Abort(ctx context.Context, imp *breach.Import, cause error) {
	if s.tx != nil {
		s.finishCopy()
		_ = s.tx.Rollback(ctx)
		s.tx = nil
	}
	s.release()
	s.db.failImport(ctx, imp, cause)
}

// failImport records a running import as failed. cause's message is stored for the operator;
// it must not carry personal data (the importer's errors name lines and fields).
func (db *DB) failImport(ctx context.Context, imp *breach.Import, cause error) {
	imp.State = breach.ImportFailed
	imp.Error = breach.ErrorMessage(cause)
	now := time.Now()
	imp.FinishedAt = &now
	_, _ = db.pool.Exec(ctx, `
		UPDATE imports SET state = 'failed', error = $2, read = $3, rejected = $4, finished_at = clock_timestamp(),
			encoding = $5, delimiter = $6, sheet = $7
		WHERE id = $1 AND state = 'running'`, imp.ID, imp.Error, imp.Read, imp.Rejected, imp.Encoding, imp.Delimiter, imp.Sheet)
}
