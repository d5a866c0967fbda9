package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// importSession is one import: a transaction that holds the campaign's row lock from start to
// commit (imports into one campaign take turns, and nothing else writes its recipients
// meanwhile), and the COPY that feeds it while the importer is still parsing.
//
// Rows travel by one of two roads:
//
//   - Direct, for a campaign's first list (the one with millions of rows): each row is copied
//     straight into recipients, unless its customer may already have been copied (seenFilter)
//     — then it goes to the staging table with the rejects, to be merged at the end. COPY into
//     recipients overlaps the parsing, so the list is stored about as fast as it is read.
//   - Staged, when the campaign already has recipients: every row goes to the staging table
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
	// existed is set when the campaign had recipients before this import.
	existed bool
}

// copyResult is what the COPY goroutine did: rows copied straight into recipients, rows (and
// rejects) staged, and the error that stopped it.
type copyResult struct {
	direct, staged int64
	err            error
}

// sideLimit bounds the rows held back for the staging table while COPY into recipients runs.
const sideLimit = 16384

var stagingColumns = []string{"line", "customer_id", "email", "phone", "name", "locale", "country",
	"jurisdiction", "exposed", "attributes", "reject_field", "reject_reason"}

var directColumns = []string{"campaign_id", "customer_id", "email", "phone", "name", "locale", "country",
	"jurisdiction", "exposed", "attributes", "import_id"}

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
	if err := s.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recipients WHERE campaign_id = $1)`, imp.CampaignID).Scan(&s.existed); err != nil {
		return fmt.Errorf("look for recipients: %w", err)
	}
	// A temporary table is private to this connection and skips the write-ahead log.
	if _, err := s.tx.Exec(ctx, `
		CREATE TEMP TABLE import_staging (
			line bigint NOT NULL, customer_id text, email text, phone text, name text,
			locale text, country text, jurisdiction text, exposed integer, attributes jsonb,
			reject_field text, reject_reason text
		) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	campaignID, err := uuid.Parse(imp.CampaignID)
	if err != nil {
		return err
	}
	importID, err := uuid.Parse(imp.ID)
	if err != nil {
		return err
	}
	s.copying = true
	go func() {
		s.copied <- s.copyAll(ctx, pgtype.UUID{Bytes: campaignID, Valid: true}, pgtype.UUID{Bytes: importID, Valid: true})
	}()
	return nil
}

// copyAll runs the COPY (or COPYs) of the import until the importer closes the batches.
func (s *importSession) copyAll(ctx context.Context, campaignID, importID pgtype.UUID) copyResult {
	in := &itemStream{batches: s.batches}
	if s.existed {
		n, err := s.tx.CopyFrom(ctx, pgx.Identifier{"import_staging"}, stagingColumns, &stagingSource{next: in.next})
		return copyResult{staged: n, err: err}
	}
	var res copyResult
	seen := newSeenFilter()
	var side []stagedItem
	for {
		src := &directSource{in: in, seen: seen, side: &side, campaignID: campaignID, importID: importID}
		n, err := s.tx.CopyFrom(ctx, pgx.Identifier{"recipients"}, directColumns, src)
		res.direct += n
		if err != nil {
			res.err = fmt.Errorf("copy into recipients: %w", err)
			return res
		}
		if len(side) > 0 {
			i := 0
			n, err := s.tx.CopyFrom(ctx, pgx.Identifier{"import_staging"}, stagingColumns, &stagingSource{next: func() (*breach.ImportRow, *breach.Reject, bool) {
				if i == len(side) {
					return nil, nil, false
				}
				it := &side[i]
				i++
				return it.row, it.reject, true
			}})
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

func (s *importSession) Progress(ctx context.Context, read int64) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE imports SET read = $2 WHERE id = $1 AND state = 'running'`, s.importID, read)
	return err
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
	inserted, updated, err := s.merge(ctx, imp, copied)
	if err != nil {
		return err
	}
	imp.Accepted = copied.direct + inserted
	imp.Updated = updated
	imp.Merged = imp.Read - imp.Rejected - imp.Accepted
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
