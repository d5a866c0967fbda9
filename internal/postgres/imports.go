package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// BeginImport records imp as running and opens the transaction its rows are copied into (see
// importSession). Until Commit nothing of the import is visible, so a failed import leaves the
// campaign as it was.
func (db *DB) BeginImport(ctx context.Context, imp *breach.Import) (breach.ImportSession, error) {
	cid, err := parseID("campaign", imp.CampaignID)
	if err != nil {
		return nil, err
	}
	// The campaign's ID goes into table names and DDL: only its canonical form.
	imp.CampaignID = cid.String()
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
		INSERT INTO imports (campaign_id, filename, created_by, alive_at) VALUES ($1, $2, $3, now())
		RETURNING id, state, started_at`,
		cid, imp.Filename, imp.CreatedBy,
	).Scan(&imp.ID, &imp.State, &imp.StartedAt)
	if err != nil {
		return nil, fmt.Errorf("insert import: %w", err)
	}
	stopAlive := db.keepAlive(imp.ID)

	wait := time.NewTimer(db.importSlotWait)
	defer wait.Stop()
	select {
	case db.importSlots <- struct{}{}:
	case <-wait.C:
		// Four slow uploads held every slot, and every other import waited behind them,
		// without a word, for as long as they trickled (a review: 95 s for 57 rows).
		err := breach.Errorf(breach.EUNAVAILABLE, "every import slot of this server (%d) is busy with other lists still arriving: try again in a minute", cap(db.importSlots))
		stopAlive()
		db.failImport(context.WithoutCancel(ctx), imp, err)
		return nil, err
	case <-ctx.Done():
		// Recorded as failed, not left running for ever: a running import shows as under way
		// in the console.
		stopAlive()
		db.failImport(context.WithoutCancel(ctx), imp, breach.Errorf(breach.EUNAVAILABLE, "cancelled while waiting for another import to finish"))
		return nil, context.Cause(ctx)
	}
	// A few batches wait for the COPY, no more: the importer's in-flight budget lets a batch go
	// once it is handed over here, so what waits here is outside that budget (16 batches of
	// wide rows were 30 MB more heap, for no speed: 2.56-2.76 s with 16, 2.63-2.82 s with 2,
	// a million narrow rows).
	s := &importSession{db: db, importID: imp.ID, stopAlive: stopAlive, batches: make(chan *breach.ImportBatch, 4), copied: make(chan copyResult, 1)}
	if err := s.open(ctx, imp); err != nil {
		s.Abort(context.WithoutCancel(ctx), imp, err)
		return nil, err
	}
	return s, nil
}

// importSlotWait bounds how long an import waits for one of the server's import slots.
const importSlotWait = 30 * time.Second

// A running import refreshes its alive_at every importHeartbeat; one not refreshed for
// importStale reads as failed (its process ended: migration 00035).
const (
	importHeartbeat = 15 * time.Second
	importStale     = "2 minutes"
)

// keepAlive refreshes import id's alive_at until stop is called (which waits for the last
// refresh to end).
func (db *DB) keepAlive(id string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(importHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
				_, _ = db.pool.Exec(rctx, `UPDATE imports SET alive_at = now() WHERE id = $1 AND state = 'running'`, id)
				rcancel()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// importable says whether a campaign in state st still takes customer lists: only a draft
// does, because approval is of a given list.
func importable(st breach.CampaignState) error {
	if st != breach.CampaignDraft {
		return breach.Errorf(breach.ECONFLICT, "the campaign is %s; customer lists can only be imported into a draft campaign", st)
	}
	return nil
}

// importSelect reads imports; one running whose process stopped refreshing it (importStale)
// reads as failed, with why.
const importSelect = `
	SELECT id, campaign_id, CASE WHEN stale THEN 'failed' ELSE state END, filename, encoding, delimiter, read, accepted, merged,
		rejected, updated, warned, warnings, sheet,
		CASE WHEN stale THEN 'the import stopped without finishing: the process running it ended (killed, or its machine stopped), and nothing of it was stored; import the list again' ELSE error END,
		created_by, started_at, CASE WHEN stale THEN alive_at ELSE finished_at END, warned_by
	FROM (SELECT *, state = 'running' AND alive_at < now() - interval '` + importStale + `' AS stale FROM imports) imports`

func scanImport(row pgx.CollectableRow) (*breach.Import, error) {
	var imp breach.Import
	err := row.Scan(&imp.ID, &imp.CampaignID, &imp.State, &imp.Filename, &imp.Encoding, &imp.Delimiter,
		&imp.Read, &imp.Accepted, &imp.Merged, &imp.Rejected, &imp.Updated, &imp.Warned, &imp.Warnings, &imp.Sheet, &imp.Error,
		&imp.CreatedBy, &imp.StartedAt, &imp.FinishedAt, &imp.WarnedBy)
	if len(imp.WarnedBy) == 0 {
		imp.WarnedBy = nil
	}
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
