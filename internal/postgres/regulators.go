package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// residenceCounts groups a campaign's recipients by what the list says of where they live, in
// one pass over its partition: the country and jurisdiction columns; for those in the US (or
// of no country), a state from the `state` attribute (a name the importer did not take for a
// code, or the state beside a jurisdiction column), the `region` attribute or the postal
// address's region, and the first three digits of the ZIP code (the postal address's, else an
// attribute's; a ZIP code that a spreadsheet read as a number and stripped of its leading
// zeros, 2139 for 02139, is padded back to five digits, and what is no ZIP code gives no
// prefix). Both are read whatever the jurisdiction, which is a notice profile (us-ca for
// everyone in the US, often) and places someone only when nothing else does
// (regulator.locate); and the ZIP code beside a region, which may name no state (a sales
// region, a county). A customer
// with a postal address is never one without contact: when no notice reached them and no
// letter was tried, or the campaign sends no letters ($3) and they have no other address,
// they are counted ByPost; and a row of no country whose postal
// address has one (the campaign's default country) is in the address's country. Only those rows read the attributes,
// and only the prefix of a ZIP code leaves the database, so the groups stay few (at most about
// a thousand ZIP prefixes) and hold no one's address.
//
// With $2, each group also counts its recipients no notice reached (see
// breach.ResidenceCount.Failed): the campaign's deliveries are read in the same statement, in
// one pass grouped by recipient, and only the unreached (a few, in a campaign that went well)
// are kept to be joined; without, nothing of the deliveries is read.
const residenceCounts = `
WITH unreached AS MATERIALIZED (
    SELECT recipient_id, bool_or(state = 'suppressed') AS suppressed, bool_or(channel = 'letter') AS lettered
    FROM (
        SELECT recipient_id, state, channel FROM deliveries WHERE campaign_id = $1 AND $2::boolean
        UNION ALL
        -- the notices and letters that were to tell a customer in their stead: the same
        -- person's other customer_id's at the address they share (shared.go)
        SELECT m.id, d.state, d.channel FROM recipients m
        JOIN deliveries d ON d.campaign_id = $1
            AND (d.recipient_id = m.email_with AND d.channel = 'email' OR d.recipient_id = m.phone_with AND d.channel = 'sms'
                OR d.recipient_id = m.letter_with AND d.channel = 'letter')
        WHERE m.campaign_id = $1 AND $2::boolean AND (m.email_with IS NOT NULL OR m.phone_with IS NOT NULL OR m.letter_with IS NOT NULL)
    ) told
    GROUP BY recipient_id
    HAVING NOT bool_or(state NOT IN ('failed', 'bounced', 'suppressed', 'returned'))
)
SELECT country, jurisdiction, region,
       CASE WHEN country NOT IN ('', 'US') THEN ''
            -- 12345 and 12345-6789 as they are (a prefix of no state names none); the rest,
            -- rarer, only when digits: 2139, 501, 21394307, 2139-4307 padded back.
            -- 967 and 969 are shared: Hawaii and American Samoa (96799); Guam, the Northern
            -- Mariana Islands and three sovereign states (Palau, Micronesia, the Marshall
            -- Islands): their five digits tell them apart
            WHEN (length(zip) = 5 OR length(zip) = 10 AND substr(zip, 6, 1) = '-') AND left(zip, 3) IN ('967', '969') THEN left(zip, 5)
            WHEN length(zip) = 5 OR length(zip) = 10 AND substr(zip, 6, 1) = '-' THEN left(zip, 3)
            WHEN translate(zip, '0123456789-', '') <> '' THEN ''
            WHEN length(zip) IN (3, 4) THEN left(lpad(zip, 5, '0'), 3)
            WHEN length(zip) IN (8, 9) AND strpos(zip, '-') = 0 THEN left(lpad(zip, 9, '0'), 3)
            WHEN length(zip) IN (8, 9) AND strpos(zip, '-') = length(zip) - 4 THEN left(lpad(split_part(zip, '-', 1), 5, '0'), 3)
            ELSE '' END AS postal3,
       count(*), count(*) FILTER (WHERE no_contact), bit_or(exposed),
       count(*) FILTER (WHERE NOT reached AND NOT suppressed AND NOT by_post), count(*) FILTER (WHERE NOT reached AND suppressed AND NOT by_post),
       count(*) FILTER (WHERE by_post), count(*) FILTER (WHERE same_person)
FROM (
    SELECT country, jurisdiction, exposed, reached, suppressed, same_person,
           email IS NULL AND phone IS NULL AND postal IS NULL AND purged_at IS NULL AS no_contact,
           postal IS NOT NULL AND (NOT reached AND NOT lettered OR email IS NULL AND phone IS NULL AND NOT $3::boolean) AS by_post,
           -- every value that may name the state, in this order, separated by U+001F: the
           -- first that is a state's wins (regulator.locate), so that a state column holding
           -- something else ("West", a county) does not hide the postal address's region
           CASE WHEN country NOT IN ('', 'US') THEN ''
                ELSE concat_ws(chr(31), nullif(btrim(attributes->>'state'), ''), nullif(btrim(attributes->>'region'), ''),
                               nullif(postal->>'region', ''))
           END AS region,
           CASE WHEN country NOT IN ('', 'US') THEN ''
                ELSE coalesce(nullif(postal->>'postal_code', ''), nullif(btrim(attributes->>'postal_code'), ''), nullif(btrim(attributes->>'zip'), ''),
                              nullif(btrim(attributes->>'zip_code'), ''), nullif(btrim(attributes->>'zipcode'), ''), '')
           END AS zip
    FROM (
        -- A row of no country whose address has one (the campaign's default country, which
        -- the importer gives the address) is in that country: the region of an Italian
        -- address is a province ("MI"), not a US state.
        SELECT CASE WHEN rc.country = '' THEN coalesce(rc.postal->>'country', '') ELSE rc.country END AS country,
               rc.jurisdiction, rc.exposed, rc.email, rc.phone, rc.postal, rc.purged_at, rc.attributes,
               rc.email_with IS NOT NULL OR rc.phone_with IS NOT NULL OR rc.letter_with IS NOT NULL AS same_person,
               u.recipient_id IS NULL AS reached, coalesce(u.suppressed, false) AS suppressed, coalesce(u.lettered, false) AS lettered
        FROM recipients rc LEFT JOIN unreached u ON u.recipient_id = rc.id
        WHERE rc.campaign_id = $1
    ) p
) r
GROUP BY 1, 2, 3, 4`

// ResidenceCounts counts a campaign's recipients by where they live (see residenceCounts), and
// with outcomes those no notice reached. letters says whether the campaign sends letters: if
// not, a postal address is no way to reach a customer (breach.ResidenceCount.NoContact). A
// campaign without recipients, or unknown, has no counts.
func (db *DB) ResidenceCounts(ctx context.Context, campaignID string, outcomes, letters bool) ([]breach.ResidenceCount, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	// The planner cannot know how few groups the expressions make and, with the default
	// work_mem, sorts a million rows to disk to group them; with room for its estimate it
	// hashes them in one pass instead (1.1 s against 2.8 s at 1,000,000 recipients). The
	// groups themselves take a few kilobytes.
	tx, err := db.countingTx(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("count residences: %w", err)
	}
	defer tx.Rollback(ctx)
	if outcomes {
		// In a parallel plan each worker read and grouped the whole deliveries partition
		// again (3 passes and 3 hash tables of it at 1,000,000 recipients, 3.8 s); alone, once.
		if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return nil, fmt.Errorf("count residences: %w", err)
		}
	}
	rows, err := tx.Query(ctx, residenceCounts, cid, outcomes, letters)
	if err != nil {
		return nil, fmt.Errorf("count residences: %w", err)
	}
	defer rows.Close()
	out := []breach.ResidenceCount{}
	for rows.Next() {
		var (
			rc      breach.ResidenceCount
			exposed int32
		)
		if err := rows.Scan(&rc.Country, &rc.Jurisdiction, &rc.Region, &rc.PostalCode, &rc.Recipients, &rc.NoContact, &exposed,
			&rc.Failed, &rc.Suppressed, &rc.ByPost, &rc.SamePerson); err != nil {
			return nil, fmt.Errorf("count residences: %w", err)
		}
		rc.Exposed = breach.Categories(exposed)
		out = append(out, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count residences: %w", err)
	}
	return out, nil
}

// RejectedRows counts the rows a campaign's imports rejected that name no customer on its list
// now (breach.RejectedRows). A row that names a customer_id (rejected for another field) counts
// once however many rows and imports gave it, and not when a later import brought the customer
// in. A row whose customer_id is unusable (empty, or the reason it was rejected: #N/A, 1.2E+11,
// every such row someone else) counts alone, and only in the latest import of its file name: a
// file imported again replaces its earlier rejects. A purge deletes the rejects: a purged
// campaign has none.
func (db *DB) RejectedRows(ctx context.Context, campaignID string) (breach.RejectedRows, error) {
	var out breach.RejectedRows
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return out, err
	}
	// A million rejects group in memory (1.7 s and a 100 MB sort on disk with the default
	// work_mem, a review); JIT compiled the statement for longer than it then ran.
	tx, err := db.countingTx(ctx, false)
	if err != nil {
		return out, fmt.Errorf("count rejected rows: %w", err)
	}
	defer tx.Rollback(ctx)
	err = tx.QueryRow(ctx, `
		WITH imps AS (
			SELECT id, filename, started_at = max(started_at) OVER (PARTITION BY filename) AS latest
			FROM imports WHERE campaign_id = $1 AND state = 'completed'
		), rejects AS (
			SELECT j.customer_id, j.field, j.reason, j.import_id, j.line, i.latest,
			       j.customer_id = '' OR j.field = 'customer_id' AS anonymous
			FROM import_rejects j JOIN imps i ON i.id = j.import_id
		)
		SELECT count(*), count(*) FILTER (WHERE no_contact), count(*) FILTER (WHERE contact AND NOT no_contact)
		FROM (
			SELECT bool_or(strpos(reason, $2) > 0) AS no_contact, bool_or(field IN ('email', 'phone') OR field LIKE 'address%') AS contact
			FROM rejects
			WHERE NOT anonymous AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = $1 AND r.customer_id = rejects.customer_id)
			GROUP BY customer_id
			UNION ALL
			SELECT strpos(reason, $2) > 0, field IN ('email', 'phone') OR field LIKE 'address%'
			FROM rejects WHERE anonymous AND latest
		) k`, cid, breach.NoContactReason).Scan(&out.Rows, &out.NoContact, &out.Contact)
	if err != nil {
		return out, fmt.Errorf("count rejected rows: %w", err)
	}
	return out, nil
}

// countingTx begins a read-only transaction for the reports' counts, which group a million
// rows into a few: with room to hash them in memory (64 MB), and JIT as jit says.
func (db *DB) countingTx(ctx context.Context, jit bool) (pgx.Tx, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	set := `SET LOCAL work_mem = '64MB'`
	if !jit {
		set += `; SET LOCAL jit = off`
	}
	if _, err := tx.Exec(ctx, set); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}
