package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CreateCampaign stores a validated campaign as a draft, with the file it came from, and sets
// its ID, state and creation time.
func (db *DB) CreateCampaign(ctx context.Context, c *breach.Campaign, source string) error {
	spec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode campaign: %w", err)
	}
	err = db.pool.QueryRow(ctx, `
		INSERT INTO campaigns (name, spec, source, created_by)
		VALUES ($1, $2, $3, $4)
		RETURNING id, state, created_at`,
		c.Name, spec, source, c.CreatedBy,
	).Scan(&c.ID, &c.State, &c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert campaign: %w", err)
	}
	return nil
}

// Campaign returns the campaign with the given ID, or an ENOTFOUND error.
func (db *DB) Campaign(ctx context.Context, id string) (*breach.Campaign, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	return selectCampaign(ctx, db.pool, uid, id, "")
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// selectCampaign reads one campaign (suffix: a locking clause, or "").
func selectCampaign(ctx context.Context, q querier, uid uuid.UUID, id, suffix string) (*breach.Campaign, error) {
	rows, err := q.Query(ctx, campaignSelect+` WHERE id = $1 `+suffix, uid)
	if err != nil {
		return nil, fmt.Errorf("select campaign: %w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("select campaign: %w", err)
	}
	return c, nil
}

// Campaigns returns every campaign, newest first.
func (db *DB) Campaigns(ctx context.Context) ([]*breach.Campaign, error) {
	rows, err := db.pool.Query(ctx, campaignSelect+` ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("select campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("select campaigns: %w", err)
	}
	return cs, nil
}

// CampaignSource returns the campaign file a campaign was created from.
func (db *DB) CampaignSource(ctx context.Context, id string) (string, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return "", err
	}
	var source string
	err = db.pool.QueryRow(ctx, `SELECT source FROM campaigns WHERE id = $1`, uid).Scan(&source)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", breach.Errorf(breach.ENOTFOUND, "campaign %q not found", id)
	}
	return source, err
}

// campaignSelect reads a campaign, and the deployment's two-person rule with it (see
// RequireTwoPerson): the rule is the database's, not the reading process's.
const campaignSelect = `SELECT id, state, spec, created_by, created_at, approved_by, approved_at, started_by,
	started_at, finished_at, purged_at, purged_by, list_version, templates_digest,
	EXISTS (SELECT 1 FROM approval_policy WHERE two_person) FROM campaigns`

func scanCampaign(row pgx.CollectableRow) (*breach.Campaign, error) {
	var (
		c, cols   breach.Campaign
		spec      []byte
		version   int64
		templates *string
		twoPerson bool
	)
	if err := row.Scan(&cols.ID, &cols.State, &spec, &cols.CreatedBy, &cols.CreatedAt, &cols.ApprovedBy, &cols.ApprovedAt,
		&cols.StartedBy, &cols.StartedAt, &cols.FinishedAt, &cols.PurgedAt, &cols.PurgedBy, &version, &templates, &twoPerson); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(spec, &c); err != nil {
		return nil, fmt.Errorf("decode campaign %s: %w", cols.ID, err)
	}
	// The columns, not the stored specification, say what the campaign is now.
	c.ID, c.State, c.CreatedBy, c.CreatedAt = cols.ID, cols.State, cols.CreatedBy, cols.CreatedAt
	c.ApprovedBy, c.ApprovedAt = cols.ApprovedBy, cols.ApprovedAt
	c.StartedBy, c.StartedAt, c.FinishedAt = cols.StartedBy, cols.StartedAt, cols.FinishedAt
	c.PurgedAt, c.PurgedBy = cols.PurgedAt, cols.PurgedBy
	c.ListVersion = strconv.FormatInt(version, 10)
	if templates != nil {
		c.ApprovedTemplates = *templates
	}
	// The deployment's rule binds every campaign, whatever its file says.
	c.Approval.TwoPerson = c.Approval.TwoPerson || twoPerson
	return &c, nil
}

// ApproveCampaign records actor's approval of a draft campaign with recipients, if check — the
// approval rules and the lint of its notices — allows it, and approves the campaign once it
// has the approvals check says it needs. The approval and its audit row commit together, and
// the campaign is locked meanwhile, so no import can change its list between the check and
// the approval, and two approvers cannot both be "the first".
func (db *DB) ApproveCampaign(ctx context.Context, id, actor, listVersion, templates string, check func(c *breach.Campaign, authors []string, approvals []breach.Approval) (int, error)) (*breach.Campaign, error) {
	return db.underCampaignLock(ctx, id, func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error {
		if err := c.State.Move(breach.CampaignApproved); err != nil {
			return err
		}
		var recipients int64
		err := tx.QueryRow(ctx, `SELECT count(*) FROM recipients WHERE campaign_id = $1`, uid).Scan(&recipients)
		if err != nil {
			return fmt.Errorf("count recipients: %w", err)
		}
		if recipients == 0 {
			return breach.Errorf(breach.ECONFLICT, "the campaign has no recipients yet: import its customer list before approving it")
		}
		// Under the lock, the pool tops up whoever still needs a code, and its count is what
		// the approval rule (breach.CodePool.CheckApproval, called by check) holds.
		if _, c.CodePool, err = assignCodes(ctx, tx, c.ID); err != nil {
			return err
		}
		if c.SharedListCodes, err = sharedListCodes(ctx, tx, c); err != nil {
			return err
		}
		authors, err := campaignAuthors(ctx, tx, uid, c)
		if err != nil {
			return err
		}
		approvals, err := approvals(ctx, tx, uid)
		if err != nil {
			return err
		}
		if listVersion != "" && c.ListVersion != listVersion {
			return breach.Errorf(breach.ECONFLICT, "the campaign's list has changed since it was reviewed (an import or a codes import finished): review it again, then approve")
		}
		required, err := check(c, authors, approvals)
		if err != nil {
			return err
		}
		for _, a := range approvals {
			// An approval given before approvals recorded their templates (migration 00027)
			// names none: it counts, as it did.
			if a.Templates != "" && templates != "" && a.Templates != templates {
				return breach.Errorf(breach.ECONFLICT, "%s approved the notices as other templates render them (TEMPLATES_DIR, or another release of breachnotice): approve from a process with the same templates as theirs", a.By)
			}
			if templates == "" {
				templates = a.Templates
			}
		}
		var at time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO campaign_approvals (campaign_id, actor, templates) VALUES ($1, $2, nullif($3, '')) RETURNING at`,
			uid, actor, templates).Scan(&at); err != nil {
			return fmt.Errorf("record approval: %w", err)
		}
		c.Approvals, c.ApprovalsRequired = append(approvals, breach.Approval{By: actor, At: at, Templates: templates}), required
		complete := len(c.Approvals) >= required
		why := map[string]any{"recipients": recipients, "approvals": len(c.Approvals), "required": required,
			"complete": complete, "list_version": c.ListVersion}
		if complete {
			c.ApprovedTemplates = templates
			// The list and the channel policy are final now: one person's customer_ids at
			// one address are told by one notice there (shared.go).
			shared, err := mergeSharedAddresses(ctx, tx, uid, c.Channels, c.LetterPolicy())
			if err != nil {
				return err
			}
			for _, ch := range mergedChannels {
				why["merged_"+string(ch)], why["shared_"+string(ch)] = shared.Merged[ch], shared.Shared[ch]
			}
			err = tx.QueryRow(ctx, `
				UPDATE campaigns SET state = 'approved', approved_by = $2, approved_at = now(), updated_at = now(),
					recipients = $3, templates_digest = nullif($4, ''), merged_email = $5, merged_sms = $6,
					merged_letter = $7, shared_email = $8, shared_sms = $9, shared_letter = $10
				WHERE id = $1 RETURNING state, approved_by, approved_at`, uid, actor, recipients, templates,
				shared.Merged[breach.ChannelEmail], shared.Merged[breach.ChannelSMS], shared.Merged[breach.ChannelLetter],
				shared.Shared[breach.ChannelEmail], shared.Shared[breach.ChannelSMS], shared.Shared[breach.ChannelLetter],
			).Scan(&c.State, &c.ApprovedBy, &c.ApprovedAt)
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23514" && pgErr.ConstraintName == "" && strings.Contains(pgErr.Message, "two approvers") {
				// The database's two-person rule (migration 00024), recorded by another process
				// since this one read the campaign: a refusal like the rule's own.
				return breach.Errorf(breach.ECONFLICT, "this deployment requires two approvers (REQUIRE_TWO_PERSON, recorded in the database): approve it again, and another person after you")
			}
			if err != nil {
				return fmt.Errorf("approve campaign: %w", err)
			}
		}
		return audit(ctx, tx, actor, breach.ActionCampaignApprove, c.ID, why)
	})
}

// Approvals returns the approvals of a campaign's list as it is now (its ListVersion), oldest
// first.
func (db *DB) Approvals(ctx context.Context, id string) ([]breach.Approval, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	return approvals(ctx, db.pool, uid)
}

// approvals reads the approvals given for the campaign's list as it is now. An approval is of
// a list, and one given before an import is not an approval of what it brought. The database
// moves the version (campaigns.list_version) with each import that completes and each addition
// of enrolment codes to a draft's pool, and stamps each approval with the version it was given
// for (migrations 00020 and 00021).
func approvals(ctx context.Context, q querier, uid uuid.UUID) ([]breach.Approval, error) {
	rows, err := q.Query(ctx, `
		SELECT a.actor, a.at, coalesce(a.templates, '') FROM campaign_approvals a
		JOIN campaigns c ON c.id = a.campaign_id AND c.list_version = a.list_version
		WHERE a.campaign_id = $1
			-- A user disabled since (an account compromised, a person gone) no longer counts
			-- towards an approval still to complete: their approval stayed one of two (a
			-- review). A completed approval stays as it was given.
			AND (c.state <> 'draft' OR NOT EXISTS (SELECT 1 FROM users u WHERE a.actor = 'user:' || u.login AND u.disabled))
		ORDER BY a.at`, uid)
	if err != nil {
		return nil, fmt.Errorf("select approvals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (breach.Approval, error) {
		var a breach.Approval
		err := row.Scan(&a.By, &a.At, &a.Templates)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("select approvals: %w", err)
	}
	return out, nil
}

// campaignAuthors returns who created the campaign and who uploaded its lists or added to its
// enrolment codes.
func campaignAuthors(ctx context.Context, tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) ([]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT created_by FROM imports WHERE campaign_id = $1 AND created_by <> ''
		UNION SELECT actor FROM audit_log WHERE campaign_id = $1 AND action = '`+breach.ActionCodesImport+`'
			AND (detail->>'added')::bigint > 0`, uid)
	if err != nil {
		return nil, fmt.Errorf("read list uploaders: %w", err)
	}
	uploaders, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read list uploaders: %w", err)
	}
	return append(uploaders, c.CreatedBy), nil
}

// underCampaignLock runs fn in a transaction that holds the campaign's row lock (so no import,
// approval or move of it runs meanwhile), commits, and returns the campaign as fn left it.
func (db *DB) underCampaignLock(ctx context.Context, id string, fn func(tx pgx.Tx, uid uuid.UUID, c *breach.Campaign) error) (*breach.Campaign, error) {
	uid, err := parseID("campaign", id)
	if err != nil {
		return nil, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	c, err := selectCampaign(ctx, tx, uid, id, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if err := fn(tx, uid, c); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return c, nil
}
