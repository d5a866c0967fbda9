package operation

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// CreateCampaign stores the campaign file read from src (named name in its errors, which list
// every problem with its line) as a draft created by actor.
func (s *Service) CreateCampaign(ctx context.Context, actor breach.Actor, name string, src io.Reader) (*breach.Campaign, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "CreateCampaign", ""); err != nil {
		return nil, err
	}
	c, raw, err := campaignfile.Parse(name, io.LimitReader(src, campaignfile.MaxSize+1))
	if err != nil {
		return nil, err
	}
	c.CreatedBy = actor.Name
	if err := s.Store.CreateCampaign(ctx, c, string(raw)); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, breach.ActionCampaignCreate, c.ID, map[string]any{"name": c.Name}); err != nil {
		return nil, err
	}
	return c, nil
}

// Campaign returns a campaign with its approvals so far and how many it needs.
func (s *Service) Campaign(ctx context.Context, actor breach.Actor, id string) (*breach.Campaign, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Campaign", id); err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Approvals, err = s.Store.Approvals(ctx, c.ID); err != nil {
		return nil, err
	}
	c.ApprovalsRequired = c.RequiredApprovals(s.TwoPersonAlways)
	if c.CodePool, err = s.Store.CodePool(ctx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// Campaigns lists every campaign, newest first.
func (s *Service) Campaigns(ctx context.Context, actor breach.Actor) ([]*breach.Campaign, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Campaigns", ""); err != nil {
		return nil, err
	}
	return s.Store.Campaigns(ctx)
}

// CampaignSummary is a campaign with what its page and `campaign show` print beside it.
type CampaignSummary struct {
	Campaign   *breach.Campaign `json:"campaign"`
	Recipients int64            `json:"recipients"`
	Imports    []*breach.Import `json:"imports"`
}

// Summary returns a campaign with its recipients' count and its imports.
func (s *Service) Summary(ctx context.Context, actor breach.Actor, id string) (*CampaignSummary, error) {
	c, err := s.Campaign(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	sum := &CampaignSummary{Campaign: c}
	if sum.Recipients, err = s.Store.RecipientCount(ctx, c.ID); err != nil {
		return nil, err
	}
	if sum.Imports, err = s.Store.Imports(ctx, c.ID); err != nil {
		return nil, err
	}
	return sum, nil
}

// Lint checks every locale × jurisdiction × channel of a campaign's notices.
func (s *Service) Lint(ctx context.Context, actor breach.Actor, id string) (*breach.Campaign, []notice.Finding, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Lint", id); err != nil {
		return nil, nil, err
	}
	c, err := s.renderingCampaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	findings := s.Renderer.Lint(c)
	if findings == nil {
		findings = []notice.Finding{}
	}
	return c, findings, nil
}

// ApproveRequest says which list an approval is for.
type ApproveRequest struct {
	// ListVersion is the version of the list the approver reviewed (breach.Campaign.ListVersion,
	// as the console's page and `campaign show --json` give it).
	ListVersion string
	// Without a ListVersion, the approval is of the list as the request finds it: for the doors
	// that may be used without showing the approver a version (the command line without
	// --list-version, an API call without a body). It is still refused if an import lands while
	// it waits for the campaign's lock, which an import holds from its start: the approver asked
	// before that list existed. RequireVersion refuses that instead: the console always sends
	// the version its page showed, and a form without one is no review of anything.
	RequireVersion bool
}

// Approve gives actor's approval to a draft campaign whose list is imported and whose notices
// pass lint. A campaign that needs two approvers stays a draft after the first (its Approvals
// say "1 of 2"); the second approves it. A refusal by the approval rules is audited too
// (breach.ActionApproveRefused): it is the attempt a reviewer of the log wants to see.
//
// The approval is of the list version req names, and refused if the list has changed since.
// Once allowed, it runs to its end even if its asker hangs up (finishing).
func (s *Service) Approve(ctx context.Context, actor breach.Actor, id string, req ApproveRequest) (*breach.Campaign, error) {
	if err := s.require(ctx, actor, breach.RoleApprover, "Approve", id); err != nil {
		return nil, err
	}
	if err := s.RecordApprovalPolicy(ctx); err != nil {
		return nil, err
	}
	id, err := breach.ParseID("campaign", id)
	if err != nil {
		return nil, err
	}
	listVersion := req.ListVersion
	switch {
	case listVersion == "" && req.RequireVersion:
		return nil, breach.Errorf(breach.EINVALID, "the approval does not say which version of the list it is for: reload the campaign's page, review it, and approve again")
	case listVersion != "" && !isListVersion(listVersion):
		return nil, breach.Errorf(breach.EINVALID, "list_version %q is not a version of a list (a number, as the campaign's list_version gives it): read the campaign again, review it, and approve again", breach.Clip(listVersion))
	}
	reviewed := listVersion != "" // else: the list as this request finds it
	if !reviewed {
		c, err := s.Store.Campaign(ctx, id)
		if err != nil {
			return nil, err
		}
		listVersion = c.ListVersion
	}
	defer s.statuses.forget(id)
	ctx, cancel := finishing(ctx)
	defer cancel()
	c, err := s.Store.ApproveCampaign(ctx, id, actor.Name, listVersion, s.Renderer.Digest(), func(c *breach.Campaign, authors []string, approvals []breach.Approval) (int, error) {
		required := c.RequiredApprovals(s.TwoPersonAlways)
		if err := c.CheckApproval(actor, required, authors, approvals); err != nil {
			return 0, err
		}
		// The store counted the pool under the campaign's lock (nil: the campaign has none).
		if err := c.CodePool.CheckApproval(); err != nil {
			return 0, err
		}
		if err := c.SharedListCodes.CheckApproval(); err != nil {
			return 0, err
		}
		return required, notice.Approvable(s.Renderer.Lint(c))
	})
	if err != nil {
		if breach.ErrorCode(err) == breach.ECONFLICT {
			detail := map[string]any{"reason": breach.ErrorMessage(err), "list_version": listVersion, "version_given": reviewed}
			if aerr := s.audit(ctx, actor, breach.ActionApproveRefused, id, detail); aerr != nil {
				return nil, aerr
			}
		}
		return nil, err
	}
	return c, nil
}

// RecordApprovalPolicy records this process's REQUIRE_TWO_PERSON (TwoPersonAlways) in the
// database, if set, so that every process applies it: a setting of each process let an author
// approve alone from one started without it. Serve, the worker and run call it as they start,
// Approve before it approves. Recording it again changes nothing.
func (s *Service) RecordApprovalPolicy(ctx context.Context) error {
	if !s.TwoPersonAlways {
		return nil
	}
	by := s.SecretCheck.By
	if by == "" {
		by = "a process with REQUIRE_TWO_PERSON"
	}
	return s.Store.RequireTwoPerson(ctx, by)
}

// FinishUpgrade lets this release record what the previous one could not read, once no process
// of it runs (README, Upgrading, step 4): a notice sent from its claim is then held on its
// delivery without a sent event. Only at the command line: it changes how the record is kept
// for every process.
func (s *Service) FinishUpgrade(ctx context.Context, actor breach.Actor) error {
	if err := actor.RequireLocal("finish an upgrade"); err != nil {
		return err
	}
	return s.Store.FinishUpgrade(ctx, actor.Name)
}

// PrepareRollback undoes FinishUpgrade before the previous release runs again: every sent
// notice held on its delivery gets the sent event that release reads.
func (s *Service) PrepareRollback(ctx context.Context, actor breach.Actor) error {
	if err := actor.RequireLocal("prepare a rollback"); err != nil {
		return err
	}
	return s.Store.PrepareRollback(ctx, actor.Name)
}

// isListVersion reports whether s is a list version as the store gives them: a number in its
// one decimal spelling. Anything else names no list, and is refused as such before it is
// compared, audited or sent to the database.
func isListVersion(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}

// Move is a change of a campaign's sending state that an operator asks for.
type Move struct {
	// From is the state the campaign must be in (any, when empty); To the state it moves to.
	From, To breach.CampaignState
}

// The moves an operator may ask for.
var (
	Start  = Move{breach.CampaignApproved, breach.CampaignRunning}
	Pause  = Move{breach.CampaignRunning, breach.CampaignPaused}
	Resume = Move{breach.CampaignPaused, breach.CampaignRunning}
	Cancel = Move{"", breach.CampaignCancelled}
)

// MoveCampaign starts, pauses, resumes or cancels a campaign; the workers hear of it at once.
// A move the state machine does not allow is an ECONFLICT error saying what is possible.
func (s *Service) MoveCampaign(ctx context.Context, actor breach.Actor, id string, m Move) (*breach.Campaign, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "MoveCampaign", id); err != nil {
		return nil, err
	}
	id, err := breach.ParseID("campaign", id)
	if err != nil {
		return nil, err
	}
	defer s.statuses.forget(id)
	return s.Store.MoveCampaign(ctx, id, actor.Name, m.From, m.To)
}

// RequeueFailed sends again the failed notices of a running, paused or completed campaign (which
// then runs again: postgres.DB.RequeueFailed) on channel ch
// ("email" or "sms") — after the relay or provider that failed them is fixed — for the
// customers nothing else has reached; it returns how many were queued. Once allowed, it runs
// to its end even if its asker hangs up (finishing: a relay's outage fails millions).
func (s *Service) RequeueFailed(ctx context.Context, actor breach.Actor, id string, ch breach.Channel) (int64, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "RequeueFailed", id); err != nil {
		return 0, err
	}
	id, err := breach.ParseID("campaign", id)
	if err != nil {
		return 0, err
	}
	switch {
	case ch == "":
		return 0, breach.Errorf(breach.EINVALID, "channel: name the channel whose failed notices to send again: email or sms")
	case !ch.Sent():
		return 0, breach.Errorf(breach.EINVALID, "channel %q: only email and sms notices are sent again (letters are printed by people)", breach.Clip(string(ch)))
	}
	defer s.statuses.forget(id)
	ctx, cancel := finishing(ctx)
	defer cancel()
	return s.Store.RequeueFailed(ctx, id, actor.Name, ch)
}

// Status counts a campaign's deliveries by channel, state and locale, with rate and ETA: read
// at most StatusMaxAge ago (or, while it is being read again, 5 × StatusMaxAge; see
// statusCache). The answer may be shared with other requests: not to be changed.
func (s *Service) Status(ctx context.Context, actor breach.Actor, id string) (*breach.CampaignStatus, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Status", id); err != nil {
		return nil, err
	}
	id, err := breach.ParseID("campaign", id)
	if err != nil {
		return nil, err
	}
	if s.StatusMaxAge <= 0 {
		// A read that the database does not answer (a table locked, a failover) is said to
		// be one, not waited on in silence for as long as the lock lasts (a review: 55 s).
		rctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		st, err := s.Store.CampaignStatus(rctx, id)
		if err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, breach.Errorf(breach.EUNAVAILABLE, "the database did not answer the status within %s (a table locked, or the database failing over): try again in a moment", statusTimeout)
		}
		return st, err
	}
	return s.statuses.get(ctx, id, s.StatusMaxAge, s.Store.CampaignStatus)
}

// statusTimeout bounds a status read made for its asker (the command line's).
const statusTimeout = 10 * time.Second
