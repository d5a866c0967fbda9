package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// ClaimRange claims the due queued deliveries of one channel of a running campaign whose
// recipient IDs are in [low, high), for worker: queued → sending, a conditional update, so that
// a delivery is only ever claimed once however many tasks name it. The update itself repeats
// what makes a delivery due (queued, its next attempt and quiet-hours hold passed): a row
// another transaction changes meanwhile — a concurrent claim of the same range, a cancellation,
// a quiet-hours hold — is waited for and checked again as it then is (PostgreSQL re-evaluates
// an UPDATE's conditions on the row's newest version), and left alone if no longer due.
//
// The rows are not locked first (SELECT … FOR UPDATE SKIP LOCKED, until this stop): each lock
// wrote a WAL record per claimed row (Heap/LOCK, 54 bytes of the 0.81 KB a notice cost). An
// earlier stop's note held that without it the kill test saw 66–82 duplicates over two kills
// instead of 5–15; measured again with the conditions above (cmd/breachnotice,
// TestCLI_WorkerKilledTwiceAtFullRateFewDuplicatesAllCounted, same machine, same hour): 13, 15,
// 12 and 10 without the lock, 12, 16, 10 and 12 with it. What the lock also gave is that a claim never
// waited: now one waits for a row another statement holds until it commits. (due stays
// MATERIALIZED, as the lock made it: inlined into the update, the planner joined it otherwise
// and PostgreSQL's CPU per notice doubled.) Claims of one
// range (a task delivered twice) and a cancellation take the rows in the same ascending order
// (the planner inserts them so, and their updates stay on their page), so they queue rather
// than deadlock; were they ever to, PostgreSQL aborts one after deadlock_timeout and a claim's
// task is tried again, a cancellation's operator told to repeat it. (Giving up after a short
// lock_timeout, 500 ms, instead delayed the kill test's last notices by ~50 s in three runs of
// four: some claims found rows held longer — which statement held them is not pinned down —
// failed, and their tasks waited for their retry.)
//
// Deliveries whose address is on the suppression list (in any letter case: the index
// suppressions_match, migration 00009) become suppressed instead, and when
// fallback is set their customers' other channel is queued (the IDs are returned as
// fallbacks, to be sent on ch.Other()); how many were suppressed is returned. A campaign that
// is not running yields nothing: pausing stops the claims at once, and a delivery held for quiet
// hours is not claimed before its not_before (the claim clears it). (The range is repeated on
// every join to recipients: without it the
// planner read and sorted the whole campaign's recipients for each claim.)
func (db *DB) ClaimRange(ctx context.Context, campaignID string, ch breach.Channel, low, high int64, worker string,
	fallback bool, started int) (claims []breach.Claim, fallbacks []int64, suppressedCount int, err error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, nil, 0, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `
		WITH due AS MATERIALIZED (
			SELECT d.recipient_id, EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = d.channel
				AND lower(s.address COLLATE "default") = lower(CASE WHEN d.channel = 'email' THEN r.email ELSE r.phone END COLLATE "default")
			) AS suppressed
			FROM deliveries d
			JOIN recipients r ON r.campaign_id = $1 AND r.id = d.recipient_id AND r.id >= $3 AND r.id < $4
			WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id >= $3 AND d.recipient_id < $4
				AND d.state = 'queued' AND d.next_attempt_at <= now() AND (d.not_before IS NULL OR d.not_before <= $6)
				AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.state = 'running')
		), claimed AS (
			UPDATE deliveries d SET
				state = CASE WHEN due.suppressed THEN 'suppressed' ELSE 'sending' END,
				worker_id = CASE WHEN due.suppressed THEN NULL ELSE $5::uuid END,
				attempts = d.attempts + CASE WHEN due.suppressed THEN 0 ELSE 1 END,
				error = CASE WHEN due.suppressed THEN 'the address is on the suppression list' ELSE d.error END,
				source = 'worker', updated_at = now(), not_before = NULL
			FROM due
			WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id = due.recipient_id
				AND d.state = 'queued' AND d.next_attempt_at <= now() AND (d.not_before IS NULL OR d.not_before <= $6)
			RETURNING d.recipient_id, d.state, d.attempts, d.possibly_sent
		)
		SELECT c.recipient_id, c.state, c.attempts, c.possibly_sent, r.customer_id, r.email, r.phone, r.name, r.locale, r.country,
			r.jurisdiction, `+exposedToldOn("$2")+`, r.attributes, e.code, now()
		FROM claimed c JOIN recipients r ON r.campaign_id = $1 AND r.id = c.recipient_id AND r.id >= $3 AND r.id < $4
		LEFT JOIN enrolment_codes e ON e.campaign_id = $1 AND e.recipient_id = c.recipient_id
		ORDER BY c.recipient_id`, uid, ch, low, high, worker, db.now())
	if err != nil {
		return nil, nil, 0, fmt.Errorf("claim deliveries: %w", err)
	}
	var suppressed []int64
	for rows.Next() {
		var (
			cl           breach.Claim
			state        breach.DeliveryState
			email, phone *string
			exposed      int32
			code         *string
		)
		r := &cl.Recipient
		if err := rows.Scan(&r.ID, &state, &cl.Attempt, &cl.PossiblySent, &r.CustomerID, &email, &phone, &r.Name, &r.Locale, &r.Country,
			&r.Jurisdiction, &exposed, &r.Attributes, &code, &cl.ClaimedAt); err != nil {
			rows.Close()
			return nil, nil, 0, fmt.Errorf("claim deliveries: %w", err)
		}
		r.CampaignID = campaignID
		r.Email, r.Phone, r.Exposed, r.EnrolmentCode = deref(email), deref(phone), breach.Categories(exposed), deref(code)
		if state == breach.DeliverySuppressed {
			suppressed = append(suppressed, r.ID)
			continue
		}
		claims = append(claims, cl)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, fmt.Errorf("claim deliveries: %w", err)
	}
	if fallback && len(suppressed) > 0 {
		if fallbacks, err = queueFallbacks(ctx, tx, campaignID, ch.Other(), suppressed); err != nil {
			return nil, nil, 0, err
		}
	}
	if started > 0 && len(claims) > 0 {
		if err := announceStarts(ctx, tx, uid, ch, worker, claims[0].ClaimedAt, claims[min(started, len(claims))-1].Recipient.ID); err != nil {
			return nil, nil, 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, nil, 0, fmt.Errorf("commit claim: %w", err)
	}
	return claims, fallbacks, len(suppressed), nil
}

// exposedToldOn is, in SQL, what the notice on channel ch (a parameter) to the customer of
// recipients row r tells them was exposed: their own categories or, when their address there
// is shared with later customers whose notices are merged into theirs, the union of all of
// theirs, stored at approval (shared.go). (Read from the other customers' rows by a subquery,
// it made the first claims of a campaign take seconds in some runs of the first-notice
// benchmark.)
func exposedToldOn(ch string) string {
	return `coalesce(CASE WHEN ` + ch + ` = 'email' THEN r.email_exposed ELSE r.phone_exposed END, r.exposed)`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// queueFallbacks queues deliveries on channel ch for the given recipients that have an address
// on it and no delivery on it yet, and returns their IDs. A fallback is written in the locale
// of the delivery it replaces (the locale depends on the customer, not the channel). The
// customer_ids that notice was to tell too — the same person's (shared.go) — were not told
// either: each gets a fallback as well, in the same locale. Where a customer's address on ch is
// merged into the same person's other customer_id's notice there, the fallback is that notice
// (queued once, whichever of them fails first; naming what was exposed under each): one
// person's two customer_ids at one phone got two SMS when their emails bounced one at a time
// (the second review).
func queueFallbacks(ctx context.Context, tx pgx.Tx, campaignID string, ch breach.Channel, ids []int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `
		WITH told AS (
			-- each customer and the one whose notice on the other channel was to tell them:
			-- themselves, or the same person's other customer_id (shared.go), in whose
			-- language theirs is written too
			SELECT f.id AS id, f.id AS by FROM unnest($3::bigint[]) AS f (id)
			UNION ALL
			SELECT c.id, f.id FROM recipients f, unnest(CASE WHEN $2 = 'email' THEN f.phone_covers ELSE f.email_covers END) AS c (id)
			WHERE f.campaign_id = $1 AND f.id = ANY ($3)
		), targets AS (
			-- the notice on ch that tells each: their own, or the one it is merged into
			SELECT DISTINCT ON (1) coalesce(CASE WHEN $2 = 'email' THEN r.email_with ELSE r.phone_with END, r.id) AS id, told.by
			FROM told JOIN recipients r ON r.campaign_id = $1 AND r.id = told.id
			WHERE CASE WHEN $2 = 'email' THEN r.email ELSE r.phone END IS NOT NULL
			ORDER BY 1, 2
		)
		INSERT INTO deliveries (campaign_id, recipient_id, channel, state, source, fallback, locale, queued_at)
		SELECT $1, t.id, $2, 'queued', 'worker', true, coalesce(o.locale, ''), now() FROM targets t
		LEFT JOIN deliveries o ON o.campaign_id = $1 AND o.recipient_id = t.by AND o.channel <> $2
		ORDER BY t.id
		ON CONFLICT DO NOTHING
		RETURNING recipient_id`, campaignID, ch, ids)
	if err != nil {
		return nil, fmt.Errorf("queue fallbacks: %w", err)
	}
	queued, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("queue fallbacks: %w", err)
	}
	return queued, nil
}

// Record writes the outcomes of worker's claimed deliveries on one channel, in one statement.
// (The recipient IDs are matched with = ANY as well as joined: that is an index condition
// whatever the planner believes of the partition's size, where a bare join to unnest once
// scanned a whole campaign per batch.)
// An outcome is written only while its delivery is still this worker's claim, or was released
// and not claimed again, or failed by a cancellation meanwhile (a sent notice must be recorded
// as sent even then). When fallback is
// set, the customers whose delivery failed or was suppressed get their other channel queued;
// their IDs are returned.
//
// A send recorded after its delivery was released possibly sent (ReleaseOrphans) is a possible
// duplicate: possible_duplicates counts the earlier sends that may have reached the customer —
// all of them when this is a new claim's send, all but one when it is the late record of a
// released claim (it is one of them).
//
// A notice sent from its claim is recorded on its delivery alone once sent_record says so (no
// process of the previous release runs; migration 00025): claimed_at keeps when the attempt
// began (the claim's time, the row's updated_at until now), and the delivery holds its sent
// entry instead of an event (the timeline reads it there).
//
// The record of a sent notice is what keeps it from being sent again, and the time it takes is
// the window for a duplicate: when the batch asks for nothing else (no suppression, no
// fallback) it is one statement in its own transaction, one round trip; it is durable
// (synchronous commit) when Record returns.
func (db *DB) Record(ctx context.Context, campaignID string, ch breach.Channel, worker string, outcomes []breach.Outcome,
	fallback bool) (fallbacks []int64, err error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	n := len(outcomes)
	ids, states, pids, errs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	next, possibly := make([]time.Time, n), make([]bool, n)
	var suppress, settled []int64
	for i, o := range outcomes {
		ids[i], states[i], pids[i], errs[i], next[i], possibly[i] = o.RecipientID, string(o.State), o.ProviderID, o.Error, o.NextAttempt, o.PossiblySent
		if next[i].IsZero() {
			next[i] = time.Now()
		}
		if o.Suppress {
			suppress = append(suppress, o.RecipientID)
		}
		if o.State == breach.DeliveryFailed || o.State == breach.DeliverySuppressed {
			settled = append(settled, o.RecipientID)
		}
	}
	args := []any{uid, ch, ids, states, pids, errs, next, worker, cancelledError, possibleDuplicateError, possibly}
	if len(suppress) == 0 && !(fallback && len(settled) > 0) {
		if err := execGeneric(ctx, db.pool, recordOutcomes, args...); err != nil {
			return nil, fmt.Errorf("record outcomes: %w", err)
		}
		return nil, nil
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := execGeneric(ctx, tx, recordOutcomes, args...); err != nil {
		return nil, fmt.Errorf("record outcomes: %w", err)
	}
	if len(suppress) > 0 {
		if _, err := tx.Exec(ctx, `
			INSERT INTO suppressions (channel, address, source, reason, campaign_id)
			SELECT $2, CASE WHEN $2 = 'email' THEN r.email ELSE r.phone END, 'provider', 'the provider reports an opt-out', $1
			FROM recipients r WHERE r.campaign_id = $1 AND r.id = ANY ($3)
			ON CONFLICT DO NOTHING`, uid, ch, suppress); err != nil {
			return nil, fmt.Errorf("record suppressions: %w", err)
		}
	}
	if fallback && len(settled) > 0 {
		if fallbacks, err = queueFallbacks(ctx, tx, campaignID, ch.Other(), settled); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit outcomes: %w", err)
	}
	return fallbacks, nil
}

// recordOutcomes is Record's statement: $1 campaign, $2 channel, $3… the outcomes ($11 whether
// each may have been sent despite its failure), $8 the worker, $9 the cancellation's error,
// $10 the possible duplicate's. earlier is the number of possible sends before this one (see
// Record).
const recordOutcomes = `
		UPDATE deliveries d SET state = u.state, provider_id = u.provider_id,
			error = CASE WHEN u.state = 'sent' AND ` + earlierSends + ` > 0 THEN $10 ELSE u.error END,
			possible_duplicates = CASE WHEN u.state = 'sent' THEN ` + earlierSends + ` ELSE d.possible_duplicates END,
			possibly_sent = d.possibly_sent + CASE WHEN u.possibly THEN 1 ELSE 0 END,
			next_attempt_at = u.next_attempt_at, worker_id = NULL, source = 'worker', updated_at = now(),
			claimed_at = CASE WHEN u.state = 'sent' AND d.state = 'sending' AND d.worker_id = $8::uuid
				AND (SELECT held FROM sent_record) THEN d.updated_at END
		FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $11::boolean[])
			AS u (recipient_id, state, provider_id, error, next_attempt_at, possibly)
		WHERE d.campaign_id = $1 AND d.channel = $2 AND d.recipient_id = ANY ($3) AND d.recipient_id = u.recipient_id
			AND ((d.state = 'sending' AND d.worker_id = $8::uuid)
				OR (u.state = 'sent' AND (d.state = 'queued' OR (d.state = 'failed' AND d.error = $9))))`

// earlierSends is, in recordOutcomes, how many earlier sends of the delivery may have reached
// the customer: every release possibly sent when this worker holds the claim, all but one when
// this is the late record of a released claim.
const earlierSends = `(CASE WHEN d.state = 'sending' AND d.worker_id = $8::uuid THEN d.possibly_sent
	ELSE greatest(d.possibly_sent - 1, 0) END)`

// AnnounceStarts raises the started_through of worker's claim statement of claimedAt (the
// claims' updated_at, which the claim trigger keyed it by) to through, before the worker hands
// those claims on (see breach.DeliveryStore). Only ever raised: two statements of one worker
// made at the same instant share a row, and each task announces its own range.
func (db *DB) AnnounceStarts(ctx context.Context, campaignID string, ch breach.Channel, worker string, claimedAt time.Time, through int64) error {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	return announceStarts(ctx, db.pool, uid, ch, worker, claimedAt, through)
}

// announceStarts is AnnounceStarts through q: the pool, or the claim's own transaction.
func announceStarts(ctx context.Context, q execer, uid uuid.UUID, ch breach.Channel, worker string, claimedAt time.Time, through int64) error {
	tag, err := q.Exec(ctx, `
		UPDATE delivery_claims SET started_through = greatest(started_through, $5)
		WHERE campaign_id = $1 AND channel = $2 AND worker_id = $3::uuid AND claimed_at = $4`,
		uid, ch, worker, claimedAt, through)
	if err != nil {
		return fmt.Errorf("announce the claims started: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return breach.Errorf(breach.ECONFLICT, "the claim statement is gone: a reconciler took this worker's claims for lost")
	}
	return nil
}

// Release returns worker's claims on the given deliveries to the queue (sending → queued):
// what a worker had claimed but not sent when it began stopping or its campaign was paused.
// In a campaign cancelled meanwhile they fail instead, as its other unsent notices did.
func (db *DB) Release(ctx context.Context, campaignID string, ch breach.Channel, worker string, ids []int64) error {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `
		UPDATE deliveries SET worker_id = NULL, attempts = attempts - 1, source = 'worker', updated_at = now(),
			state = CASE WHEN c.state = 'cancelled' THEN 'failed' ELSE 'queued' END,
			error = CASE WHEN c.state = 'cancelled' THEN $5 ELSE 'released unsent: the campaign was paused or the worker stopping' END
		FROM campaigns c
		WHERE c.id = $1 AND campaign_id = $1 AND channel = $2 AND recipient_id = ANY ($3) AND deliveries.state = 'sending'
			AND worker_id = $4::uuid`,
		uid, ch, ids, worker, cancelledError)
	if err != nil {
		return fmt.Errorf("release claims: %w", err)
	}
	return nil
}
