package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"math"

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
// audit log without making the request wait for it: reads come by the hundred per second from
// the incident team's screens, and a commit each (a WAL flush, four round trips) made every one
// of them slow while a campaign sent. The row is stamped now and written with others in one
// statement within readFlushEvery (see readAuditor); Close writes what is left. A crash of
// this process can lose the last fraction of a second of read rows; operator actions keep
// using Audit, which is written before the action answers.
func (db *DB) AuditRead(ctx context.Context, actor, action, campaignID string, detail map[string]any) error {
	row, err := newAuditRow(actor, action, campaignID, detail)
	if err != nil {
		return err
	}
	if db.reads.add(row) {
		return nil
	}
	// The batch is full (the database is not keeping up): this request waits, as Audit does.
	return audit(ctx, db.pool, actor, action, campaignID, detail)
}

// execer is what a pool and a transaction share for statements without rows.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// audit appends an audit row through q: inside a transaction, the action and its record commit
// together.
func audit(ctx context.Context, q execer, actor, action, campaignID string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	var cid any
	if campaignID != "" {
		cid = campaignID
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (actor, action, campaign_id, detail) VALUES ($1, $2, $3, $4)`,
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

// auditRow is one audit_log row waiting to be written.
type auditRow struct {
	at                            time.Time
	actor, action, campaign, body string
}

func newAuditRow(actor, action, campaignID string, detail map[string]any) (auditRow, error) {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return auditRow{}, fmt.Errorf("encode audit detail: %w", err)
	}
	return auditRow{at: time.Now(), actor: actor, action: action, campaign: campaignID, body: string(d)}, nil
}

// Read-audit batching: rows are written every readFlushEvery, and at most maxReadBacklog wait
// (beyond it AuditRead writes its row itself).
const (
	readFlushEvery = 200 * time.Millisecond
	maxReadBacklog = 10_000
)

// readAuditor writes the audit rows of reads in batches, from a goroutine of its own.
type readAuditor struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	rows []auditRow
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startReadAuditor(pool *pgxpool.Pool) *readAuditor {
	a := &readAuditor{pool: pool, stop: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// add queues row, or reports false when the backlog is full.
func (a *readAuditor) add(row auditRow) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.rows) >= maxReadBacklog {
		return false
	}
	a.rows = append(a.rows, row)
	return true
}

func (a *readAuditor) run() {
	defer close(a.done)
	tick := time.NewTicker(readFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			a.flush()
			return
		case <-tick.C:
			a.flush()
		}
	}
}

// flush writes the waiting rows in one statement. Rows that could not be written stay for the
// next flush (the database may be restarting); nothing is dropped while the backlog has room.
func (a *readAuditor) flush() {
	a.mu.Lock()
	rows := a.rows
	a.rows = nil
	a.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at := make([]time.Time, len(rows))
	actor, action, campaign, detail := make([]string, len(rows)), make([]string, len(rows)), make([]*string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		at[i], actor[i], action[i], detail[i] = r.at, r.actor, r.action, r.body
		if r.campaign != "" {
			campaign[i] = &r.campaign
		}
	}
	if _, err := a.pool.Exec(ctx, `INSERT INTO audit_log (at, actor, action, campaign_id, detail)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::jsonb[])`,
		at, actor, action, campaign, detail); err != nil {
		a.mu.Lock()
		a.rows = append(rows, a.rows...)
		a.mu.Unlock()
	}
}

// close writes what is waiting and stops.
func (a *readAuditor) close() {
	a.once.Do(func() { close(a.stop) })
	<-a.done
}
