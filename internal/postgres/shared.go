package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// One notice per address (migration 00032). Customers of a campaign who share an email address
// or a phone number — a family's accounts, one person's two lines, a company's shared mailbox —
// would each be sent a notice there: the same mailbox told twice, each notice saying part of
// what was exposed. DESIGN's rule is that duplicates by address are merged, never sent twice.
//
// The merge is decided when the campaign is approved: its list can no longer change (imports
// take draft campaigns only) nor its channel policy, and the approvers approve a list whose
// every customer is told once per address. Of the customers the policy gives a channel who
// share an address on it, the earliest (lowest recipient ID: the list's order) keeps the
// notice; its covers name the others, and its notice names their exposed categories with its
// own (stored beside, so that a claim reads no other row: ClaimRange), and the others are
// planned no delivery on that channel (plannedEmail, plannedSMS). Should the kept notice fail
// for good or be suppressed, the others get their fallback as its customer does
// (queueFallbacks); until then they count as reached through it (residenceCounts).
//
// An address the list gives more than breach.MaxCustomersPerAddress customers is no family's:
// it is a placeholder a CRM put where it had none (sinemail@…, no@no.com, +10000000000). Merged,
// one notice to a dead mailbox would count a hundred thousand customers told. It is no address
// of theirs instead (its _with is 0: hasEmail, hasPhone): they are reached by their other
// channel, or a letter, or counted without contact for substitute notice.
//
// Computing it costs one grouping of the campaign's addresses (about a second per million
// customers here) and a join per channel that has shared ones, paid once by the approval that
// completes rather than by every import (which would lose a sixth of the import rate).

// placeholder is the _with value of a customer whose address on that channel is a placeholder.
const placeholder = 0

// hasEmail and hasPhone are, in SQL, whether the customer of a recipients row (its columns
// prefixed by r: "r." or "") has an address on the channel that a notice can go to.
func hasEmail(r string) string {
	return `(` + r + `email IS NOT NULL AND ` + r + `email_with IS DISTINCT FROM 0)`
}

func hasPhone(r string) string {
	return `(` + r + `phone IS NOT NULL AND ` + r + `phone_with IS DISTINCT FROM 0)`
}

// sharedAddressKeys is, per channel, the SQL expression the addresses are compared by on a
// recipients row r — email addresses in any letter case (as the suppression list matches
// them), phone numbers as their E.164 form — and the columns of the decision.
var sharedAddressKeys = map[breach.Channel]struct{ key, wants, with, covers, exposed string }{
	breach.ChannelEmail: {key: `lower(r.email COLLATE "default")`, wants: wantsEmail("$2"),
		with: "email_with", covers: "email_covers", exposed: "email_exposed"},
	breach.ChannelSMS: {key: `r.phone`, wants: wantsSMS("$2"),
		with: "phone_with", covers: "phone_covers", exposed: "phone_exposed"},
}

// SharedAddresses is what mergeSharedAddresses decided, per channel: customers told by another
// customer's notice, and customers whose address is a placeholder.
type SharedAddresses struct {
	Merged, Placeholders map[breach.Channel]int64
}

// mergeSharedAddresses decides, for campaign uid under policy, which customers' notices are
// merged into another's and which addresses are placeholders, forgetting any earlier decision.
// It runs in the approval's transaction, under the campaign's lock.
func mergeSharedAddresses(ctx context.Context, tx pgx.Tx, uid uuid.UUID, policy breach.ChannelPolicy) (SharedAddresses, error) {
	out := SharedAddresses{Merged: map[breach.Channel]int64{}, Placeholders: map[breach.Channel]int64{}}
	// An approval withdrawn by a later import is given again on another list: what the last
	// one decided is cleared first (a few rows, found by one scan).
	if _, err := tx.Exec(ctx, `
		UPDATE recipients SET email_with = NULL, email_covers = NULL, email_exposed = NULL,
			phone_with = NULL, phone_covers = NULL, phone_exposed = NULL
		WHERE campaign_id = $1 AND (email_with IS NOT NULL OR email_covers IS NOT NULL
			OR phone_with IS NOT NULL OR phone_covers IS NOT NULL)`, uid); err != nil {
		return out, fmt.Errorf("clear shared addresses: %w", err)
	}
	// The addresses given more than once, of both channels, in one pass: a few, or none.
	if _, err := tx.Exec(ctx, `
		CREATE TEMP TABLE shared_addresses ON COMMIT DROP AS
		SELECT channel, address, count(*) AS customers FROM (
			SELECT 'email' AS channel, `+sharedAddressKeys[breach.ChannelEmail].key+` AS address
			FROM recipients r WHERE r.campaign_id = $1 AND r.email IS NOT NULL
			UNION ALL
			SELECT 'sms', r.phone FROM recipients r WHERE r.campaign_id = $1 AND r.phone IS NOT NULL
		) a
		GROUP BY channel, address HAVING count(*) > 1`, uid); err != nil {
		return out, fmt.Errorf("find shared addresses: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT channel FROM shared_addresses`)
	if err != nil {
		return out, fmt.Errorf("find shared addresses: %w", err)
	}
	channels, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return out, fmt.Errorf("find shared addresses: %w", err)
	}
	shared := map[string]bool{}
	for _, ch := range channels {
		shared[ch] = true
	}
	// Placeholders first, on both channels: whether a customer has an email address decides
	// whether the policy gives them SMS, and the other way round.
	for _, ch := range []breach.Channel{breach.ChannelEmail, breach.ChannelSMS} {
		if !shared[string(ch)] {
			continue
		}
		k := sharedAddressKeys[ch]
		tag, err := tx.Exec(ctx, `
			UPDATE recipients r SET `+k.with+` = 0
			FROM shared_addresses s
			WHERE r.campaign_id = $1 AND s.channel = $2 AND s.customers > $3 AND s.address = `+k.key,
			uid, string(ch), breach.MaxCustomersPerAddress)
		if err != nil {
			return out, fmt.Errorf("set placeholder addresses aside (%s): %w", ch, err)
		}
		out.Placeholders[ch] = tag.RowsAffected()
	}
	for _, ch := range []breach.Channel{breach.ChannelEmail, breach.ChannelSMS} {
		if !shared[string(ch)] {
			continue
		}
		k := sharedAddressKeys[ch]
		var n int64
		err := tx.QueryRow(ctx, `
			WITH members AS MATERIALIZED (
				SELECT r.id, r.exposed, s.address FROM recipients r
				JOIN shared_addresses s ON s.channel = $3 AND s.customers <= $4 AND s.address = `+k.key+`
				WHERE r.campaign_id = $1 AND `+k.wants+`
			), groups AS (
				SELECT address, min(id) AS first, array_agg(id ORDER BY id) AS ids,
					bit_or(exposed) AS exposed
				FROM members GROUP BY address HAVING count(*) > 1
			), marked AS (
				UPDATE recipients r SET
					`+k.with+` = CASE WHEN m.id <> g.first THEN g.first END,
					`+k.covers+` = CASE WHEN m.id = g.first THEN g.ids[2:] END,
					`+k.exposed+` = CASE WHEN m.id = g.first THEN g.exposed END
				FROM members m JOIN groups g ON g.address = m.address
				WHERE r.campaign_id = $1 AND r.id = m.id
				RETURNING m.id <> g.first AS merged
			)
			SELECT count(*) FILTER (WHERE merged) FROM marked`,
			uid, string(policy), string(ch), breach.MaxCustomersPerAddress).Scan(&n)
		if err != nil {
			return out, fmt.Errorf("merge customers sharing an address (%s): %w", ch, err)
		}
		out.Merged[ch] = n
	}
	return out, nil
}
