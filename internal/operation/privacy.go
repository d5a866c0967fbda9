package operation

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Purge deletes a finished campaign's personal data now, without waiting for its retention
// period; the store writes its audit row with it. A campaign already purged answers
// AlreadyPurged; one still sending is an ECONFLICT error. Once allowed, it runs to its end even
// if its asker hangs up (finishing).
func (s *Service) Purge(ctx context.Context, actor breach.Actor, campaignID string) (*breach.PurgeReport, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "Purge", campaignID); err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := finishing(ctx)
	defer cancel()
	return s.Store.PurgeCampaign(ctx, cid, actor.Name, secret)
}

// Proof says whether an address (an email, or a phone number in E.164 form) was notified by a
// purged campaign, and how, from the hashes the purge kept. Who asked is audited; the address
// is not.
func (s *Service) Proof(ctx context.Context, actor breach.Actor, campaignID, address string) (*breach.NoticeProof, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "Proof", campaignID); err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	addr, err := ReviewerAddress(address)
	if err != nil {
		// The requester's own input, quoted back to them: a parse error, never an internal one.
		return nil, breach.Errorf(breach.EINVALID, "address: %s", breach.ErrorMessage(err))
	}
	ch := breach.ChannelSMS
	if strings.Contains(addr, "@") {
		ch = breach.ChannelEmail
	}
	p, err := s.Store.NoticeProof(ctx, cid, ch, addr, secret)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, breach.ActionCampaignProof, cid, map[string]any{"channel": ch, "matched": p.Matched}); err != nil {
		return nil, err
	}
	return p, nil
}

// auditActionName is what an action name looks like ("campaign.start", "token.create"): a
// filter that could never match is a mistake worth telling, not an empty page.
var auditActionName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// AuditQuery is a page of the audit log as a door receives it: campaign ID, action name, the
// entry ID to read before (the previous page's last), and a limit, each as text ("" for none).
type AuditQuery struct {
	Campaign, Action, Before, Limit string
}

// AuditPage is a page of the audit log, newest first; NextBefore, when set, is the Before of
// the next (older) page.
type AuditPage struct {
	Entries    []breach.AuditEntry `json:"entries"`
	NextBefore int64               `json:"next_before,omitempty"`
}

// AuditLog returns a page of the audit log, newest first.
func (s *Service) AuditLog(ctx context.Context, actor breach.Actor, q AuditQuery) (*AuditPage, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "AuditLog", ""); err != nil {
		return nil, err
	}
	f := breach.AuditFilter{Action: q.Action}
	if q.Campaign != "" {
		cid, err := breach.ParseID("campaign", q.Campaign)
		if err != nil {
			return nil, err
		}
		f.CampaignID = cid
	}
	if f.Action != "" && (len(f.Action) > 64 || !auditActionName.MatchString(f.Action)) {
		return nil, breach.Errorf(breach.EINVALID, "action=%q is not an action name such as campaign.start", breach.QuoteText(f.Action))
	}
	if q.Before != "" {
		n, err := strconv.ParseInt(q.Before, 10, 64)
		if err != nil || n < 1 {
			return nil, breach.Errorf(breach.EINVALID, "before=%q must be an entry ID (a positive integer, the next_before of the previous page)", breach.QuoteText(q.Before))
		}
		f.Before = n
	}
	limit, err := PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	f.Limit = limit
	entries, err := s.Store.AuditLog(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{Entries: entries}
	if page.Entries == nil {
		page.Entries = []breach.AuditEntry{}
	}
	if len(entries) == f.Limit {
		page.NextBefore = entries[len(entries)-1].ID
	}
	return page, nil
}

// RetentionEvery is how often a worker looks for finished campaigns whose retention period is
// over. Retention is counted in days: an hour late is on time, and the sweep is one small query
// when nothing has expired.
const RetentionEvery = time.Hour

// retentionActor names the automatic purge in the audit log.
var retentionActor = breach.SystemActor("retention")

// StartRetention purges expired campaigns now and every RetentionEvery until ctx ends, in the
// background; stop waits for it to finish. Every worker runs one: they need no coordination,
// because a purge holds its campaign's row lock and finds a purged campaign done.
func (s *Service) StartRetention(ctx context.Context) (stop func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(RetentionEvery)
		defer tick.Stop()
		for {
			s.PurgeExpired(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return wg.Wait
}

// PurgeExpired runs one retention sweep, logging campaign IDs and counts only.
func (s *Service) PurgeExpired(ctx context.Context) {
	secret, err := s.secret(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Error("retention sweep not run: the secret is not the database's", "err", err)
		}
		return
	}
	reports, err := s.Store.PurgeExpired(ctx, retentionActor.Name, secret)
	for _, r := range reports {
		s.Log.Info("retention period over: campaign purged", "campaign", r.CampaignID, "recipients", r.Recipients,
			"rejects", r.Rejects)
	}
	if err != nil && ctx.Err() == nil {
		s.Log.Warn("retention: some campaigns not purged; the next sweep tries again", "error", err)
	}
}
