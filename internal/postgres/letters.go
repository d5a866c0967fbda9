package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Letters: deliveries on the channel 'letter' (breach.ChannelLetter), made by the letters
// operation, never by the planner or the workers, which only ever handle 'email' and 'sms'.
// A letter is printed when its run wrote its PDF, then mailed or returned on the operator's
// word. Every change is an event row (the deliveries' triggers), source 'operator'.

// PrepareLetters makes sure campaign id may have letters — approved, running, paused or
// completed — and that its delivery partitions exist (an approved campaign that was never
// started has none yet), under the campaign's row lock like the start, which creates them
// too. It returns the campaign.
func (db *DB) PrepareLetters(ctx context.Context, id string) (*breach.Campaign, error) {
	return db.underCampaignLock(ctx, id, func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
		if err := breach.CheckLetters(c); err != nil {
			return err
		}
		return createDeliveryPartitions(ctx, tx, uid)
	})
}

// theirNotices is, in SQL, whether deliveries row e is one of the email and SMS notices that
// tell the customer of recipients row x: theirs, or another customer's at the address they
// share (shared.go), which told them in their stead.
func theirNotices(x string) string {
	return `(e.recipient_id = ` + x + `.id AND e.channel IN ('email', 'sms')
	OR e.recipient_id = ` + x + `.email_with AND e.channel = 'email' OR e.recipient_id = ` + x + `.phone_with AND e.channel = 'sms')`
}

// owedLetter is, in SQL, whether the customer of recipients row x is owed a letter under the
// policy ($3, breach.LetterPolicy): anyone (all), one reachable by no other way, or (fallback)
// one whose email and SMS notices (theirNotices) all ended for good (bounced, failed,
// suppressed), one at least made.
func owedLetter(x string) string {
	return `($3 = 'all'
		OR (` + x + `.email IS NULL AND ` + x + `.phone IS NULL)
		OR ($3 = 'fallback'
			AND EXISTS (SELECT 1 FROM deliveries e
				WHERE e.campaign_id = ` + x + `.campaign_id AND ` + theirNotices(x) + `)
			AND NOT EXISTS (SELECT 1 FROM deliveries e
				WHERE e.campaign_id = ` + x + `.campaign_id AND ` + theirNotices(x) + `
					AND e.state NOT IN ('bounced', 'failed', 'suppressed'))))`
}

// lettersDue selects, after a recipient ID and in ID order, the recipients of a campaign owed
// a letter (owedLetter) with a postal address, not purged — or whose letter tells another
// customer_id of theirs owed one (letter_covers: the same person at the same postal address,
// shared.go), its letter then naming what was exposed under each (letter_exposed); a customer
// told by another's letter (letter_with) is owed none of their own. A recipient who has a
// letter already stays in every run (a run is repeatable). Each row ends with the recipient's
// pool code and the state of their letter (” when none).
var lettersDue = `
	SELECT id, campaign_id, customer_id, email, phone, name, locale, country, jurisdiction,
		coalesce(r.letter_exposed, r.exposed), attributes, updated_at, postal, ` + enrolmentCodeOf("r") + `,
		coalesce((SELECT l.state FROM deliveries l
			WHERE l.campaign_id = r.campaign_id AND l.recipient_id = r.id AND l.channel = 'letter'), '')
	FROM recipients r
	WHERE r.campaign_id = $1 AND r.id > $2 AND r.postal IS NOT NULL AND r.purged_at IS NULL AND (
		r.letter_with IS NULL AND (` + owedLetter("r") + `
			OR r.letter_covers IS NOT NULL AND EXISTS (SELECT 1 FROM recipients m
				WHERE m.campaign_id = r.campaign_id AND m.id = ANY (r.letter_covers) AND m.purged_at IS NULL
					AND ` + owedLetter("m") + `))
		OR EXISTS (SELECT 1 FROM deliveries l
			WHERE l.campaign_id = r.campaign_id AND l.recipient_id = r.id AND l.channel = 'letter'))
	ORDER BY r.id
	LIMIT $4`

// LettersDue returns up to limit recipients of a campaign owed a letter under policy (see
// lettersDue) whose IDs are above after, in ID order, each with the state of their letter
// ("" when they have none yet). A run pages through them, so that its memory does not grow
// with the list.
func (db *DB) LettersDue(ctx context.Context, campaignID string, policy breach.LetterPolicy, after int64, limit int) ([]breach.LetterDue, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, lettersDue, uid, after, policy, limit)
	if err != nil {
		return nil, fmt.Errorf("select letters due: %w", err)
	}
	var (
		out          []breach.LetterDue
		email, phone *string
		code         *string
		exposed      int32
		postal       *breach.PostalAddress
		state        string
	)
	for rows.Next() {
		r := &breach.Recipient{}
		postal = nil
		if err := rows.Scan(&r.ID, &r.CampaignID, &r.CustomerID, &email, &phone, &r.Name, &r.Locale, &r.Country,
			&r.Jurisdiction, &exposed, &r.Attributes, &r.UpdatedAt, &postal, &code, &state); err != nil {
			rows.Close()
			return nil, fmt.Errorf("select letters due: %w", err)
		}
		r.Email, r.Phone, r.Exposed, r.EnrolmentCode = deref(email), deref(phone), breach.Categories(exposed), deref(code)
		if postal != nil {
			r.Postal = *postal
		}
		out = append(out, breach.LetterDue{Recipient: r, State: breach.DeliveryState(state)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select letters due: %w", err)
	}
	return out, nil
}

// MarkLettersPrinted records the letters of a run's step as printed: a delivery (channel
// letter, state printed, source operator) for each recipient who had none, and pending ones
// moved to printed; a letter already printed, mailed or returned is left as it is (a second
// run re-prints it without a new delivery or event). locales are the letters' locales, one per
// ID. It returns how many letters it printed for the first time.
func (db *DB) MarkLettersPrinted(ctx context.Context, campaignID string, ids []int64, locales []string) (int64, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return 0, err
	}
	if len(ids) != len(locales) {
		return 0, fmt.Errorf("mark letters printed: %d IDs, %d locales", len(ids), len(locales))
	}
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO deliveries AS d (campaign_id, recipient_id, channel, state, source, locale)
		SELECT $1, m.id, 'letter', 'printed', 'operator', m.locale
		FROM unnest($2::bigint[], $3::text[]) AS m (id, locale)
		ORDER BY m.id
		ON CONFLICT (campaign_id, recipient_id, channel) DO UPDATE SET state = 'printed', source = 'operator', updated_at = now()
			WHERE d.state = 'pending'`, uid, ids, locales)
	if err != nil {
		return 0, fmt.Errorf("mark letters printed: %w", err)
	}
	return tag.RowsAffected(), nil
}

// MoveLetters moves the letters of the customers named in moves to state to, from any of the
// states from, each with its reason (kept as the delivery's error: "addressee unknown"), in
// one statement, and says for each move what became of it: the customer unknown, no letter,
// a letter in a state that cannot move, or moved. A customer named twice moves once.
func (db *DB) MoveLetters(ctx context.Context, campaignID string, moves []breach.LetterMove, from []breach.DeliveryState,
	to breach.DeliveryState) ([]breach.LetterMoveResult, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(moves))
	reasons := make([]string, len(moves))
	for i, m := range moves {
		ids[i], reasons[i] = m.CustomerID, m.Reason
	}
	rows, err := db.pool.Query(ctx, `
		WITH m AS (
			SELECT DISTINCT ON (customer_id) customer_id, reason, ord
			FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m (customer_id, reason, ord)
			ORDER BY customer_id, ord DESC
		), r AS (
			SELECT m.customer_id, m.reason, rc.id
			FROM m LEFT JOIN recipients rc ON rc.campaign_id = $1 AND rc.customer_id = m.customer_id
		), moved AS (
			UPDATE deliveries d SET state = $4, error = r.reason, source = 'operator', updated_at = now()
			FROM r
			WHERE d.campaign_id = $1 AND d.recipient_id = r.id AND d.channel = 'letter' AND d.state = ANY ($5)
			RETURNING d.recipient_id
		)
		SELECT r.customer_id, r.id IS NOT NULL, coalesce(d.state, ''),
			EXISTS (SELECT 1 FROM moved WHERE moved.recipient_id = r.id)
		FROM r LEFT JOIN deliveries d ON d.campaign_id = $1 AND d.recipient_id = r.id AND d.channel = 'letter'`,
		uid, ids, reasons, to, from)
	if err != nil {
		return nil, fmt.Errorf("move letters: %w", err)
	}
	var (
		out   []breach.LetterMoveResult
		res   breach.LetterMoveResult
		state string
	)
	_, err = pgx.ForEachRow(rows, []any{&res.CustomerID, &res.Known, &state, &res.Moved}, func() error {
		res.Was = breach.DeliveryState(state)
		out = append(out, res)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move letters: %w", err)
	}
	return out, nil
}

// MoveAllLetters moves every letter of a campaign in state from to state to (printed →
// mailed: the print vendor posted the batch) and returns how many it moved.
func (db *DB) MoveAllLetters(ctx context.Context, campaignID string, from, to breach.DeliveryState) (int64, error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return 0, err
	}
	tag, err := db.pool.Exec(ctx, `
		UPDATE deliveries SET state = $3, source = 'operator', updated_at = now()
		WHERE campaign_id = $1 AND channel = 'letter' AND state = $2`, uid, from, to)
	if err != nil {
		return 0, fmt.Errorf("move letters: %w", err)
	}
	return tag.RowsAffected(), nil
}

// LetterCustomers calls fn with the customer ID of each of a campaign's letters, in recipient
// order: what a returned-mail file's references are matched against.
func (db *DB) LetterCustomers(ctx context.Context, campaignID string, fn func(customerID string) error) error {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT r.customer_id FROM deliveries d
		JOIN recipients r ON r.campaign_id = d.campaign_id AND r.id = d.recipient_id
		WHERE d.campaign_id = $1 AND d.channel = 'letter' ORDER BY d.recipient_id`, uid)
	if err != nil {
		return fmt.Errorf("read letters: %w", err)
	}
	var id string
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error { return fn(id) })
	if err != nil {
		return fmt.Errorf("read letters: %w", err)
	}
	return nil
}
