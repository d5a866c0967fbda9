package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Audit appends an operator action to the audit log. detail must hold no customer's personal
// data (counts and IDs, not names or addresses).
func (db *DB) Audit(ctx context.Context, actor, action, campaignID string, detail map[string]any) error {
	return audit(ctx, db.pool, actor, action, campaignID, detail)
}

// AuditRead appends a read of customers' personal data (a record viewed, a page listed) to the
// audit log and returns once it is written, so that the read can be answered: no read is ever
// answered without its trace. Reads come by the hundred per second from the incident team's
// screens while a campaign sends, and a commit each (a WAL flush) would make every one of them
// slow: rows are written by one goroutine in group commits — whatever queued while the previous
// statement ran goes in the next (see readAuditor). A row that waits longer than readAuditWait,
// or finds the queue full, fails with EUNAVAILABLE, and the read must be refused.
func (db *DB) AuditRead(ctx context.Context, actor, action, campaignID string, detail map[string]any) error {
	row, err := newAuditRow(ctx, actor, action, campaignID, detail)
	if err != nil {
		return err
	}
	return db.reads.write(ctx, row)
}

// execer is what a pool and a transaction share for statements without rows.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// audit appends an audit row through q: inside a transaction, the action and its record commit
// together. Its time is when it is written, not when its transaction began: the log's order is
// the order the actions landed in, also for one whose transaction waited on a campaign's lock.
func audit(ctx context.Context, q execer, actor, action, campaignID string, detail map[string]any) error {
	d, err := json.Marshal(withCredential(ctx, detail))
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	var cid any
	if campaignID != "" {
		cid = campaignID
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (at, actor, action, campaign_id, detail) VALUES (clock_timestamp(), $1, $2, $3, $4)`,
		actor, action, cid, d); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditLog returns the audit entries f selects, newest first. Pages are keyed on the entry ID
// (f.Before: the last ID of the previous page), so a page is an index range however long the
// log, and entries appended meanwhile never shift a page.
func (db *DB) AuditLog(ctx context.Context, f breach.AuditFilter) ([]breach.AuditEntry, error) {
	var cid *uuid.UUID
	if f.CampaignID != "" {
		u, err := uuid.Parse(f.CampaignID)
		if err != nil {
			return nil, breach.Errorf(breach.EINVALID, "campaign %q is not a campaign ID", f.CampaignID)
		}
		cid = &u
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	before := f.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.pool.Query(ctx, `
		SELECT id, at, actor, action, coalesce(campaign_id::text, ''), detail FROM audit_log
		WHERE id < $1 AND ($2::uuid IS NULL OR campaign_id = $2) AND ($3 = '' OR action = $3)
		ORDER BY id DESC LIMIT $4`, before, cid, f.Action, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.AuditEntry, error) {
		var e breach.AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.CampaignID, &e.Detail)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	return entries, nil
}

// withCredential is detail with, under "via", the credential the request came through
// (breach.WithCredential), for every audit row of the request whoever writes it: the
// operations, and the store inside the transaction of an approval or a purge.
func withCredential(ctx context.Context, detail map[string]any) map[string]any {
	via := breach.CredentialOf(ctx)
	if via == "" {
		if detail == nil {
			return map[string]any{}
		}
		return detail
	}
	d := make(map[string]any, len(detail)+1)
	maps.Copy(d, detail)
	d["via"] = via
	return d
}

// auditRow is one audit_log row waiting to be written.
type auditRow struct {
	at                            time.Time
	actor, action, campaign, body string
}

func newAuditRow(ctx context.Context, actor, action, campaignID string, detail map[string]any) (auditRow, error) {
	d, err := json.Marshal(withCredential(ctx, detail))
	if err != nil {
		return auditRow{}, fmt.Errorf("encode audit detail: %w", err)
	}
	return auditRow{at: time.Now(), actor: actor, action: action, campaign: campaignID, body: string(d)}, nil
}

// Read-audit group commits: at most maxReadBatch rows per statement, at most maxReadBacklog
// waiting, and a read waits at most readAuditWait for its row.
const (
	maxReadBatch   = 1000
	maxReadBacklog = 10_000
	readAuditWait  = 5 * time.Second
)

// readAuditWriters is how many statements write read-audit rows at once. With one, a read
// arriving while a statement waits for its commit to reach the disk waited for that flush and
// then for its own: one and a half flushes on average, and the flushes are slow while a campaign
// sends (the workers' commits take the WAL write lock too: in the status benchmark's samples the
// audit insert was a fifth of PostgreSQL's statements, nearly all of it waiting on the WAL).
// With two, a read finds a writer free unless both are flushing, and PostgreSQL's own group
// commit lets one flush serve both.
const readAuditWriters = 2

var errReadAuditUnavailable = breach.Errorf(breach.EUNAVAILABLE,
	"this read of personal data could not be recorded in the audit log, so it is refused: try again in a moment")

// readAuditor writes the audit rows of reads from readAuditWriters goroutines of its own, each
// statement taking every row that queued while the writer's previous one ran. They start with
// the first read: a process that never reads personal data (a worker) keeps no queue.
type readAuditor struct {
	pool    *pgxpool.Pool
	started sync.Once
	queue   chan readRequest // nil until started
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// readRequest is a row to write and where to say whether it was.
type readRequest struct {
	row    auditRow
	result chan error
}

func newReadAuditor(pool *pgxpool.Pool) *readAuditor {
	return &readAuditor{pool: pool, stop: make(chan struct{}), done: make(chan struct{})}
}

// start starts the writers, once.
func (a *readAuditor) start() {
	a.started.Do(func() {
		a.queue = make(chan readRequest, maxReadBacklog)
		var writers sync.WaitGroup
		for range readAuditWriters {
			writers.Go(a.run)
		}
		go func() {
			writers.Wait()
			close(a.done)
		}()
	})
}

// write queues row and waits until it is written, readAuditWait at most.
func (a *readAuditor) write(ctx context.Context, row auditRow) error {
	a.start()
	req := readRequest{row: row, result: make(chan error, 1)}
	select {
	case a.queue <- req: // never, once closed without having started: the queue is nil
	case <-a.stop:
		return errReadAuditUnavailable
	default:
		return errReadAuditUnavailable // the database is not keeping up: refuse, don't pile up
	}
	wait := time.NewTimer(readAuditWait)
	defer wait.Stop()
	select {
	case err := <-req.result:
		return err
	case <-wait.C:
		return errReadAuditUnavailable
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *readAuditor) run() {
	for {
		select {
		case <-a.stop:
			for {
				batch := a.take(nil)
				if len(batch) == 0 {
					return
				}
				a.flush(batch)
			}
		case req := <-a.queue:
			a.flush(a.take([]readRequest{req}))
		}
	}
}

// take adds to batch whatever is queued, up to maxReadBatch rows, without waiting.
func (a *readAuditor) take(batch []readRequest) []readRequest {
	for len(batch) < maxReadBatch {
		select {
		case req := <-a.queue:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// flush writes batch in one statement and tells each row's reader how it went. When the
// statement fails for a row's own content, the rows are written one by one, so that one bad
// row never blocks the others; any other failure (the database restarting) fails them all, and
// their reads are refused — none is kept to be written later in a process that may die.
func (a *readAuditor) flush(batch []readRequest) {
	err := a.insert(batch)
	if err != nil && len(batch) > 1 && isDataError(err) {
		for _, req := range batch {
			req.result <- a.insert([]readRequest{req})
		}
		return
	}
	for _, req := range batch {
		req.result <- err
	}
}

func (a *readAuditor) insert(batch []readRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), readAuditWait)
	defer cancel()
	at := make([]time.Time, len(batch))
	actor, action, campaign, detail := make([]string, len(batch)), make([]string, len(batch)), make([]*string, len(batch)), make([]string, len(batch))
	for i, req := range batch {
		r := req.row
		at[i], actor[i], action[i], detail[i] = r.at, r.actor, r.action, r.body
		if r.campaign != "" {
			campaign[i] = &r.campaign
		}
	}
	if _, err := a.pool.Exec(ctx, `INSERT INTO audit_log (at, actor, action, campaign_id, detail)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::jsonb[])`,
		at, actor, action, campaign, detail); err != nil {
		if isDataError(err) {
			return fmt.Errorf("audit read: %w", err)
		}
		return errReadAuditUnavailable
	}
	return nil
}

// isDataError reports whether PostgreSQL refused a statement for the data it was given
// (classes 22, data exception, and 23, integrity constraint violation) rather than for being
// unavailable.
func isDataError(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

// close writes what is waiting and stops.
func (a *readAuditor) close() {
	a.once.Do(func() { close(a.stop) })
	a.started.Do(func() { close(a.done) }) // never started: nothing to wait for, nor to start now
	<-a.done
}
