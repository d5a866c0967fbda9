package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// RecipientCount returns how many recipients a campaign has.
func (db *DB) RecipientCount(ctx context.Context, campaignID string) (int64, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM recipients WHERE campaign_id = $1`, cid).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recipients: %w", err)
	}
	return n, nil
}

// Recipient returns a campaign's recipient by customer ID.
func (db *DB) Recipient(ctx context.Context, campaignID, customerID string) (*breach.Recipient, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, recipientSelect+` WHERE campaign_id = $1 AND customer_id = $2`, cid, customerID)
	if err != nil {
		return nil, fmt.Errorf("select recipient: %w", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRecipient)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "no recipient with customer_id %q in campaign %q", customerID, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("select recipient: %w", err)
	}
	return r, nil
}

// CustomerAddresses returns those of addrs (email addresses, compared in any letter case, and
// E.164 numbers) that are the address of a customer of the campaign, and those on the
// suppression list. A test send is refused for them: it is for reviewers. Two scans of the
// partition, each a hash join with the few addresses: a fraction of a second at a million.
func (db *DB) CustomerAddresses(ctx context.Context, campaignID string, addrs []string) (customers, suppressed []string, err error) {
	uid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT a, false FROM (
			SELECT a FROM unnest($2::text[]) a
				JOIN recipients r ON lower(r.email COLLATE "default") = lower(a COLLATE "default")
				WHERE r.campaign_id = $1
			UNION
			SELECT a FROM unnest($2::text[]) a JOIN recipients r ON r.phone = a WHERE r.campaign_id = $1
		) listed
		UNION ALL
		SELECT a, true FROM unnest($2::text[]) a
			WHERE EXISTS (SELECT 1 FROM suppressions s
				WHERE s.channel = CASE WHEN strpos(a, '@') > 0 THEN 'email' ELSE 'sms' END
					AND lower(s.address COLLATE "default") = lower(a COLLATE "default"))`, uid, addrs)
	if err != nil {
		return nil, nil, fmt.Errorf("look up test send addresses: %w", err)
	}
	var (
		a   string
		sup bool
	)
	_, err = pgx.ForEachRow(rows, []any{&a, &sup}, func() error {
		if sup {
			suppressed = append(suppressed, a)
		} else {
			customers = append(customers, a)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("look up test send addresses: %w", err)
	}
	return customers, suppressed, nil
}

// FirstRecipients returns up to n of a campaign's recipients, in list order.
func (db *DB) FirstRecipients(ctx context.Context, campaignID string, n int) ([]*breach.Recipient, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, recipientSelect+` WHERE campaign_id = $1 ORDER BY id LIMIT $2`, cid, n)
	if err != nil {
		return nil, fmt.Errorf("select recipients: %w", err)
	}
	rs, err := pgx.CollectRows(rows, scanRecipient)
	if err != nil {
		return nil, fmt.Errorf("select recipients: %w", err)
	}
	return rs, nil
}

var recipientSelect = `SELECT id, campaign_id, customer_id, email, phone, name, locale, country, jurisdiction,
	exposed, attributes, updated_at, purged_at IS NOT NULL, email_proof, phone_proof, ` + enrolmentCodeOf("recipients") + `, postal,
	` + customerOf("email_with") + `, ` + customerOf("phone_with") + `, ` + customerOf("letter_with") + ` FROM recipients`

// customerOf is, in SQL, the customer_id of the recipient whose ID the recipients row's column
// with holds (email_with, phone_with, letter_with: whose notice tells this customer, shared.go); NULL when
// none.
func customerOf(with string) string {
	return `CASE WHEN recipients.` + with + ` IS NOT NULL THEN (SELECT x.customer_id FROM recipients x
		WHERE x.campaign_id = recipients.campaign_id AND x.id = recipients.` + with + `) END`
}

// enrolmentCodeOf is, in SQL, the pool code assigned to the recipient of the row being read
// from recipients under the name table (NULL when none): one probe of enrolment_codes'
// (campaign, recipient) key. Every read of a recipient that is rendered selects it: a notice
// rendered without it tells the customer their code could not be included.
func enrolmentCodeOf(table string) string {
	return `(SELECT e.code FROM enrolment_codes e WHERE e.campaign_id = ` + table + `.campaign_id AND e.recipient_id = ` + table + `.id)`
}

// scanRecipient reads a recipientSelect row. A purged recipient has no address (NULL) and
// carries the proofs instead.
func scanRecipient(row pgx.CollectableRow) (*breach.Recipient, error) {
	var (
		r                      breach.Recipient
		email, phone           *string
		exposed                int32
		emailProof, phoneProof []byte
		code                   *string
		postal                 *breach.PostalAddress
		emailWith, phoneWith   *string
		letterWith             *string
	)
	if err := row.Scan(&r.ID, &r.CampaignID, &r.CustomerID, &email, &phone, &r.Name, &r.Locale, &r.Country,
		&r.Jurisdiction, &exposed, &r.Attributes, &r.UpdatedAt, &r.Purged, &emailProof, &phoneProof, &code, &postal,
		&emailWith, &phoneWith, &letterWith); err != nil {
		return nil, err
	}
	r.EmailToldWith, r.PhoneToldWith, r.LetterToldWith = deref(emailWith), deref(phoneWith), deref(letterWith)
	if postal != nil {
		r.Postal = *postal
	}
	r.Email, r.Phone, r.Exposed, r.EnrolmentCode = deref(email), deref(phone), breach.Categories(exposed), deref(code)
	r.EmailProof, r.PhoneProof = hex.EncodeToString(emailProof), hex.EncodeToString(phoneProof)
	return &r, nil
}

// RecipientByID returns a campaign's recipient by its ID, or ENOTFOUND.
func (db *DB) RecipientByID(ctx context.Context, campaignID string, id int64) (*breach.Recipient, error) {
	cid, err := parseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, recipientSelect+` WHERE campaign_id = $1 AND id = $2`, cid, id)
	if err != nil {
		return nil, fmt.Errorf("select recipient: %w", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRecipient)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "no such recipient")
	}
	if err != nil {
		return nil, fmt.Errorf("select recipient: %w", err)
	}
	return r, nil
}
