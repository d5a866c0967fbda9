package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// merge stores the rejects and folds the staged rows into the campaign's recipients, returning
// how many recipients it created and how many it changed.
//
// Staged rows of a customer who appears once (nearly all) are taken as they are; those of a
// customer who appears several times are first folded into one (see foldedSQL). Customers
// already in the campaign (from an earlier import, or copied directly by this one) are then
// updated, and only if something changes, so importing the same list again writes nothing; the
// rest are inserted. A plain INSERT is safe, without ON CONFLICT and its per-row speculative
// insertion, because the session holds the campaign's row lock: nothing else adds customers.
//
// The statements write the campaign's partition itself. indexed says whether it has its
// indexes yet: Commit merges into a new partition before indexing it when the list repeats
// many customers (a telecom's, one row per line: a third of a million rows updated through
// three indexes took four times as long as the whole COPY; without them, one hash join).
func (s *importSession) merge(ctx context.Context, imp *breach.Import, copied copyResult, indexed bool) (inserted, updated int64, err error) {
	type step struct {
		name string
		sql  string
		args []any
		n    *int64
	}
	steps := []step{{"store rejects", insertRejectsSQL, []any{imp.ID}, nil}}
	if staged := copied.staged - imp.Rejected; staged > 0 {
		steps = append(steps,
			// Sorts and hashes over millions of staged rows must not spill to disk.
			step{"raise work_mem", `SET LOCAL work_mem = '256MB'`, nil, nil},
			step{"analyze staging", `ANALYZE import_staging`, nil, nil},
			step{"find duplicates", findDuplicatesSQL, nil, nil},
			// Without statistics the planner took the repeated customers for fewer than the
			// staged rows' distinct ones and sorted every staged row to anti-join them (0.7 s
			// for 330,000 repeats instead of 0.3 s by hash).
			step{"analyze duplicates", `ANALYZE import_duplicates`, nil, nil},
			step{"fold duplicates", foldSQL, nil, nil})
		p := pgx.Identifier{s.partition}.Sanitize()
		if s.existed || copied.direct > 0 {
			// A few hundred rows' statistics: without them the planner sorted the whole
			// partition to merge-join a few thousand folded rows.
			steps = append(steps, step{"analyze folded", `ANALYZE import_folded`, nil, nil})
		}
		switch {
		case (s.existed || copied.direct > 0) && indexed:
			steps = append(steps,
				// Without statistics on the partition (new, or grown since they were taken)
				// the planner guesses that 0.5% of it belongs to the campaign — all of it
				// does — and sorts a million rows to join them (2.5 s instead of 0.2 s). The
				// two join columns are enough, and a sample of 3,000 rows tells what matters
				// here (one campaign, unique customers) at a tenth of the default's cost (a
				// quarter of a second at a million rows); autovacuum analyzes the partition in
				// full after the commit.
				step{"sample statistics", `SET LOCAL default_statistics_target = 10`, nil, nil},
				step{"analyze recipients", `ANALYZE ` + p + ` (campaign_id, customer_id)`, nil, nil},
				step{"restore statistics", `RESET default_statistics_target`, nil, nil},
				// With the partition's statistics: without them the planner took this import's
				// rows for 25 and compared each repeat with all of them (58 s at a million).
				step{name: warnMixedStep},
				step{"update recipients", updateRecipientsSQL(p), []any{imp.ID, imp.CampaignID}, &updated},
				step{"insert recipients", insertNewRecipientsSQL(p), []any{imp.ID, imp.CampaignID, int64(imp.DefaultExposed)}, &inserted})
		case copied.direct > 0:
			// No index to probe: both statements join the partition whole, by hash (a
			// nested loop over its sequential scan would be quadratic).
			steps = append(steps,
				step{"join by hash", `SET LOCAL enable_nestloop = off`, nil, nil},
				step{name: warnMixedStep},
				step{"update recipients", updateRecipientsSQL(p), []any{imp.ID, imp.CampaignID}, &updated},
				step{"insert recipients", insertNewRecipientsSQL(p), []any{imp.ID, imp.CampaignID, int64(imp.DefaultExposed)}, &inserted},
				step{"restore joins", `RESET enable_nestloop`, nil, nil})
		default:
			steps = append(steps, step{name: warnMixedStep}, step{"insert recipients", insertRecipientsSQL(p), []any{imp.ID, imp.CampaignID, int64(imp.DefaultExposed)}, &inserted})
		}
	}
	for _, st := range steps {
		if st.name == warnMixedStep {
			if err := s.warnMixedRows(ctx, imp, copied.direct > 0, indexed); err != nil {
				return 0, 0, err
			}
			continue
		}
		tag, err := s.tx.Exec(ctx, st.sql, st.args...)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", st.name, err)
		}
		if st.n != nil {
			*st.n = tag.RowsAffected()
		}
	}
	return inserted, updated, nil
}

// warnMixedStep is the merge's step that runs warnMixedRows.
const warnMixedStep = "warn of mixed rows"

// warnMixedRows warns of the customers whose rows in this list disagree on their name or email
// address: the merge makes one person of the rows of one customer_id (each field from the
// latest row that has it), which is right for a telecom's list — one row per line, the same
// person on each — and wrong when two people were given one ID: a notice would greet one and
// go to the other's address. Rows that differ only in their phone (the telecom's lines) are
// not warned of. The warning is the customer's latest row's, listed beside the first warned
// rows (MaxListedWarnings of them, then how many more), and counted in imp.Warned. Rows an
// earlier import brought are not compared: a corrected list is meant to change them.
//
// It runs in the merge before the fold, which overwrites what it compares, and costs what the
// repeats are: in the direct road (direct: rows were copied straight into a new partition) the
// staged rows are the repeats, compared with the first rows copied by this import (import_id),
// found through the partition's index when it has been built; in the staged road every row is
// staged and only the customers staged more than once (import_duplicates) are compared.
//
// It runs once the partition has statistics (merge); the plans are spelled out all the same:
// indexed, each repeated customer's first row is one probe of the unique index; not indexed
// yet (a list of many repeats, merged first), one hash join, nested loops being off for the
// merge's own joins then.
func (s *importSession) warnMixedRows(ctx context.Context, imp *breach.Import, direct, indexed bool) error {
	p := pgx.Identifier{s.partition}.Sanitize()
	staged := `SELECT customer_id, line, name, email FROM import_staging WHERE reject_reason IS NULL`
	first := "" // the rows copied straight into the partition, in the direct road
	args := []any{breach.MaxListedWarnings}
	switch {
	case !direct:
		staged += ` AND customer_id IN (SELECT customer_id FROM import_duplicates)`
	case indexed:
		first = `UNION ALL SELECT r.customer_id, 0, r.name, r.email FROM (SELECT DISTINCT customer_id FROM staged) d
			JOIN LATERAL (SELECT customer_id, name, email FROM ` + p + `
				WHERE campaign_id = $3 AND customer_id = d.customer_id AND import_id = $2) r ON true`
		args = append(args, imp.ID, imp.CampaignID)
	default: // by hash: the merge has turned nested loops off for its own joins already
		first = `UNION ALL SELECT r.customer_id, 0, r.name, r.email FROM ` + p + ` r
			JOIN (SELECT DISTINCT customer_id FROM staged) d ON d.customer_id = r.customer_id
			WHERE r.campaign_id = $3 AND r.import_id = $2`
		args = append(args, imp.ID, imp.CampaignID)
	}
	rows, err := s.tx.Query(ctx, `
		WITH staged AS MATERIALIZED (`+staged+`), listed AS (
			SELECT customer_id, line, name, email FROM staged
			`+first+`
		), mixed AS (
			SELECT customer_id, max(line) AS line,
				count(DISTINCT lower(name)) FILTER (WHERE name <> '') > 1 AS names,
				count(DISTINCT email) > 1 AS emails
			FROM listed GROUP BY customer_id
			HAVING count(DISTINCT lower(name)) FILTER (WHERE name <> '') > 1 OR count(DISTINCT email) > 1
		)
		SELECT customer_id, line, names, emails, count(*) OVER () FROM mixed ORDER BY line LIMIT $1`,
		args...)
	if err != nil {
		return fmt.Errorf("compare the rows of repeated customers: %w", err)
	}
	var (
		warnings []breach.Warning
		total    int64
	)
	for rows.Next() {
		var (
			id            string
			line          int64
			names, emails bool
		)
		if err := rows.Scan(&id, &line, &names, &emails, &total); err != nil {
			rows.Close()
			return fmt.Errorf("compare the rows of repeated customers: %w", err)
		}
		what := "names"
		switch {
		case names && emails:
			what = "names and email addresses"
		case emails:
			what = "email addresses"
		}
		warnings = append(warnings, breach.Warning{Line: line, Field: "customer_id", Reason: fmt.Sprintf(
			"customer_id %q is on several rows with different %s: they are merged into one person, each field from the latest row that has it; if they are different people, give each their own customer_id",
			breach.Clip(id), what)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("compare the rows of repeated customers: %w", err)
	}
	// Warned counts rows: a row already warned of (its name's markup) is not counted twice
	// (the review's two rows were three warned), as far as the listed warnings tell.
	warned := total
	for _, w := range warnings {
		if slices.ContainsFunc(imp.Warnings, func(l breach.Warning) bool { return l.Line == w.Line }) {
			warned--
		}
	}
	imp.Warned = min(imp.Warned+warned, imp.Read-imp.Rejected)
	if total > 0 {
		imp.AddWarned("customer_id", total)
	}
	if n := int64(len(warnings)); total > n {
		last := warnings[n-1].Line
		warnings = append(warnings, breach.Warning{Line: last, Field: "customer_id", Reason: fmt.Sprintf(
			"and %d more customer_ids on several rows with different names or email addresses, after line %d", total-n, last)})
	}
	imp.Warnings = breach.AppendLateWarnings(imp.Warnings, warnings)
	return nil
}

const insertRejectsSQL = `
	INSERT INTO import_rejects (import_id, line, customer_id, field, reason)
	SELECT $1, line, coalesce(customer_id, ''), coalesce(reject_field, ''), reject_reason
	FROM import_staging WHERE reject_reason IS NOT NULL`

const findDuplicatesSQL = `
	CREATE TEMP TABLE import_duplicates ON COMMIT DROP AS
	SELECT customer_id FROM import_staging
	WHERE reject_reason IS NULL GROUP BY customer_id HAVING count(*) > 1`

// foldSQL makes import_folded: one row per customer of the list. A customer's several rows fold
// into one: the latest non-empty value of each field wins, categories are united, attributes
// are merged key by key (the latest value of each).
const foldSQL = `
	CREATE TEMP TABLE import_folded ON COMMIT DROP AS
	SELECT s.customer_id, s.email, s.phone, s.name, s.locale, s.country, s.jurisdiction, s.exposed, s.attributes,
		s.ref_key, s.postal
	FROM import_staging s
	WHERE s.reject_reason IS NULL
		AND NOT EXISTS (SELECT 1 FROM import_duplicates d WHERE d.customer_id = s.customer_id)
	UNION ALL
	SELECT g.customer_id,
		(array_agg(g.email ORDER BY g.line DESC) FILTER (WHERE g.email IS NOT NULL))[1],
		(array_agg(g.phone ORDER BY g.line DESC) FILTER (WHERE g.phone IS NOT NULL))[1],
		coalesce((array_agg(g.name ORDER BY g.line DESC) FILTER (WHERE g.name <> ''))[1], ''),
		coalesce((array_agg(g.locale ORDER BY g.line DESC) FILTER (WHERE g.locale <> ''))[1], ''),
		coalesce((array_agg(g.country ORDER BY g.line DESC) FILTER (WHERE g.country <> ''))[1], ''),
		coalesce((array_agg(g.jurisdiction ORDER BY g.line DESC) FILTER (WHERE g.jurisdiction <> ''))[1], ''),
		bit_or(g.exposed),
		jsonb_merge_agg(g.attributes ORDER BY g.line),
		max(g.ref_key), -- one customer, one code
		(array_agg(g.postal ORDER BY g.line DESC) FILTER (WHERE g.postal IS NOT NULL))[1]
	FROM import_staging g JOIN import_duplicates USING (customer_id)
	WHERE g.reject_reason IS NULL
	GROUP BY g.customer_id`

// updateRecipientsSQL merges the list into customers already in the campaign's partition p:
// non-empty fields replace, categories and attributes add up — except categories this same
// import gave as the campaign's default (exposed_default, import_id = $1: the customer's first
// row was copied without any, before a later row of the list named some), which the list's own
// replace. A later list adds to the default like to any categories: "these customers' passwords
// were exposed too" tells them more, never less. The campaign_id = $2 that every row of p meets
// is what lets the statement probe the index (campaign_id, customer_id).
func updateRecipientsSQL(p string) string {
	return `
	UPDATE ` + p + ` r SET
		email = coalesce(f.email, r.email),
		phone = coalesce(f.phone, r.phone),
		name = CASE WHEN f.name <> '' THEN f.name ELSE r.name END,
		locale = CASE WHEN f.locale <> '' THEN f.locale ELSE r.locale END,
		country = CASE WHEN f.country <> '' THEN f.country ELSE r.country END,
		jurisdiction = CASE WHEN f.jurisdiction <> '' THEN f.jurisdiction ELSE r.jurisdiction END,
		exposed = CASE WHEN r.exposed_default AND r.import_id = $1 AND f.exposed <> 0 THEN f.exposed ELSE r.exposed | f.exposed END,
		exposed_default = r.exposed_default AND f.exposed = 0,
		attributes = r.attributes || f.attributes,
		postal = coalesce(f.postal, r.postal),
		ref_key = coalesce(r.ref_key, f.ref_key),
		import_id = $1,
		updated_at = now()
	FROM import_folded f
	WHERE r.campaign_id = $2 AND r.customer_id = f.customer_id
		AND (r.email, r.phone, r.name, r.locale, r.country, r.jurisdiction, r.exposed, r.exposed_default,
			r.attributes, r.postal)
		IS DISTINCT FROM (
			coalesce(f.email, r.email), coalesce(f.phone, r.phone),
			CASE WHEN f.name <> '' THEN f.name ELSE r.name END,
			CASE WHEN f.locale <> '' THEN f.locale ELSE r.locale END,
			CASE WHEN f.country <> '' THEN f.country ELSE r.country END,
			CASE WHEN f.jurisdiction <> '' THEN f.jurisdiction ELSE r.jurisdiction END,
			CASE WHEN r.exposed_default AND r.import_id = $1 AND f.exposed <> 0 THEN f.exposed ELSE r.exposed | f.exposed END,
			r.exposed_default AND f.exposed = 0,
			r.attributes || f.attributes, coalesce(f.postal, r.postal))`
}

// insertRecipientsSQL adds the list's customers to the campaign's partition p; a customer
// none of whose rows named a category gets the campaign's default ($3), marked as such.
func insertRecipientsSQL(p string) string {
	return `
	INSERT INTO ` + p + ` (campaign_id, customer_id, email, phone, name, locale, country,
		jurisdiction, exposed, exposed_default, attributes, import_id, ref_key, postal)
	SELECT $2, customer_id, email, phone, name, locale, country, jurisdiction,
		CASE WHEN exposed = 0 THEN $3 ELSE exposed END, exposed = 0, attributes, $1, ref_key, postal
	FROM import_folded f`
}

// insertNewRecipientsSQL adds the list's customers the partition p does not hold yet.
func insertNewRecipientsSQL(p string) string {
	return insertRecipientsSQL(p) + `
	WHERE NOT EXISTS (SELECT 1 FROM ` + p + ` r WHERE r.campaign_id = $2 AND r.customer_id = f.customer_id)`
}
