package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// One notice per person and address (migration 00032). DESIGN: duplicates by address are merged
// or reported, never sent twice.
//
// A customer a CRM holds twice — two customer_ids (up to maxIDsOfOnePerson), one person: the
// same name, the same email or phone, the same language, country, law and attributes — would get
// the same notice twice at the same address, each telling part of what was exposed. Those are
// merged: the earliest (lowest recipient ID: the list's order) keeps the notice, which names
// what was exposed under each of the IDs (stored on its row, so that a claim reads no other
// row: ClaimRange); the others are planned nothing on that channel (plannedEmail, plannedSMS)
// and their record, the status and the export say which notice told them. Should that notice
// be suppressed or fail for good, each of them gets a fallback on their other channel — one
// notice again where they share that address too (queueFallbacks); a fallback letter and the
// substitute-notice counts look at the notice that was to tell them (theirNotices,
// residenceCounts).
//
// Letters are decided alike, at one postal address (postalKey), when the campaign sends any: one
// person's customer_ids there are printed one letter, the earliest's the letter policy owes one
// from the start (else the earliest's), naming what was exposed under each (letter_exposed); it
// is owed when any of them is (lettersDue), and the others are owed none (countOwedLetters).
//
// Different people at one address — a family's mailbox, a company's, a CRM's placeholder such
// as sinemail@… — are not merged: each notice greets its own person, in their language, under
// their law, with their code and reference, and a notice naming one person's data to another
// would be wrong twice (the review of the first version, which merged them). They are reported:
// the status counts them, and the approval prints it, so that a placeholder given to thousands
// of customers is seen before anyone presses Start.
//
// It is decided when the campaign is approved: the list can no longer change (imports take
// draft campaigns only) nor the channel policy. Of a person's customer_ids at one address, the
// one to keep the notice is the earliest the policy sends that channel to (another may be sent
// the other channel instead); when the policy sends it to none of them, the earliest, whose
// covers then serve the fallbacks.

// sharedAddressKeys is, per channel, the SQL expression the addresses are compared by on a
// recipients row r — email addresses in any letter case (as the suppression list matches
// them), phone numbers as their E.164 form, postal addresses as postalKey spells them — which
// customers the policy ($2: the channel policy, or for letters the letter policy) sends that
// channel to from the start, and the columns of the decision.
var sharedAddressKeys = map[breach.Channel]struct{ key, wants, with, covers, exposed string }{
	breach.ChannelEmail: {key: `lower(r.email COLLATE "default")`, wants: wantsEmail("$2"),
		with: "email_with", covers: "email_covers", exposed: "email_exposed"},
	breach.ChannelSMS: {key: `r.phone`, wants: wantsSMS("$2"),
		with: "phone_with", covers: "phone_covers", exposed: "phone_exposed"},
	breach.ChannelLetter: {key: postalKey, wants: `($2 = 'all' OR r.email IS NULL AND r.phone IS NULL)`,
		with: "letter_with", covers: "letter_covers", exposed: "letter_exposed"},
}

// postalKey is, in SQL, a recipients row r's postal address as two letters to it are compared:
// each part in any letter case with its spaces collapsed, the postal code without spaces, the
// country code. The parts are kept apart (a unit separator between them), so that a street
// moved to the next line is another address — the print would differ too. Nothing more is
// normalised: "Calle 5" and "C/ 5" are two addresses, each sent its letter, as before.
var postalKey = `concat_ws(chr(31), upper(coalesce(r.postal->>'country', '')), upper(replace(coalesce(r.postal->>'postal_code', ''), ' ', '')), ` +
	postalPart("line1") + `, ` + postalPart("line2") + `, ` + postalPart("line3") + `, ` + postalPart("city") + `, ` + postalPart("region") + `)`

// postalPart is, in SQL, one part of r's postal address as postalKey compares it: in lower case,
// its spaces collapsed, an absent part as an empty one — concat_ws leaves out NULLs, which moved
// a street to the line before it (the review of this key).
func postalPart(name string) string {
	return `lower(regexp_replace(btrim(coalesce(r.postal->>'` + name + `', '')), '\s+', ' ', 'g'))`
}

// maxIDsOfOnePerson is how many customer_ids at one address may be one person's. More, with
// one name, is a placeholder name on a placeholder address (20,000 rows of "CLIENTE" at
// sinemail@…, the second review: merged, one notice to a dead mailbox counted them all told,
// and each one's real mobile was never used) — and a group that large made the merge's join
// quadratic. Such rows are different people as far as anyone can tell: each is sent their own.
const maxIDsOfOnePerson = 10

// samePerson is, in SQL, what two customer_ids at one address must share to be one person's
// and be told by one notice: a name (not empty: two nameless rows may be anyone), and
// everything else a notice is rendered from besides the exposed categories.
const samePerson = `lower(btrim(r.name)), r.locale, r.country, r.jurisdiction, r.attributes`

// SharedAddresses is what mergeSharedAddresses decided, per channel: the customers told by
// another customer_id's notice (the same person's), and those whose address is also a
// different customer's (each told by their own notice).
type SharedAddresses struct {
	Merged, Shared map[breach.Channel]int64
}

// mergedChannels are the channels whose shared addresses the approval decides, in the order
// the campaign's columns and the approval's audit row list them.
var mergedChannels = []breach.Channel{breach.ChannelEmail, breach.ChannelSMS, breach.ChannelLetter}

// mergeSharedAddresses decides, for campaign uid under its channel policy and letter policy,
// which customers' notices (and letters) are merged into another's, and counts the addresses
// shared by different customers. It runs once, in the transaction of the approval that
// completes, under the campaign's lock: an approved campaign never returns to draft, so there
// is no earlier decision to undo. A campaign that sends no letters decides nothing of theirs.
func mergeSharedAddresses(ctx context.Context, tx pgx.Tx, uid uuid.UUID, policy breach.ChannelPolicy, letters breach.LetterPolicy) (SharedAddresses, error) {
	out := SharedAddresses{Merged: map[breach.Channel]int64{}, Shared: map[breach.Channel]int64{}}
	// The merge's statements are costed over a million-row partition: compiling them took
	// longer than running them. Their sorts and hashes of the shared addresses' customers
	// (400,000 in a list where a third share one) spilled to disk with the default work_mem.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return out, fmt.Errorf("turn off JIT: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return out, fmt.Errorf("raise work_mem: %w", err)
	}
	// The addresses given more than once, of both channels, in one pass: a few, or none. Its
	// statistics are taken at once: estimated blind, the joins below were planned for a few
	// hundred addresses and sorted a hundred thousand on disk (the review's 1M-row list, 10 %
	// shared: 6.5 s).
	if _, err := tx.Exec(ctx, `
		CREATE TEMP TABLE shared_addresses ON COMMIT DROP AS
		SELECT channel, address, count(*) AS customers FROM (
			SELECT 'email' AS channel, `+sharedAddressKeys[breach.ChannelEmail].key+` AS address
			FROM recipients r WHERE r.campaign_id = $1 AND r.email IS NOT NULL
			UNION ALL
			SELECT 'sms', `+sharedAddressKeys[breach.ChannelSMS].key+`
			FROM recipients r WHERE r.campaign_id = $1 AND r.phone IS NOT NULL
			UNION ALL
			SELECT 'letter', `+sharedAddressKeys[breach.ChannelLetter].key+`
			FROM recipients r WHERE r.campaign_id = $1 AND r.postal IS NOT NULL AND $2
		) a
		GROUP BY channel, address HAVING count(*) > 1`, uid, letters != breach.LettersNone); err != nil {
		return out, fmt.Errorf("find shared addresses: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE shared_addresses`); err != nil {
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
	for _, ch := range channels {
		k := sharedAddressKeys[breach.Channel(ch)]
		p := string(policy)
		if breach.Channel(ch) == breach.ChannelLetter {
			p = string(letters)
		}
		var merged, shared int64
		err := tx.QueryRow(ctx, `
			WITH members AS MATERIALIZED (
				SELECT r.id, r.exposed, s.address, s.customers, `+k.wants+` AS wanted,
					CASE WHEN btrim(r.name) <> '' THEN row(`+samePerson+`)::text END AS person
				FROM recipients r JOIN shared_addresses s ON s.channel = $3 AND s.address = `+k.key+`
				WHERE r.campaign_id = $1
			), people AS (
				SELECT address, person, count(*) AS ids,
					coalesce(min(id) FILTER (WHERE wanted), min(id)) AS first,
					array_agg(id ORDER BY id) AS members, bit_or(exposed) AS exposed
				FROM members WHERE person IS NOT NULL GROUP BY address, person HAVING count(*) BETWEEN 2 AND $4
			), marked AS (
				UPDATE recipients r SET
					`+k.with+` = CASE WHEN m.id <> p.first THEN p.first END,
					`+k.covers+` = CASE WHEN m.id = p.first THEN array_remove(p.members, p.first) END,
					`+k.exposed+` = CASE WHEN m.id = p.first THEN p.exposed END
				FROM members m JOIN people p ON p.address = m.address AND p.person = m.person
				WHERE r.campaign_id = $1 AND r.id = m.id
				RETURNING m.id <> p.first AS merged
			)
			SELECT (SELECT count(*) FILTER (WHERE merged) FROM marked),
				-- customers at an address that is also a different person's (or a nameless one's)
				(SELECT count(*) FROM members m LEFT JOIN people p ON p.address = m.address AND p.person = m.person
					WHERE m.customers > coalesce(p.ids, 1))`,
			uid, p, ch, maxIDsOfOnePerson).Scan(&merged, &shared)
		if err != nil {
			return out, fmt.Errorf("merge one person's customer_ids at one address (%s): %w", ch, err)
		}
		out.Merged[breach.Channel(ch)], out.Shared[breach.Channel(ch)] = merged, shared
	}
	return out, nil
}
