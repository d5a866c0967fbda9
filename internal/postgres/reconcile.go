package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// ActiveCampaigns returns the running and paused campaigns, and the cancelled ones still
// holding deliveries queued (put back by a late outcome) or sending (whose worker may have
// died).
func (db *DB) ActiveCampaigns(ctx context.Context) ([]breach.ActiveCampaign, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, state, planned FROM campaigns c
		WHERE state IN ('running', 'paused')
			OR (state = 'cancelled' AND EXISTS (
				SELECT 1 FROM delivery_counts n WHERE n.campaign_id = c.id AND n.state IN ('queued', 'sending') HAVING sum(n.n) > 0))
		ORDER BY started_at`)
	if err != nil {
		return nil, fmt.Errorf("select active campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.ActiveCampaign, error) {
		var c breach.ActiveCampaign
		err := row.Scan(&c.ID, &c.State, &c.Planned)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("select active campaigns: %w", err)
	}
	return cs, nil
}

// DueChunks returns the chunks of a running campaign holding queued deliveries that have been
// due for at least minAge: work that a task should have picked up by now. An SMS held for quiet
// hours is due once its not_before has passed (by DB.Now's clock).
func (db *DB) DueChunks(ctx context.Context, campaignID string, size int64, minAge time.Duration) ([]breach.Chunk, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT DISTINCT channel, recipient_id / $2 FROM deliveries
		WHERE campaign_id = $1 AND state = 'queued' AND next_attempt_at <= now() - $3::interval
			AND (not_before IS NULL OR not_before <= $4::timestamptz - $3::interval)
		ORDER BY 2, 1`, uid, size, minAge.String(), db.now())
	if err != nil {
		return nil, fmt.Errorf("select due chunks: %w", err)
	}
	chunks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.Chunk, error) {
		var c breach.Chunk
		err := row.Scan(&c.Channel, &c.K)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("select due chunks: %w", err)
	}
	return chunks, nil
}

// ReleaseOrphans returns to the queue (and returns, per channel) the deliveries of a campaign
// left sending by workers that are no longer registered (stopped, or found dead), by workers
// silent for stale (killed elsewhere, or cut off from the database; 0: not judged by silence),
// and by worker self for longer than selfAfter (a claim it lost track of: a commit whose answer
// was lost, a panic; 0: none of its own). Such a notice may or may not have reached the
// provider: sending it again risks a duplicate, dropping it risks a customer never told, and
// the second is worse. So each the worker may have started (its claim statement's
// started_through: see AnnounceStarts) is marked possibly sent (possibly_sent, and the
// release's event says so), and the send recorded after it counts as a possible duplicate (see
// Record); those it never handed to a sender go back as a release returns them.
//
// In a cancelled campaign they fail instead (possibly sent or not), and so do its queued
// deliveries (outcomes that came back after the cancellation).
//
// It looks only where such claims can be: the claim statements of delivery_claims (migration
// 00019) made by those workers, or by self before selfAfter, whose rows it deletes — a read of
// their recipient ranges through the deliveries' primary key, and none of the deliveries when
// no claim is orphaned. (A filter on state reads the whole partition: no index serves it
// without making the send path's updates non-HOT.) Should a campaign have claims sending but
// no claim statement recorded at all, something wrote them behind the trigger's back, and the
// whole partition is searched as before.
func (db *DB) ReleaseOrphans(ctx context.Context, campaignID, self string, stale, selfAfter time.Duration) (map[breach.Channel][]int64, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	var campaignState breach.CampaignState
	if err := db.pool.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1`, uid).Scan(&campaignState); err != nil {
		return nil, fmt.Errorf("read campaign state: %w", err)
	}
	if campaignState == breach.CampaignCancelled {
		if _, err := db.pool.Exec(ctx, `
			UPDATE deliveries SET state = 'failed', error = $2, source = 'reconciler', updated_at = now(), not_before = NULL
			WHERE campaign_id = $1 AND state = 'queued'`, uid, cancelledError); err != nil {
			return nil, fmt.Errorf("settle a cancelled campaign: %w", err)
		}
	}
	silence, own := "100 years", "100 years"
	if stale > 0 {
		silence = stale.String()
	}
	if selfAfter > 0 {
		own = selfAfter.String()
	}
	released, err := db.releaseOrphans(ctx, uid, self, silence, own)
	if isSerializationFailure(err) {
		// Another reconciler took the same statements, or the claims' worker recorded one of
		// them, after this one's snapshot: nothing was changed here, and the next pass looks
		// again.
		return nil, nil
	}
	return released, err
}

// releaseOrphans is ReleaseOrphans's taking of the claim statements and release of their
// claims, in one transaction.
func (db *DB) releaseOrphans(ctx context.Context, uid uuid.UUID, self, silence, own string) (map[breach.Channel][]int64, error) {
	// One snapshot for taking the claim statements and releasing their claims: each judges
	// which workers are dead, and a worker heartbeating between the two (read committed: a
	// snapshot each) had its statements taken but its claims kept, then lost for good when it
	// died. A statement or delivery another transaction changes meanwhile fails the release
	// (serialization failure: see ReleaseOrphans).
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	lost, err := takeOrphanedClaims(ctx, tx, uid, self, silence, own)
	if err != nil {
		return nil, err
	}
	if len(lost.channels) == 0 {
		return nil, nil
	}
	// A claim is possibly sent when one of its worker's statements covering it says the worker
	// may have started it (started_through: see AnnounceStarts; NULL says nothing, so all). A
	// retried notice may lie in the ranges of two statements of one worker, the one that
	// claimed it now and an earlier one: any of them saying so is enough. The rest were never
	// handed to a sender, and go back as a release returns them, attempt and all.
	rows, err := tx.Query(ctx, `
		WITH k AS (
			SELECT * FROM unnest($7::text[], $8::uuid[], $9::bigint[], $10::bigint[], $11::bigint[]) AS k (channel, worker_id, low, high, through)
		), claims AS (
			SELECT d.channel, d.recipient_id, bool_or(k.through IS NULL OR d.recipient_id <= k.through) AS possibly
			FROM k JOIN deliveries d ON d.campaign_id = $1 AND d.channel = k.channel AND d.recipient_id BETWEEN k.low AND k.high
				AND (k.worker_id IS NULL OR d.worker_id = k.worker_id) AND d.state = 'sending'
			GROUP BY d.channel, d.recipient_id
		)
		UPDATE deliveries d SET worker_id = NULL, source = 'reconciler', updated_at = now(),
			possibly_sent = d.possibly_sent + p.possibly::int,
			attempts = d.attempts - (NOT p.possibly)::int,
			state = CASE WHEN c.state = 'cancelled' THEN 'failed' ELSE 'queued' END,
			error = CASE WHEN c.state = 'cancelled' THEN $3 WHEN p.possibly THEN $6 ELSE $12 END
		FROM campaigns c, claims p
		WHERE c.id = $1 AND d.campaign_id = $1 AND d.channel = p.channel AND d.recipient_id = p.recipient_id AND d.state = 'sending'
			AND CASE WHEN d.worker_id = $4::uuid THEN d.updated_at < now() - $5::interval
				ELSE NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = d.worker_id AND w.heartbeat_at > now() - $2::interval) END
		RETURNING d.channel, d.recipient_id, d.state`,
		uid, silence, cancelledError, self, own, possiblySentError, lost.channels, lost.workers, lost.lows, lost.highs, lost.throughs,
		notStartedError)
	if err != nil {
		return nil, fmt.Errorf("release orphaned claims: %w", err)
	}
	released := map[breach.Channel][]int64{}
	var (
		ch    breach.Channel
		id    int64
		state breach.DeliveryState
	)
	if _, err := pgx.ForEachRow(rows, []any{&ch, &id, &state}, func() error {
		if state == breach.DeliveryQueued {
			released[ch] = append(released[ch], id)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("release orphaned claims: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit released claims: %w", err)
	}
	return released, nil
}

// isSerializationFailure reports whether err is PostgreSQL's refusal of a repeatable-read
// transaction's change to a row another transaction changed after its snapshot.
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// claimRanges are where ReleaseOrphans looks: per claim statement, its channel, its worker
// (a nil one: any) and the range of recipient IDs it claimed.
type claimRanges struct {
	channels []string
	workers  []*uuid.UUID
	lows     []int64
	highs    []int64
	throughs []*int64 // started_through: nil when not known
}

// notStartedError is the error a released claim its dead worker never handed to a sender
// carries (see AnnounceStarts).
const notStartedError = "released unsent: the worker that claimed it stopped before it began sending it"

// takeOrphanedClaims deletes and returns the claim statements of a campaign that may have left
// orphans: those of workers not heard from within silence (or no longer registered), and self's
// older than own. When the campaign has deliveries sending and no claim statement at all, it
// returns every recipient of every channel instead (see ReleaseOrphans).
func takeOrphanedClaims(ctx context.Context, tx pgx.Tx, uid uuid.UUID, self, silence, own string) (claimRanges, error) {
	var lost claimRanges
	rows, err := tx.Query(ctx, `
		DELETE FROM delivery_claims k
		WHERE k.campaign_id = $1 AND CASE WHEN k.worker_id = $2::uuid THEN k.claimed_at < now() - $4::interval
			ELSE NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = k.worker_id AND w.heartbeat_at > now() - $3::interval) END
		RETURNING k.channel, k.worker_id, k.low, k.high, k.started_through`, uid, self, silence, own)
	if err != nil {
		return lost, fmt.Errorf("take orphaned claims: %w", err)
	}
	var (
		ch        string
		worker    uuid.UUID
		low, high int64
		through   *int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&ch, &worker, &low, &high, &through}, func() error {
		w := worker
		lost.channels, lost.workers = append(lost.channels, ch), append(lost.workers, &w)
		lost.lows, lost.highs, lost.throughs = append(lost.lows, low), append(lost.highs, high), append(lost.throughs, through)
		return nil
	}); err != nil {
		return lost, fmt.Errorf("take orphaned claims: %w", err)
	}
	if len(lost.channels) > 0 {
		return lost, nil
	}
	var untracked bool
	if err := tx.QueryRow(ctx, `
		SELECT coalesce((SELECT sum(n) FROM delivery_counts WHERE campaign_id = $1 AND state = 'sending'), 0) > 0
			AND NOT EXISTS (SELECT 1 FROM delivery_claims WHERE campaign_id = $1)`, uid).Scan(&untracked); err != nil {
		return lost, fmt.Errorf("take orphaned claims: %w", err)
	}
	if untracked {
		for _, ch := range []breach.Channel{breach.ChannelEmail, breach.ChannelSMS} {
			lost.channels, lost.workers = append(lost.channels, string(ch)), append(lost.workers, nil)
			lost.lows, lost.highs = append(lost.lows, math.MinInt64), append(lost.highs, math.MaxInt64)
			lost.throughs = append(lost.throughs, nil)
		}
	}
	return lost, nil
}

// CompleteIfDone marks a running campaign completed when it is fully planned and none of its
// deliveries is queued or sending, and reports whether it did.
func (db *DB) CompleteIfDone(ctx context.Context, campaignID string) (bool, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return false, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `
		UPDATE campaigns SET state = 'completed', finished_at = now(), updated_at = now()
		WHERE id = $1 AND state = 'running' AND planned
			AND (SELECT coalesce(sum(n), 0) FROM delivery_counts WHERE campaign_id = $1 AND state IN ('queued', 'sending')) = 0`, uid)
	if err != nil {
		return false, fmt.Errorf("complete campaign: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	// Nothing is sending: the claim statements left (those not old enough yet for their
	// workers' reconcilers to take) have nothing to say.
	if _, err := tx.Exec(ctx, `DELETE FROM delivery_claims WHERE campaign_id = $1`, uid); err != nil {
		return false, fmt.Errorf("forget the campaign's claims: %w", err)
	}
	if err := audit(ctx, tx, "system", breach.ActionCampaignComplete, campaignID, nil); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// RegisterWorker records a worker process; Heartbeat keeps it alive; UnregisterWorker removes it
// when it stops cleanly.
func (db *DB) RegisterWorker(ctx context.Context, id, host string, pid int, templates string) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO workers (id, host, pid, templates) VALUES ($1, $2, $3, nullif($4, ''))
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), templates = EXCLUDED.templates`, id, host, pid, templates)
	if err != nil {
		return fmt.Errorf("register worker: %w", err)
	}
	return nil
}

// workerLive is how recently a worker must have been heard from to count as running in a
// campaign's status: the sending engine's default StaleAfter, past which other workers take
// it for dead.
const workerLive = 30 * time.Second

// queueWorkerCount queues the count of the live workers, and of those whose templates are not
// those campaign uid was approved with (workers of earlier releases record none: they are
// counted live, their templates unknown).
func queueWorkerCount(b *pgx.Batch, uid uuid.UUID, wc *breach.WorkerCount) {
	b.Queue(`SELECT count(*), count(*) FILTER (WHERE w.templates <> c.templates_digest)
		FROM campaigns c, workers w WHERE c.id = $1 AND w.heartbeat_at > now() - $2::interval`,
		uid, workerLive.String()).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&wc.Live, &wc.OtherTemplates); err != nil {
			return fmt.Errorf("count live workers: %w", err)
		}
		return nil
	})
}

// Heartbeat tells the other workers that this one is alive.
func (db *DB) Heartbeat(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE workers SET heartbeat_at = now() WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("worker heartbeat: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return breach.Errorf(breach.ENOTFOUND, "worker %s is not registered", id)
	}
	return nil
}

// Workers returns the registered worker processes.
func (db *DB) Workers(ctx context.Context) ([]breach.Worker, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, host, pid, now() - heartbeat_at FROM workers ORDER BY started_at`)
	if err != nil {
		return nil, fmt.Errorf("select workers: %w", err)
	}
	ws, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.Worker, error) {
		var w breach.Worker
		err := row.Scan(&w.ID, &w.Host, &w.PID, &w.Silence)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("select workers: %w", err)
	}
	return ws, nil
}

// UnregisterWorker removes a worker that stopped (cleanly, or found dead), and the records of
// workers silent for over a day.
func (db *DB) UnregisterWorker(ctx context.Context, id string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM workers WHERE id = $1 OR heartbeat_at < now() - interval '1 day'`, id)
	if err != nil {
		return fmt.Errorf("unregister worker: %w", err)
	}
	return nil
}

// ListenCampaigns calls fn with the ID of every campaign that is started, paused, resumed or
// cancelled (see MoveCampaign), until ctx ends or the connection fails. It holds one
// connection of the pool.
func (db *DB) ListenCampaigns(ctx context.Context, moved func(campaignID string), suppressed func(key string), listening func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+CampaignsChannel+`; LISTEN `+SuppressionsChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// The connection may be mid-wait; it must not go back to the pool listening.
				conn.Conn().Close(context.Background())
				return nil
			}
			return fmt.Errorf("listen: %w", err)
		}
		switch n.Channel {
		case CampaignsChannel:
			moved(n.Payload)
		case SuppressionsChannel:
			suppressed(n.Payload)
		}
	}
}

// SuppressionsChannel is where each new suppression is announced, by its breach.SuppressedKey
// (migration 00029's trigger).
const SuppressionsChannel = "breachnotice_suppressions"

// RecentSuppressions returns the breach.SuppressedKey of every address suppressed within the
// last age, computed as migration 00029's trigger computes it.
func (db *DB) RecentSuppressions(ctx context.Context, age time.Duration) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT encode(sha256(convert_to(channel || ':' ||
			translate(address, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'UTF8')), 'hex')
		FROM suppressions WHERE created_at > now() - $1::interval`, age.String())
	if err != nil {
		return nil, fmt.Errorf("select recent suppressions: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("select recent suppressions: %w", err)
	}
	return keys, nil
}
