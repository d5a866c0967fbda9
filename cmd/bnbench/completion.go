package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A send run is over when every recipient's email has reached an end state. The benchmark
// reads the delivery counts from PostgreSQL directly (the same dozen rows `campaign status`
// reads) rather than running `campaign status` five times a second, which would take a share
// of the two cores it measures.

// emailProgress is a campaign's email deliveries: how many are over, how many of those were
// sent, and how many are claimed by a worker (sending).
type emailProgress struct {
	done, sent, sending int64
}

func readProgress(ctx context.Context, conn *pgx.Conn, id string) (emailProgress, error) {
	var p emailProgress
	err := conn.QueryRow(ctx, `SELECT
		coalesce(sum(n) FILTER (WHERE state IN ('sent', 'delivered', 'bounced', 'failed', 'suppressed')), 0),
		coalesce(sum(n) FILTER (WHERE state IN ('sent', 'delivered')), 0),
		coalesce(sum(n) FILTER (WHERE state = 'sending'), 0)
		FROM delivery_counts WHERE campaign_id = $1 AND channel = 'email'`, id).Scan(&p.done, &p.sent, &p.sending)
	return p, err
}

// stallAfter is how long a run may go without a delivery ending before it is taken as over
// (when only claimed deliveries are left: their outcomes were lost) or failed.
const stallAfter = time.Minute

// waitDone polls until all n email deliveries of campaign id are over. When none has ended
// for stallAfter, it returns the progress as it stands if every delivery left is claimed
// (sending) — a worker lost their outcomes and holds them: the run is reported with them
// counted as stuck — and an error otherwise.
func waitDone(ctx context.Context, dbURL, id string, n int64, w *workerProcess) (emailProgress, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return emailProgress{}, err
	}
	defer conn.Close(ctx)
	var last emailProgress
	lastMove := time.Now()
	for {
		p, err := readProgress(ctx, conn, id)
		if err != nil {
			return p, err
		}
		if p.done >= n {
			return p, nil
		}
		if p.done != last.done {
			last, lastMove = p, time.Now()
		}
		if time.Since(lastMove) > stallAfter {
			if p.done+p.sending == n {
				return p, nil
			}
			return p, fmt.Errorf("stalled at %d of %d notices; worker log:%s", p.done, n, w.Log())
		}
		select {
		case <-w.exited:
			return p, fmt.Errorf("worker exited at %d of %d notices:%s", p.done, n, w.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// lastSent is when the campaign's last email was recorded as sent: the end of the
// end-to-end measurement, exact whatever the polling interval.
func lastSent(ctx context.Context, dbURL, id string) (time.Time, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close(ctx)
	var at time.Time
	// A notice sent from its claim is held on its delivery, not an event (migration 00025).
	err = conn.QueryRow(ctx, `SELECT greatest(
		(SELECT max(at) FROM delivery_events WHERE campaign_id = $1 AND channel = 'email' AND state = 'sent'),
		(SELECT max(updated_at) FROM deliveries WHERE campaign_id = $1 AND channel = 'email' AND state = 'sent'))`, id).Scan(&at)
	return at, err
}
