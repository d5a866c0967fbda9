package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// rateWindow is the span over which a campaign's send rate is measured.
const rateWindow = 10 * time.Second

// wantsEmail and wantsSMS are the channel policy (breach.ChannelPolicy, the SQL parameter p)
// as conditions on a recipients row r: which channels the planner gives a customer. An empty
// policy is EmailFirst, the default of campaigns stored before policies existed.
func wantsEmail(p string) string {
	return `(r.email IS NOT NULL AND (` + p + ` <> 'sms_first' OR r.phone IS NULL))`
}

func wantsSMS(p string) string {
	return `(r.phone IS NOT NULL AND (` + p + ` IN ('sms_first', 'both') OR r.email IS NULL))`
}

// plannedEmail and plannedSMS are the channels the planner gives a customer: the policy's, less
// a channel on which the customer shares the address of an earlier customer, whose notice there
// tells them both (mergeSharedAddresses).
func plannedEmail(p string) string { return `(` + wantsEmail(p) + ` AND r.email_with IS NULL)` }

func plannedSMS(p string) string { return `(` + wantsSMS(p) + ` AND r.phone_with IS NULL)` }

// PlanCampaign creates the delivery rows (queued) for up to limit more recipients of a running
// campaign, in recipient ID order, and records how far it got. Steps are serialized by the
// campaign's row lock, so several workers may call it at once. A campaign that is not running
// is not planned (Done false, nothing created).
func (db *DB) PlanCampaign(ctx context.Context, campaignID string, limit int) (breach.Planned, error) {
	p := breach.Planned{Low: map[breach.Channel]int64{}, High: map[breach.Channel]int64{}}
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return p, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return p, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var (
		state   breach.CampaignState
		spec    breach.Campaign // its locales and channel policy
		through int64
		planned bool
	)
	err = tx.QueryRow(ctx, `
		SELECT state, spec, planned_through, planned FROM campaigns WHERE id = $1 FOR UPDATE`, uid,
	).Scan(&state, &spec, &through, &planned)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, breach.Errorf(breach.ENOTFOUND, "campaign %q not found", campaignID)
	}
	if err != nil {
		return p, fmt.Errorf("lock campaign: %w", err)
	}
	if planned {
		p.Done = true
		return p, nil
	}
	if state != breach.CampaignRunning {
		return p, nil
	}
	last, read, err := planRows(ctx, tx, uid, &spec, through, limit, breach.DeliveryQueued, "planner", "")
	if err != nil {
		return p, err
	}
	p.Done = read < int64(limit)
	if read > 0 {
		if err := deliveryRange(ctx, tx, uid, through, last, &p); err != nil {
			return p, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE campaigns SET planned_through = greatest(planned_through, $2), planned = $3 WHERE id = $1`,
		uid, last, p.Done); err != nil {
		return p, fmt.Errorf("record plan: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return p, fmt.Errorf("commit plan: %w", err)
	}
	// The workers' queries are planned on the partition's statistics, which autovacuum
	// refreshes only after a while: stale, they describe an empty table and the planner scans
	// it whole. The first step and the last refresh them (a sample: fast at any size).
	if through == 0 || p.Done {
		if _, err := db.pool.Exec(ctx, `ANALYZE `+deliveriesPartition(uid)); err != nil {
			return p, fmt.Errorf("analyze deliveries: %w", err)
		}
	}
	return p, nil
}

// planRows creates deliveries in state for the recipients of campaign c after recipient ID
// after (up to limit of them; 0: all), on the channels c's policy gives each, each in the locale
// its notice is written in, and returns the highest recipient ID it read and how many
// recipients it read.
//
// The locale is negotiated in Go (breach.LocaleNegotiator, the renderer's own choice) once per
// distinct (locale, country) of the step's recipients — a few dozen pairs for any list — and
// joined to the rows as arrays, so the INSERT stays one set-based statement. A delivery created
// queued carries its time (queued_at, the timeline's queued entry: no event row is written for
// it, migration 00016). A recipient's delivery that exists already is skipped by NOT EXISTS
// rather than ON CONFLICT, whose speculative insertion wrote an extra WAL record per row.
func planRows(ctx context.Context, tx pgx.Tx, uid uuid.UUID, c *breach.Campaign, after int64, limit int,
	state breach.DeliveryState, source, errText string) (last, read int64, err error) {
	limitClause := ""
	if limit > 0 {
		limitClause = fmt.Sprintf("LIMIT %d", limit)
	}
	step := `SELECT id, email, phone, locale, country, email_with, phone_with FROM recipients WHERE campaign_id = $1 AND id > $2 ORDER BY id ` + limitClause
	rows, err := tx.Query(ctx, `SELECT DISTINCT locale, country FROM (`+step+`) r`, uid, after)
	if err != nil {
		return 0, 0, fmt.Errorf("read recipients' locales: %w", err)
	}
	var (
		locales, countries, written []string
		locale, country             string
	)
	negotiate := breach.LocaleNegotiator(c)
	if _, err := pgx.ForEachRow(rows, []any{&locale, &country}, func() error {
		locales, countries = append(locales, locale), append(countries, country)
		written = append(written, negotiate(locale, country))
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("read recipients' locales: %w", err)
	}
	err = tx.QueryRow(ctx, `
		WITH r AS (`+step+`), created AS (
			INSERT INTO deliveries (campaign_id, recipient_id, channel, state, source, error, locale, queued_at)
			SELECT $1, r.id, ch.channel, $4, $5, $6, coalesce(m.written, ''), CASE WHEN $4 = 'queued' THEN now() END
			FROM r CROSS JOIN (VALUES ('email'), ('sms')) AS ch (channel)
			LEFT JOIN unnest($7::text[], $8::text[], $9::text[]) AS m (locale, country, written)
				ON m.locale = r.locale AND m.country = r.country
			WHERE ((ch.channel = 'email' AND `+plannedEmail("$3")+`) OR (ch.channel = 'sms' AND `+plannedSMS("$3")+`))
				AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.campaign_id = $1 AND x.recipient_id = r.id AND x.channel = ch.channel)
			ORDER BY r.id
		)
		SELECT coalesce(max(id), $2), count(*) FROM r`, uid, after, c.Channels, state, source, errText,
		locales, countries, written,
	).Scan(&last, &read)
	if err != nil {
		return 0, 0, fmt.Errorf("plan deliveries: %w", err)
	}
	return last, read, nil
}

// deliveryRange fills p with the range of recipient IDs planned per channel.
func deliveryRange(ctx context.Context, tx pgx.Tx, uid uuid.UUID, after, last int64, p *breach.Planned) error {
	rows, err := tx.Query(ctx, `
		SELECT channel, min(recipient_id), max(recipient_id) FROM deliveries
		WHERE campaign_id = $1 AND recipient_id > $2 AND recipient_id <= $3 GROUP BY channel`, uid, after, last)
	if err != nil {
		return fmt.Errorf("read planned range: %w", err)
	}
	var (
		ch       breach.Channel
		low, hig int64
	)
	_, err = pgx.ForEachRow(rows, []any{&ch, &low, &hig}, func() error {
		p.Low[ch], p.High[ch] = low, hig
		return nil
	})
	if err != nil {
		return fmt.Errorf("read planned range: %w", err)
	}
	return nil
}
