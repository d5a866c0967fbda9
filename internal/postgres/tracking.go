package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// The status API's reads of the record: one recipient's deliveries and timeline, delivery
// listings, the proof-of-notice export and the suppression list. Each is an index walk of one
// campaign's partitions, never a grouping of its deliveries (the counts are CampaignStatus's).

// listingScan bounds the deliveries one filtered page examines. A filter that matches few
// rows (failed, early in a campaign) would otherwise walk the whole campaign for one page — a
// state is not indexed: an index on it would make every state change a non-HOT update, on
// the send path. Bounded, a page costs at most ~10 ms (2,000 rows of a campaign being sent, on
// the 2-core development machine; 10,000 took 40 ms), and one that finds fewer rows than it
// may return says where the next goes on.
const listingScan = 2_000

// deliveryColumns are a DeliveryRecord's columns over deliveries d and recipients r, in a
// statement whose $1 is the campaign's ID. A letter's address is the postal address on one
// line.
//
// sent_at is the time of the first sent event (a letter's: mailed). A delivery enters sent or
// mailed once, and leaves it only for a state that follows it (delivered, bounced, failed,
// suppressed, returned): no statement moves it back, and none changes a sent delivery's
// updated_at without changing its state. So while it is sent or mailed its updated_at is that
// event's time (the trigger writes the event at the row's updated_at), and a delivery still
// before it (pending, queued, sending, printed) has none; only the later states look for the
// event, through the events' (campaign, recipient) index. Looked up for every row, the event
// was half of a listing page's buffer reads (EXPLAIN (ANALYZE, BUFFERS), a 50,000-recipient
// campaign: 815 for a page of 100, 415 without) while nearly every delivery of a campaign
// being sent is sent.
//
// The campaign is $1, not d.campaign_id, in every lookup per row (here and withRecipient):
// the planner then picks the campaign's own partitions of the events and the recipients once.
// Correlated with d, each lookup was an Append over every campaign's partition, pruned again
// at each of a page's rows — 0.17 ms a row for the recipient instead of 0.01 (EXPLAIN ANALYZE,
// 50,000-recipient campaign being sent), and a plan that grew with the number of campaigns.
const deliveryColumns = `d.recipient_id, r.customer_id, r.name, d.channel,
	coalesce(CASE d.channel WHEN 'email' THEN r.email WHEN 'sms' THEN r.phone
		ELSE concat_ws(', ', nullif(r.postal->>'line1', ''), nullif(r.postal->>'line2', ''), nullif(r.postal->>'line3', ''),
			nullif(concat_ws(' ', nullif(r.postal->>'postal_code', ''), nullif(r.postal->>'city', '')), ''),
			nullif(r.postal->>'region', ''), nullif(r.postal->>'country', '')) END, ''),
	d.locale, d.state, d.attempts, d.provider_id, d.error, d.fallback, d.possible_duplicates > 0, d.updated_at,
	CASE WHEN d.state IN ('sent', 'mailed') THEN d.updated_at
		WHEN d.state IN ('pending', 'queued', 'sending', 'printed') THEN NULL
		ELSE (SELECT min(e.at) FROM delivery_events e
			WHERE e.campaign_id = $1 AND e.recipient_id = d.recipient_id AND e.channel = d.channel AND e.state IN ('sent', 'mailed')) END`

// exportColumns are deliveryColumns for the export, which walks the recipients r and joins
// each one's deliveries d: r's ID, and whose notice told them (d.told_with, NULL: their own).
var exportColumns = `r.id` + strings.TrimPrefix(deliveryColumns, `d.recipient_id`) + `, d.told_with`

// withRecipient follows a FROM clause of deliveries d (in the listing order) with each one's
// recipient r, looked up by primary key, row by row ($1: the campaign's ID). The LIMIT keeps the planner from joining
// otherwise: with a generic plan (pgx prepares every statement, PostgreSQL goes generic after
// five runs) or a freshly imported, not yet analyzed partition, it walked every recipient and
// probed the deliveries for each, seconds for a page of a 25,000-recipient campaign.
const withRecipient = ` CROSS JOIN LATERAL (
		SELECT customer_id, name, email, phone, postal FROM recipients r WHERE r.campaign_id = $1 AND r.id = d.recipient_id LIMIT 1
	) r`

// genericPlans, queued first in a batch (one implicit transaction: pgx ends a batch with one
// Sync), makes PostgreSQL run the batch's statements with their generic plans. pgx prepares
// every statement, but PostgreSQL keeps planning these afresh at every run: a generic plan
// over the partitions of every campaign looks dearer than a custom plan of one campaign's,
// though run-time pruning leaves it the same index scans (EXPLAIN ANALYZE: "Subplans
// Removed"). Planning was about half of a listing's CPU time in its backend (500 runs of the
// page statement: 940 µs each as PostgreSQL chose, 540 µs generic, on the busy 2-core machine).
// Local to the batch's transaction: the connection's other statements are left to choose.
//
// JIT is off for the same statements: a generic plan prices LIMIT $n at a tenth of the rows, so
// over a large campaign its cost passed jit_above_cost, and PostgreSQL compiled the listing at
// every run (JIT is not cached with the plan) — 26 ms of a 97 ms page, EXPLAIN ANALYZE on a
// 200,000-recipient campaign, against 0.6 ms without; the status benchmark saw 21–28 ms of
// PostgreSQL CPU per unfiltered page.
const genericPlans = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true)`

// queryGeneric runs sql with args and its generic plan (see genericPlans), handing the rows to
// fn.
func (db *DB) queryGeneric(ctx context.Context, fn func(pgx.Rows) error, sql string, args ...any) error {
	return runGeneric(ctx, db.pool, fn, sql, args...)
}

// execGeneric runs sql, a statement without rows, with its generic plan (see genericPlans) in
// q's transaction, or in a transaction of its own when q is the pool: one round trip either way.
func execGeneric(ctx context.Context, q batcher, sql string, args ...any) error {
	return runGeneric(ctx, q, nil, sql, args...)
}

// batcher is what a pool and a transaction share for batches.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// runGeneric sends genericPlans and sql in one batch through q, handing sql's rows to fn if
// it is not nil.
func runGeneric(ctx context.Context, q batcher, fn func(pgx.Rows) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(genericPlans)
	queued := b.Queue(sql, args...)
	if fn != nil {
		queued.Query(fn)
	}
	return q.SendBatch(ctx, b).Close()
}

func scanDelivery(row pgx.Row, d *breach.DeliveryRecord) error { return scanDeliveryAnd(row, d) }

// scanDeliveryAnd scans deliveryColumns into d, and the statement's further columns into more.
func scanDeliveryAnd(row pgx.Row, d *breach.DeliveryRecord, more ...any) error {
	return row.Scan(append([]any{&d.RecipientID, &d.CustomerID, &d.Name, &d.Channel, &d.Address, &d.Locale, &d.State, &d.Attempts,
		&d.ProviderID, &d.Error, &d.Fallback, &d.PossibleDuplicate, &d.UpdatedAt, &d.SentAt}, more...)...)
}

// RecipientRecord returns a campaign's customer by customer_id with their deliveries (by
// channel) and the timeline of their deliveries' transitions, oldest first. ENOTFOUND names
// what is missing: the campaign or the customer.
func (db *DB) RecipientRecord(ctx context.Context, campaignID, customerID string) (*breach.RecipientRecord, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	// One round trip: the deliveries and the events find the recipient by customer_id
	// themselves. The incident team's screens ask for records by the hundred per second while a
	// campaign sends, and on a busy machine each round trip is a wait to be scheduled again,
	// twice (this process, then the backend): two of them made the tail.
	var r *breach.Recipient
	deliveries, events := []breach.DeliveryRecord{}, []breach.DeliveryEvent{}
	const recipientID = `(SELECT id FROM recipients WHERE campaign_id = $1 AND customer_id = $2)`
	b := &pgx.Batch{}
	b.Queue(genericPlans)
	b.Queue(recipientSelect+` WHERE campaign_id = $1 AND customer_id = $2`, uid, customerID).Query(func(rows pgx.Rows) error {
		var err error
		if r, err = pgx.CollectExactlyOneRow(rows, scanRecipient); errors.Is(err, pgx.ErrNoRows) {
			r, err = nil, nil
		}
		return err
	})
	b.Queue(`SELECT `+deliveryColumns+` FROM deliveries d`+withRecipient+`
		WHERE d.campaign_id = $1 AND d.recipient_id = `+recipientID+` ORDER BY d.channel`, uid, customerID).Query(func(rows pgx.Rows) error {
		return collect(rows, &deliveries, scanDelivery)
	})
	b.Queue(`SELECT at, channel, state, source, attempt, provider_id, error FROM (`+timeline(recipientID)+`) t`,
		uid, customerID, nil).Query(func(rows pgx.Rows) error {
		return collect(rows, &events, func(row pgx.Row, e *breach.DeliveryEvent) error {
			return row.Scan(&e.At, &e.Channel, &e.State, &e.Source, &e.Attempt, &e.ProviderID, &e.Error)
		})
	})
	// The suppressions of their addresses, whichever campaign or provider recorded them: an
	// opt-out writes nothing else, and "did this customer opt out, and when?" is asked here.
	suppressions := []breach.Suppression{}
	b.Queue(recipientSuppressions, uid, customerID).Query(func(rows pgx.Rows) error {
		return collect(rows, &suppressions, scanSuppression)
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read recipient's record: %w", err)
	}
	if r == nil {
		if err := db.campaignExists(ctx, uid, campaignID); err != nil {
			return nil, err
		}
		return nil, breach.Errorf(breach.ENOTFOUND, "no recipient with customer_id %q in campaign %q", customerID, campaignID)
	}
	return &breach.RecipientRecord{Recipient: r, Deliveries: deliveries, Events: events, Suppressions: suppressions}, nil
}

// timeline is the timeline of one customer's deliveries ($1 campaign, recipient an SQL
// expression of the recipient's ID, $3 a channel or NULL for all), oldest first: every transition with its time, source and attempt.
// The record keeps only the events that end something (migration 00016), so the queued and
// sending entries are put back here — a delivery queued at its queued_at (by the planner, or
// by a worker for a fallback), each attempt sending from its claim (the started_at of the event
// that ended it), and the claim still open at the delivery's updated_at. Events written before
// the lean record have their own queued and sending rows and neither time; a claim made before
// it and ended after has both, and DISTINCT ON keeps the one row.
//
// A sent event written since migration 00019 leaves its provider ID to its delivery, which
// keeps it from then on: it is read there. Since migration 00025 a notice sent from its claim
// has no event while it stays sent: its delivery holds the entry (sent at its updated_at,
// sending from its claimed_at), and it becomes an event only when the delivery moves on.
//
// Transitions made in one transaction share its time. The only ones a transaction makes
// together on one customer are a notice settling (failed, bounced, suppressed) and the
// fallback it queues on the other channel: queued goes last, then the lifecycle's order.
func timeline(recipient string) string {
	return `
	SELECT DISTINCT ON (at, state = 'queued', array_position('{queued,sending,sent,delivered,bounced,failed,suppressed}'::text[], state),
		channel, attempt, state) at, channel, state, source, attempt, provider_id, error
	FROM (
		SELECT at, channel, state, source, attempt,
			CASE WHEN state = 'sent' AND provider_id = '' THEN coalesce((SELECT d.provider_id FROM deliveries d
				WHERE d.campaign_id = $1 AND d.recipient_id = e.recipient_id AND d.channel = e.channel), '') ELSE provider_id END,
			error, 0 AS synthetic FROM delivery_events e
		WHERE campaign_id = $1 AND recipient_id = ` + recipient + ` AND ($3::text IS NULL OR channel = $3)
		UNION ALL
		SELECT started_at, channel, 'sending', 'worker', attempt, '', '', 1 FROM delivery_events
		WHERE campaign_id = $1 AND recipient_id = ` + recipient + ` AND ($3::text IS NULL OR channel = $3) AND started_at IS NOT NULL
		UNION ALL
		SELECT queued_at, channel, 'queued', CASE WHEN fallback THEN 'worker' ELSE 'planner' END, 0, '', '', 1 FROM deliveries
		WHERE campaign_id = $1 AND recipient_id = ` + recipient + ` AND ($3::text IS NULL OR channel = $3) AND queued_at IS NOT NULL
		UNION ALL
		SELECT updated_at, channel, 'sending', source, attempts, '', '', 1 FROM deliveries
		WHERE campaign_id = $1 AND recipient_id = ` + recipient + ` AND ($3::text IS NULL OR channel = $3) AND state = 'sending'
		UNION ALL
		SELECT h.at, d.channel, h.state, h.source, d.attempts, h.provider_id, h.error, 0 FROM deliveries d
		CROSS JOIN LATERAL (VALUES (d.updated_at, 'sent', d.source, d.provider_id, d.error),
			(d.claimed_at, 'sending', 'worker', '', '')) AS h (at, state, source, provider_id, error)
		WHERE d.campaign_id = $1 AND d.recipient_id = ` + recipient + ` AND ($3::text IS NULL OR d.channel = $3)
			AND d.state = 'sent' AND d.claimed_at IS NOT NULL
	) e
	ORDER BY at, state = 'queued', array_position('{queued,sending,sent,delivered,bounced,failed,suppressed}'::text[], state),
		channel, attempt, state, synthetic`
}

// collect appends every row to *out, scanned by scan.
func collect[T any](rows pgx.Rows, out *[]T, scan func(pgx.Row, *T) error) error {
	defer rows.Close()
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return err
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

// campaignExists returns nil if the campaign exists, else ENOTFOUND.
func (db *DB) campaignExists(ctx context.Context, uid uuid.UUID, id string) error {
	var ok bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, uid).Scan(&ok); err != nil {
		return fmt.Errorf("read campaign: %w", err)
	}
	if !ok {
		return breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
	}
	return nil
}

// Deliveries returns up to limit of a campaign's deliveries that pass f, in listing order
// (recipient, then channel), after the key after (nil: from the start), and the key to pass
// as after for the next page, nil when the listing is over. f must be valid.
//
// A filtered page examines at most listingScan deliveries: it may hold fewer than limit even
// though more follow, and next then points past what it examined. Only a nil next ends the
// listing.
func (db *DB) Deliveries(ctx context.Context, campaignID string, f breach.DeliveryFilter, after *breach.DeliveryKey,
	limit int) (page []breach.DeliveryRecord, next *breach.DeliveryKey, err error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, nil, err
	}
	from := breach.DeliveryKey{}
	if after != nil {
		from = *after
	}
	if f == (breach.DeliveryFilter{}) {
		page, next, err = db.allDeliveries(ctx, uid, from, limit)
	} else {
		page, next, err = db.filteredDeliveries(ctx, uid, f, from, limit)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list deliveries: %w", err)
	}
	if len(page) == 0 && next == nil && after == nil {
		// Nothing at all: an empty campaign, or none by that ID?
		if err := db.campaignExists(ctx, uid, campaignID); err != nil {
			return nil, nil, err
		}
	}
	return page, next, nil
}

// allDeliveries is an unfiltered page: the limit deliveries after from, in the primary key's
// order.
func (db *DB) allDeliveries(ctx context.Context, uid uuid.UUID, from breach.DeliveryKey, limit int) ([]breach.DeliveryRecord, *breach.DeliveryKey, error) {
	page := []breach.DeliveryRecord{}
	if err := db.queryGeneric(ctx, func(rows pgx.Rows) error { return collect(rows, &page, scanDelivery) }, `
		SELECT `+deliveryColumns+` FROM (
			SELECT * FROM deliveries d WHERE d.campaign_id = $1 AND (d.recipient_id, d.channel) > ($2, $3)
			ORDER BY d.recipient_id, d.channel LIMIT $4
		) d`+withRecipient+`
		ORDER BY d.recipient_id, d.channel`, uid, from.RecipientID, from.Channel, limit+1); err != nil {
		return nil, nil, err
	}
	if len(page) <= limit {
		return page, nil, nil
	}
	page = page[:limit]
	return page, &breach.DeliveryKey{RecipientID: page[limit-1].RecipientID, Channel: page[limit-1].Channel}, nil
}

// filteredDeliveries is a filtered page, in one statement and one walk of the primary key that
// stops as soon as the page is full: the deliveries after from are numbered as they are read
// (n), at most listingScan of them, and those passing f are shown. The listingScan-th is
// returned too, shown or not, so that a page that comes up short knows where the next goes on.
// A separate bound query (the key listingScan deliveries on, then the page up to it) walked
// the whole stretch twice for every page, the common filters' too (state=sent fills a page
// from the first rows read while a campaign sends), and was one more round trip.
func (db *DB) filteredDeliveries(ctx context.Context, uid uuid.UUID, f breach.DeliveryFilter, from breach.DeliveryKey,
	limit int) ([]breach.DeliveryRecord, *breach.DeliveryKey, error) {
	// Only the filters given become conditions: a generic plan of "$n = '' OR …" would test
	// them row by row.
	args := []any{uid, from.RecipientID, from.Channel, listingScan, limit + 1}
	var conds []string
	for _, c := range []struct{ column, value string }{{"state", string(f.State)}, {"channel", string(f.Channel)}, {"locale", f.Locale}} {
		if c.value != "" {
			args = append(args, c.value)
			conds = append(conds, "d."+c.column+" = $"+strconv.Itoa(len(args)))
		}
	}
	shown := strings.Join(conds, " AND ")
	// read is a row of the statement: a delivery, its number in the walk, and whether it passed f.
	type read struct {
		breach.DeliveryRecord
		n     int64
		shown bool
	}
	var all []read
	err := db.queryGeneric(ctx, func(rows pgx.Rows) error {
		return collect(rows, &all, func(row pgx.Row, r *read) error {
			return scanDeliveryAnd(row, &r.DeliveryRecord, &r.n, &r.shown)
		})
	}, `
		SELECT `+deliveryColumns+`, d.n, d.shown FROM (
			SELECT * FROM (
				SELECT d.*, row_number() OVER (ORDER BY d.recipient_id, d.channel) AS n, `+shown+` AS shown FROM (
					SELECT * FROM deliveries d WHERE d.campaign_id = $1 AND (d.recipient_id, d.channel) > ($2, $3)
					ORDER BY d.recipient_id, d.channel LIMIT $4
				) d
			) d WHERE d.shown OR d.n = $4
			ORDER BY d.recipient_id, d.channel LIMIT $5
		) d`+withRecipient+`
		ORDER BY d.recipient_id, d.channel`, args...)
	if err != nil {
		return nil, nil, err
	}
	page := make([]breach.DeliveryRecord, 0, len(all))
	var scanEnd *breach.DeliveryKey // the listingScan-th delivery's key, if the walk went that far
	for _, r := range all {
		if r.n == listingScan {
			scanEnd = &breach.DeliveryKey{RecipientID: r.RecipientID, Channel: r.Channel}
		}
		if r.shown {
			page = append(page, r.DeliveryRecord)
		}
	}
	switch {
	case len(page) > limit:
		page = page[:limit]
		return page, &breach.DeliveryKey{RecipientID: page[limit-1].RecipientID, Channel: page[limit-1].Channel}, nil
	case scanEnd != nil:
		return page, scanEnd, nil
	}
	return page, nil, nil
}

// ExportDeliveries calls fn with each of a campaign's deliveries in listing order — and, for
// each customer told by another's notice at the address they share (shared.go), that notice
// under their name (ToldWith set) — as the rows arrive from one query (one snapshot of the
// record, never held whole in memory), and returns how many it read. The record fn gets is reused: fn must not keep it. An error from fn
// stops the export and is returned as is.
func (db *DB) ExportDeliveries(ctx context.Context, campaignID string, fn func(*breach.DeliveryRecord) error) (int64, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return 0, err
	}
	if err := db.campaignExists(ctx, uid, campaignID); err != nil {
		return 0, err
	}
	// Walked by recipient (the primary key's order, streamed: nothing is sorted), each with
	// their deliveries by channel, then the notices that told them at a shared address.
	rows, err := db.pool.Query(ctx, `
		SELECT `+exportColumns+` FROM recipients r CROSS JOIN LATERAL (
			SELECT d.*, NULL::text AS told_with FROM deliveries d WHERE d.campaign_id = $1 AND d.recipient_id = r.id
			UNION ALL
			SELECT d.*, (SELECT x.customer_id FROM recipients x WHERE x.campaign_id = $1 AND x.id = d.recipient_id) FROM deliveries d
			WHERE r.email_with IS NOT NULL AND d.campaign_id = $1 AND d.recipient_id = r.email_with AND d.channel = 'email'
			UNION ALL
			SELECT d.*, (SELECT x.customer_id FROM recipients x WHERE x.campaign_id = $1 AND x.id = d.recipient_id) FROM deliveries d
			WHERE r.phone_with IS NOT NULL AND d.campaign_id = $1 AND d.recipient_id = r.phone_with AND d.channel = 'sms'
			UNION ALL
			SELECT d.*, (SELECT x.customer_id FROM recipients x WHERE x.campaign_id = $1 AND x.id = d.recipient_id) FROM deliveries d
			WHERE r.letter_with IS NOT NULL AND d.campaign_id = $1 AND d.recipient_id = r.letter_with AND d.channel = 'letter'
		) d
		WHERE r.campaign_id = $1 ORDER BY r.id`, uid)
	if err != nil {
		return 0, fmt.Errorf("export deliveries: %w", err)
	}
	defer rows.Close()
	var (
		n    int64
		d    breach.DeliveryRecord
		told *string
	)
	for rows.Next() {
		if err := scanDeliveryAnd(rows, &d, &told); err != nil {
			return n, fmt.Errorf("export deliveries: %w", err)
		}
		d.ToldWith = deref(told)
		if err := fn(&d); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export deliveries: %w", err)
	}
	return n, nil
}

// Suppressions returns up to limit suppressions of channel ch (every channel when empty) in
// listing order (channel, then address), after the key after (nil: from the start), and the
// key of the next page, nil when the listing is over.
func (db *DB) Suppressions(ctx context.Context, ch breach.Channel, after *breach.SuppressionKey, limit int) (
	page []breach.Suppression, next *breach.SuppressionKey, err error) {
	from := breach.SuppressionKey{}
	if after != nil {
		from = *after
	}
	args := []any{from.Channel, from.Address, limit + 1}
	where := ""
	if ch != "" {
		args = append(args, ch)
		where = " AND channel = $4"
	}
	rows, err := db.pool.Query(ctx, `
		SELECT `+suppressionColumns+` FROM suppressions s
		WHERE (channel, address) > ($1, $2)`+where+`
		ORDER BY channel, address LIMIT $3`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list suppressions: %w", err)
	}
	page = []breach.Suppression{}
	if err := collect(rows, &page, scanSuppression); err != nil {
		return nil, nil, fmt.Errorf("list suppressions: %w", err)
	}
	if len(page) > limit {
		page = page[:limit]
		last := page[limit-1]
		next = &breach.SuppressionKey{Channel: last.Channel, Address: last.Address}
	}
	return page, next, nil
}

// suppressionColumns are what scanSuppression reads, of suppressions s.
const suppressionColumns = `s.channel, s.address, s.source, s.reason, coalesce(s.campaign_id::text, ''), s.created_at`

func scanSuppression(row pgx.Row, s *breach.Suppression) error {
	return row.Scan(&s.Channel, &s.Address, &s.Source, &s.Reason, &s.CampaignID, &s.CreatedAt)
}

// recipientSuppressions selects the suppressions of customer_id $2's email address and phone
// number in campaign $1, oldest first: one probe of suppressions_match each, the address read
// first (an InitPlan) so that the probe is by both of the index's columns whatever the planner
// believes of the table's size.
const recipientSuppressions = `
	SELECT ` + suppressionColumns + ` FROM suppressions s WHERE s.channel = 'email'
		AND lower(s.address COLLATE "default") = (SELECT lower(email COLLATE "default") FROM recipients WHERE campaign_id = $1 AND customer_id = $2)
	UNION ALL
	SELECT ` + suppressionColumns + ` FROM suppressions s WHERE s.channel = 'sms'
		AND lower(s.address COLLATE "default") = (SELECT lower(phone COLLATE "default") FROM recipients WHERE campaign_id = $1 AND customer_id = $2)
	ORDER BY 6`
