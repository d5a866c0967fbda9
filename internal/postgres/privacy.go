package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// purgeBatch is how many recipients one purge transaction handles: small enough that a
// transaction stays short and a crash loses little, large enough that a million recipients
// take a few hundred transactions.
const purgeBatch = 5000

// proofLabel derives the proof key from BREACHNOTICE_SECRET, so that a proof can never be
// mistaken for (or used as) a reference code or an opt-out token signed with the same secret.
const proofLabel = "breachnotice proof of notice v1"

// addressProof is the keyed hash kept of an address when its campaign is purged:
// HMAC-SHA256(HMAC-SHA256(secret, proofLabel), address), the address in its stored form (a
// normalized email, an E.164 number). Whoever holds the secret and an address can recompute it;
// the hash alone reveals nothing, not even to someone guessing addresses without the secret.
func addressProof(secret []byte, address string) []byte {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte(proofLabel))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(address))
	return m.Sum(nil)
}

// scrubSQL removes addresses from an error text ($text): the recipient's own postal address
// ($postal, jsonb: its lines and postal code, in any case, as a returned-mail file's reason
// may quote them), email and phone as stored ($email, $phone, also the number without its +),
// then anything shaped like an email address or a long run of digits, which is how SMTP
// replies and SMS providers quote them ("550 5.1.1 <maria@example.com>: unknown user").
// Status codes (550, 5.1.1, Twilio's 30003) survive, so the error still says what went wrong.
func scrubSQL(text, email, phone, postal string) string {
	for _, part := range []string{"line1", "line2", "line3", "postal_code"} {
		text = replaceAnyCaseSQL(text, fmt.Sprintf(`btrim(%s->>'%s')`, postal, part), "[address]")
	}
	inner := fmt.Sprintf(`replace(replace(replace(%s, coalesce(%s, ''), '[address]'), coalesce(%s, ''), '[phone]'), coalesce(ltrim(%s, '+'), ''), '[phone]')`,
		text, email, phone, phone)
	return fmt.Sprintf(`regexp_replace(regexp_replace(%s, '[^][:space:]<>(),;:"''[]+@[^][:space:]<>(),;:"''[]+', '[address]', 'g'), '\+?[0-9]{8,15}', '[phone]', 'g')`, inner)
}

// replaceAnyCaseSQL replaces, in SQL, every occurrence of the text value in text, whatever its
// case, with with (a literal without quotes), where it is not part of a longer word or number.
// The value is matched as written: each of its characters other than a letter, a digit or a
// space is escaped. A value shorter than 4 characters (NULL, empty, an apartment "B", a line
// "2") replaces nothing: it would take letters and digits out of every word and status code.
func replaceAnyCaseSQL(text, value, with string) string {
	return fmt.Sprintf(`regexp_replace(%[1]s, CASE WHEN char_length(coalesce(%[2]s, '')) < 4 THEN '(?!)'
		ELSE '(?<![[:alnum:]])' || regexp_replace(%[2]s, '([^[:alnum:][:space:]])', '\\\1', 'g') || '(?![[:alnum:]])' END, '%[3]s', 'gi')`,
		text, value, with)
}

// PurgeCampaign deletes the personal data of a finished (completed or cancelled) campaign on
// behalf of actor: its recipients' names, emails, phones, postal addresses and attributes, its
// rejected import rows, its imports' error texts and the reasons of their warnings (which quote
// the values they are about), and the addresses quoted in its delivery and event error texts.
// It keeps customer IDs, counts, each import warning's line and field, deliveries and events
// (states, times, provider IDs), and per recipient and channel the proof of the address (see
// addressProof, keyed by secret).
//
// It works in bounded transactions, so a purge interrupted by a crash resumes where it stopped
// when run again; the campaign is marked purged, and the purge audited, in the last one. A
// campaign already purged is answered with AlreadyPurged and nothing changes. A campaign that
// has not finished, or still has notices in flight, is an ECONFLICT error.
func (db *DB) PurgeCampaign(ctx context.Context, id, actor string, secret []byte) (*breach.PurgeReport, error) {
	if len(secret) == 0 {
		return nil, errors.New("purge: no secret to key the proofs of notice (BREACHNOTICE_SECRET)")
	}
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	report := &breach.PurgeReport{CampaignID: uid.String()}
	for after := int64(0); ; {
		var n int64
		err := db.purgeStep(ctx, uid, report, func(tx pgx.Tx) (err error) {
			n, after, err = purgeRecipients(ctx, tx, uid, after, secret)
			return err
		})
		if err != nil || report.AlreadyPurged {
			return report, err
		}
		report.Recipients += n
		if n < purgeBatch {
			break
		}
	}
	err = db.purgeStep(ctx, uid, report, func(tx pgx.Tx) error {
		return finishPurge(ctx, tx, uid, actor, report)
	})
	if err != nil {
		return nil, err
	}
	return report, nil
}

// purgeStep runs one transaction of a purge under the campaign's row lock, which serializes
// concurrent purges of a campaign (an operator's and the retention sweep's) and anything that
// might move it. It checks, under the lock, that the campaign may be purged; when it already
// is, it fills report from the record and runs nothing.
func (db *DB) purgeStep(ctx context.Context, uid uuid.UUID, report *breach.PurgeReport, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("purge: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var (
		state    breach.CampaignState
		purgedAt *time.Time
		purgedBy string
	)
	err = tx.QueryRow(ctx, `SELECT state, purged_at, purged_by FROM campaigns WHERE id = $1 FOR UPDATE`, uid).
		Scan(&state, &purgedAt, &purgedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return breach.Errorf(breach.ENOTFOUND, "campaign %q not found", uid)
	}
	if err != nil {
		return fmt.Errorf("purge: lock campaign: %w", err)
	}
	if purgedAt != nil {
		*report = breach.PurgeReport{CampaignID: uid.String(), PurgedAt: *purgedAt, PurgedBy: purgedBy, AlreadyPurged: true}
		return nil
	}
	if err := purgeable(ctx, tx, uid, state); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("purge: commit: %w", err)
	}
	return nil
}

// purgeable checks that a campaign in state may be purged: finished, and with no notice queued
// or being sent (a cancelled campaign's last claims settle within minutes).
func purgeable(ctx context.Context, tx pgx.Tx, uid uuid.UUID, state breach.CampaignState) error {
	if !state.Finished() {
		return breach.Errorf(breach.ECONFLICT, "the campaign is %s: only a completed or cancelled campaign's personal data can be purged", state)
	}
	var inFlight int64
	if err := tx.QueryRow(ctx, `
		SELECT coalesce(sum(n), 0) FROM delivery_counts WHERE campaign_id = $1 AND state IN ('queued', 'sending')`, uid,
	).Scan(&inFlight); err != nil {
		return fmt.Errorf("purge: count notices in flight: %w", err)
	}
	if inFlight > 0 {
		return breach.Errorf(breach.ECONFLICT, "the campaign still has %d notices queued or being sent: purge it once they have settled", inFlight)
	}
	return nil
}

// purgeRecipients purges the next batch of a campaign's recipients not purged yet with IDs
// above after: proofs in, addresses, names and attributes out, and their addresses scrubbed
// from their deliveries' and events' error texts. It returns how many it purged and the
// highest ID among them.
func purgeRecipients(ctx context.Context, tx pgx.Tx, uid uuid.UUID, after int64, secret []byte) (int64, int64, error) {
	rows, err := tx.Query(ctx, `
		SELECT id, email, phone, postal::text FROM recipients
		WHERE campaign_id = $1 AND id > $2 AND purged_at IS NULL
		ORDER BY id LIMIT $3`, uid, after, purgeBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("purge: select recipients: %w", err)
	}
	var (
		ids                    []int64
		emails, phones, postal []*string
		emailProof, phoneProof [][]byte
		id                     int64
		email, phone, address  *string
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &phone, &address}, func() error {
		ids, emails, phones, postal = append(ids, id), append(emails, email), append(phones, phone), append(postal, address)
		emailProof, phoneProof = append(emailProof, proofOf(secret, email, true)), append(phoneProof, proofOf(secret, phone, false))
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("purge: select recipients: %w", err)
	}
	if len(ids) == 0 {
		return 0, after, nil
	}
	if _, err := tx.Exec(ctx, `
		UPDATE recipients r SET email = NULL, phone = NULL, name = '', attributes = '{}', postal = NULL,
			email_proof = p.email_proof, phone_proof = p.phone_proof, purged_at = now(), updated_at = now()
		FROM unnest($2::bigint[], $3::bytea[], $4::bytea[]) AS p(id, email_proof, phone_proof)
		WHERE r.campaign_id = $1 AND r.id = p.id`, uid, ids, emailProof, phoneProof); err != nil {
		return 0, 0, fmt.Errorf("purge: delete personal data: %w", err)
	}
	// A returned letter's reason is the post's free text: besides the address it came back
	// from, it may give the one the customer moved to, the name of whoever refused it, or
	// that they died. None of it can be told apart from the rest, so none of it is kept: the
	// letter stays returned, when and on whose report.
	for _, table := range []string{"deliveries", "delivery_events"} {
		if _, err := tx.Exec(ctx, `
			UPDATE `+table+` d SET error = CASE WHEN d.channel = 'letter' THEN $6
				ELSE `+scrubSQL("d.error", "a.email", "a.phone", "a.postal::jsonb")+` END
			FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS a(id, email, phone, postal)
			WHERE d.campaign_id = $1 AND d.recipient_id = a.id AND d.error <> ''`,
			uid, ids, emails, phones, postal, purgedLetterReason); err != nil {
			return 0, 0, fmt.Errorf("purge: scrub %s errors: %w", table, err)
		}
	}
	return int64(len(ids)), ids[len(ids)-1], nil
}

// proofOf returns the proof of an address, or nil for none; an email's (email) is of the
// address in lower case, as every other comparison of email addresses here is in any letter
// case: kept as written, the proof of Maria.Quispe@gmail.com said that maria.quispe@gmail.com
// was never notified (a review). Campaigns purged before kept it as written (NoticeProof
// looks for both).
func proofOf(secret []byte, address *string, email bool) []byte {
	if address == nil || *address == "" {
		return nil
	}
	if email {
		return addressProof(secret, strings.ToLower(*address))
	}
	return addressProof(secret, *address)
}

// purgedLetterReason replaces a letter's error (a returned letter's reason) once its campaign
// is purged.
const purgedLetterReason = "the post's reason was removed with the campaign's personal data"

// purgedImportError replaces a failed import's error once its campaign is purged.
const purgedImportError = "the import failed; its error was removed with the campaign's personal data"

// purgedWarning replaces the reason of each of an import's listed warnings once its campaign is
// purged.
const purgedWarning = "removed with the campaign's personal data"

// finishPurge deletes the campaign's rejected import rows (they are raw rows of the list),
// scrubs its imports' error texts and warnings' reasons, unlinks its suppressions, marks it
// purged and audits the purge.
func finishPurge(ctx context.Context, tx pgx.Tx, uid uuid.UUID, actor string, report *breach.PurgeReport) error {
	var left bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recipients WHERE campaign_id = $1 AND purged_at IS NULL)`, uid).
		Scan(&left); err != nil {
		return fmt.Errorf("purge: check recipients: %w", err)
	}
	if left {
		// Only an import could add them, and a finished campaign takes none: a bug, not a race.
		return fmt.Errorf("purge: campaign %s still has recipients with personal data after its last batch", uid)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM import_rejects WHERE import_id IN (SELECT id FROM imports WHERE campaign_id = $1)`, uid)
	if err != nil {
		return fmt.Errorf("purge: delete rejected rows: %w", err)
	}
	report.Rejects = tag.RowsAffected()
	// An import's error names lines and fields, but it came from a file: the purge keeps
	// none of it (scrubbing only the addresses out would keep a name or a street).
	if _, err := tx.Exec(ctx, `UPDATE imports SET error = $2 WHERE campaign_id = $1 AND error <> ''`,
		uid, purgedImportError); err != nil {
		return fmt.Errorf("purge: scrub import errors: %w", err)
	}
	// A warning's reason quotes the value it is about: the raw phone and both of its readings,
	// an unreadable email or phone, a state and ZIP code, a customer_id. Each warning keeps
	// its line and field, and the import its count (warned), which say what the list was
	// like without saying who was on it; the reasons go, for the same cause as the errors.
	if _, err := tx.Exec(ctx, `
		UPDATE imports SET warnings = (
			SELECT coalesce(jsonb_agg(jsonb_build_object('line', w->'line', 'field', w->'field', 'reason', $2::text) ORDER BY n), '[]')
			FROM jsonb_array_elements(warnings) WITH ORDINALITY AS e (w, n))
		WHERE campaign_id = $1 AND warnings <> '[]'`, uid, purgedWarning); err != nil {
		return fmt.Errorf("purge: scrub import warnings: %w", err)
	}
	// The suppression list keeps its addresses — an opt-out must outlive the campaign — but no
	// longer says which campaign they came from: address + campaign would be a piece of the
	// breach's victim list surviving its purge.
	if _, err := tx.Exec(ctx, `UPDATE suppressions SET campaign_id = NULL WHERE campaign_id = $1`, uid); err != nil {
		return fmt.Errorf("purge: unlink suppressions: %w", err)
	}
	if err := tx.QueryRow(ctx, `
		UPDATE campaigns SET purged_at = now(), purged_by = $2, updated_at = now() WHERE id = $1
		RETURNING purged_at, purged_by`, uid, actor).Scan(&report.PurgedAt, &report.PurgedBy); err != nil {
		return fmt.Errorf("purge: mark campaign purged: %w", err)
	}
	return audit(ctx, tx, actor, breach.ActionCampaignPurge, uid.String(), map[string]any{
		"recipients": report.Recipients, "rejects": report.Rejects})
}

// retentionOver is true of a campaigns row whose retention period (its retention_days, counted
// from when it finished) is over: what the retention sweep purges, and what RequeueFailed does
// not reopen.
const retentionOver = `finished_at + make_interval(days => (spec->>'retention_days')::int) <= now()`

// PurgeExpired purges, on behalf of actor, every finished campaign whose retention period
// (its retention_days, counted from when it finished) is over, and returns what each purge
// did. A campaign that cannot be purged yet (notices still settling) or fails is skipped and
// reported in the error; the others are purged all the same.
func (db *DB) PurgeExpired(ctx context.Context, actor string, secret []byte) ([]*breach.PurgeReport, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id FROM campaigns
		WHERE state IN ('completed', 'cancelled') AND purged_at IS NULL AND finished_at IS NOT NULL
			AND `+retentionOver+`
		ORDER BY finished_at`)
	if err != nil {
		return nil, fmt.Errorf("select expired campaigns: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("select expired campaigns: %w", err)
	}
	var (
		reports []*breach.PurgeReport
		errs    []error
	)
	for _, id := range ids {
		r, err := db.PurgeCampaign(ctx, id, actor, secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("campaign %s: %w", id, err))
			continue
		}
		if !r.AlreadyPurged {
			reports = append(reports, r)
		}
	}
	return reports, errors.Join(errs...)
}

// NoticeProof says whether address (a normalized email or an E.164 number) was a recipient of
// a purged campaign on channel ch, by its proof, and if so returns that recipient's notices on
// the channel with their histories: the proof of notice that survives the purge. Before the
// purge the recipient's record shows the address itself; this is an ECONFLICT error then.
func (db *DB) NoticeProof(ctx context.Context, campaignID string, ch breach.Channel, address string, secret []byte) (*breach.NoticeProof, error) {
	c, err := db.Campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if !c.Purged() {
		return nil, breach.Errorf(breach.ECONFLICT, "campaign %s is not purged: look the customer up by customer_id", c.ID)
	}
	column := map[breach.Channel]string{breach.ChannelEmail: "email_proof", breach.ChannelSMS: "phone_proof"}[ch]
	if column == "" {
		return nil, breach.Errorf(breach.EINVALID, "channel %q: use email or sms", ch)
	}
	with := sharedAddressKeys[ch].with
	p := &breach.NoticeProof{Channel: ch}
	var rid int64
	// The notice that went to the address is the customer's own, or the one theirs was merged
	// into (the same person's other customer_id, shared.go), which has the same address.
	proofs := [][]byte{addressProof(secret, address)}
	if ch == breach.ChannelEmail {
		// In lower case (proofOf), and as written for campaigns purged before it was.
		proofs = append(proofs, addressProof(secret, strings.ToLower(address)))
	}
	err = db.pool.QueryRow(ctx, `SELECT coalesce(`+with+`, id), customer_id FROM recipients
		WHERE campaign_id = $1 AND `+column+` = ANY ($2::bytea[]) ORDER BY id LIMIT 1`,
		c.ID, proofs).Scan(&rid, &p.CustomerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find proof: %w", err)
	}
	p.Matched = true
	var d breach.ProofDelivery
	err = db.pool.QueryRow(ctx, `SELECT state, provider_id, updated_at FROM deliveries
		WHERE campaign_id = $1 AND recipient_id = $2 AND channel = $3`, c.ID, rid, ch).Scan(&d.State, &d.ProviderID, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT at, state, source FROM (`+timeline("$2")+`) t`, c.ID, rid, ch)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	var ev breach.ProofEvent
	if _, err := pgx.ForEachRow(rows, []any{&ev.At, &ev.State, &ev.Source}, func() error {
		d.Events = append(d.Events, ev)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	p.Deliveries = append(p.Deliveries, d)
	return p, nil
}
