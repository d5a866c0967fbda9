// Package operation is the one home of every operator action: create a campaign, import its
// list, preview and lint its notices, approve it, send tests, start, pause, resume and cancel
// it, look up a customer, list and export deliveries, purge, check a proof, read the audit log,
// manage tokens, tell the legal team which regulators must hear of the breach by when. Each
// operation is one method of Service that
//
//  1. parses its input once (IDs in canonical form only, before any store or audit call),
//  2. checks the actor's role and the approval rules,
//  3. does it, and
//  4. writes its audit row (actions are breach.Action* constants).
//
// The JSON API (package api), the web console (package web) and the command line
// (cmd/breachnotice) are doors: they turn a request into a call of one of these methods and
// render its answer, and hold no copy of a rule. A test runs every operation through all three
// doors and expects the same outcome and the same audit row.
//
// Reads of customers' personal data (a record, a page of deliveries, a preview of a customer's
// notice, a reject report, an export) are audited before the data is handed back: when the
// audit row cannot be written within a few seconds the read fails with EUNAVAILABLE, so that
// no read ever leaves no trace.
package operation

import (
	"context"
	"log/slog"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

// Store is what the operations need of storage (PostgreSQL: package postgres), one interface
// per concern.
type Store interface {
	CampaignStore
	UserStore
	ImportStore
	TrackingStore
	AuditStore
	PrivacyStore
	TokenStore
	ReportStore
	VerifyStore
	CodeStore
	LetterStore
}

// CampaignStore keeps campaigns and moves them through their states.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c *breach.Campaign, source string) error
	// Campaign returns a campaign, or ENOTFOUND.
	Campaign(ctx context.Context, id string) (*breach.Campaign, error)
	// Campaigns returns every campaign, newest first.
	Campaigns(ctx context.Context) ([]*breach.Campaign, error)
	// Approvals returns the approvals given to a campaign's list as it is now — of its
	// breach.Campaign.ListVersion; those given before its last completed import, or before a
	// draft's last codes import that added codes, no longer count — oldest first.
	Approvals(ctx context.Context, id string) ([]breach.Approval, error)
	// ApproveCampaign records actor's approval of a draft campaign's list version listVersion
	// under its lock (an ECONFLICT error if the list is no longer that version): check gets
	// the campaign, its authors (creator, list uploaders, importers of codes that added some)
	// and the approvals so far, and returns how many approvals the campaign needs or why actor
	// may not give one. Once that many are given the campaign is approved. The approval and
	// its audit row (action breach.ActionCampaignApprove) commit together.
	ApproveCampaign(ctx context.Context, id, actor, listVersion, templates string, check func(c *breach.Campaign, authors []string, approvals []breach.Approval) (required int, err error)) (*breach.Campaign, error)
	// RequireTwoPerson records the deployment's two-person rule, which every campaign read
	// carries from then on (breach.Campaign.Approval), with its audit row; by names the process.
	RequireTwoPerson(ctx context.Context, by string) error
	FinishUpgrade(ctx context.Context, by string) error
	PrepareRollback(ctx context.Context, by string) error
	// MoveCampaign starts, pauses, resumes or cancels a campaign on behalf of actor, with its
	// audit row (breach.ActionOfMove) in the same transaction.
	MoveCampaign(ctx context.Context, id, actor string, from, to breach.CampaignState) (*breach.Campaign, error)
	// RequeueFailed puts a running, paused or completed campaign's failed notices on channel ch back in
	// the queue, for the customers nothing else has reached or is on its way to; it returns
	// how many (see postgres.DB.RequeueFailed).
	RequeueFailed(ctx context.Context, id, actor string, ch breach.Channel) (int64, error)
	// CampaignStatus counts a campaign's deliveries by channel, state and locale.
	CampaignStatus(ctx context.Context, id string) (*breach.CampaignStatus, error)
	// RecipientCount counts a campaign's recipients.
	RecipientCount(ctx context.Context, campaignID string) (int64, error)
	// Recipient returns a campaign's recipient by customer_id, or ENOTFOUND.
	Recipient(ctx context.Context, campaignID, customerID string) (*breach.Recipient, error)
	// FirstRecipients returns up to n of a campaign's recipients in list order.
	FirstRecipients(ctx context.Context, campaignID string, n int) ([]*breach.Recipient, error)
	// CustomerAddresses returns those of addrs (email addresses, compared in any letter case,
	// and E.164 numbers) that are the address of a customer of the campaign, and those on the
	// suppression list.
	CustomerAddresses(ctx context.Context, campaignID string, addrs []string) (customers, suppressed []string, err error)
}

// ImportStore keeps the imports of customer lists and their rejected rows.
type ImportStore interface {
	Imports(ctx context.Context, campaignID string) ([]*breach.Import, error)
	Import(ctx context.Context, campaignID, importID string) (*breach.Import, error)
	Rejects(ctx context.Context, importID string, fn func(breach.Reject) error) error
}

// TrackingStore reads the record of what was sent to whom.
type TrackingStore interface {
	// RecipientRecord returns a customer's deliveries and timeline by customer_id; ENOTFOUND
	// names the campaign or the customer that does not exist.
	RecipientRecord(ctx context.Context, campaignID, customerID string) (*breach.RecipientRecord, error)
	// Deliveries returns a page of a campaign's deliveries passing f after the key after (nil:
	// from the start) and the key the next page starts after, nil at the end. A filtered page
	// may be short, even empty, while more follow: only a nil next ends the listing.
	Deliveries(ctx context.Context, campaignID string, f breach.DeliveryFilter, after *breach.DeliveryKey, limit int) ([]breach.DeliveryRecord, *breach.DeliveryKey, error)
	// ExportDeliveries calls fn with each of a campaign's deliveries as they are read, and
	// returns how many it read; ENOTFOUND before any call for an unknown campaign.
	ExportDeliveries(ctx context.Context, campaignID string, fn func(*breach.DeliveryRecord) error) (int64, error)
	// Suppressions returns a page of the suppression list of channel ch (all when empty).
	Suppressions(ctx context.Context, ch breach.Channel, after *breach.SuppressionKey, limit int) ([]breach.Suppression, *breach.SuppressionKey, error)
	// CampaignActivity returns a campaign's notices sent and failed or bounced per channel
	// over its life, in at most maxSteps steps; ENOTFOUND for an unknown campaign.
	CampaignActivity(ctx context.Context, id string, maxSteps int) (*breach.Activity, error)
}

// AuditStore appends to the audit log and reads it.
type AuditStore interface {
	// Audit appends an action to the audit log before returning.
	Audit(ctx context.Context, actor, action, campaignID string, detail map[string]any) error
	// AuditRead appends a read of personal data, written with other reads in one statement,
	// and returns once it is written; an error (EUNAVAILABLE when the log does not keep up)
	// means it is not, and the read must not be answered.
	AuditRead(ctx context.Context, actor, action, campaignID string, detail map[string]any) error
	// AuditLog returns the audit entries the filter selects, newest first.
	AuditLog(ctx context.Context, f breach.AuditFilter) ([]breach.AuditEntry, error)
}

// PrivacyStore purges finished campaigns' personal data and checks the proofs kept.
type PrivacyStore interface {
	// PurgeCampaign deletes a finished campaign's personal data, keeping counts, the delivery
	// record and keyed hashes of the addresses; a purged campaign answers AlreadyPurged. A
	// campaign not finished is an ECONFLICT error.
	PurgeCampaign(ctx context.Context, id, actor string, secret []byte) (*breach.PurgeReport, error)
	// PurgeExpired purges every finished campaign whose retention period is over.
	PurgeExpired(ctx context.Context, actor string, secret []byte) ([]*breach.PurgeReport, error)
	// NoticeProof says whether address was notified on channel ch by a purged campaign.
	NoticeProof(ctx context.Context, campaignID string, ch breach.Channel, address string, secret []byte) (*breach.NoticeProof, error)
}

// VerifyStore finds the notices that carried a reference code, for its public verification.
type VerifyStore interface {
	// ReferenceSent returns who sent a notice carrying the reference code with lookup key key
	// (notice.ReferenceKeys) and when the first went out, or nil when none was sent. Its work
	// is the same whether or not such a notice exists: one index probe per campaign.
	ReferenceSent(ctx context.Context, key int64) (*breach.SentReference, error)
}

// TestSender sends a campaign's real notices of recipients to reviewers' addresses (package
// dispatch), recording nothing against the customers.
type TestSender interface {
	Send(ctx context.Context, c *breach.Campaign, recipients []*breach.Recipient, to []string) ([]breach.TestSend, error)
}

// Service runs the operations. Set the fields, then use it from any number of goroutines.
type Service struct {
	Store    Store
	Importer *importer.Importer
	Renderer *notice.Renderer
	// Tests sends test notices; nil refuses test sends.
	Tests TestSender
	// Secret keys reference codes (in exports) and the purge's address hashes
	// (BREACHNOTICE_SECRET); SecretCheck makes sure it is the database's before it keys
	// anything (CheckSecret).
	Secret      []byte
	SecretCheck SecretCheck
	// TwoPersonAlways makes every campaign need two approvers, whatever its file says
	// (REQUIRE_TWO_PERSON). It is recorded in the database (RecordApprovalPolicy), which then
	// applies it to every process.
	TwoPersonAlways bool
	// Rules are the laws the regulator reports hold the counts against; nil: the shipped
	// rules (package regulator).
	Rules *regulator.Rules
	// WriteLetter and RenderLetter make the letters' PDFs and their text; nil: letter.Write
	// and Renderer.Letter (tests give stand-ins).
	WriteLetter  LetterWriter
	RenderLetter LetterContent
	Log          *slog.Logger
	// VerifyFloor is the least time a verification of a reference code takes (0:
	// DefaultVerifyFloor), so that its timing says nothing of the code (see Verify).
	VerifyFloor time.Duration
	// StatusMaxAge is how old a campaign's status (Status) may be when answered: requests
	// within it of each other share one read; past it, the status is read again in the
	// background and, until that read ends, the one before is answered, up to 5 × StatusMaxAge
	// old (see statusCache). 0: read at every request.
	// `serve` sets a second.
	StatusMaxAge time.Duration
	statuses     statusCache
}

// campaign parses a campaign ID and loads the campaign.
func (s *Service) campaign(ctx context.Context, id string) (*breach.Campaign, error) {
	id, err := breach.ParseID("campaign", id)
	if err != nil {
		return nil, err
	}
	return s.Store.Campaign(ctx, id)
}

// auditRead records a read of personal data by actor, before it is answered.
func (s *Service) auditRead(ctx context.Context, actor breach.Actor, action, campaignID string, detail map[string]any) error {
	if err := s.Store.AuditRead(ctx, actor.Name, action, campaignID, detail); err != nil {
		if breach.ErrorCode(err) == breach.EUNAVAILABLE {
			return err
		}
		s.Log.Error("audit of a read failed", "action", action, "campaign", campaignID, "err", err)
		return breach.Errorf(breach.EUNAVAILABLE, "this read of personal data could not be recorded in the audit log, so it is refused: try again in a moment")
	}
	return nil
}

// auditMiss audits a lookup of personal data that found no one (err, ENOTFOUND) as a read —
// whether a customer is on the list is itself personal data, and probing customer_ids must leave
// a trace — and returns err, or the audit's failure.
func (s *Service) auditMiss(ctx context.Context, actor breach.Actor, action, campaignID string, detail map[string]any, err error) error {
	if aerr := s.auditRead(ctx, actor, action, campaignID, detail); aerr != nil {
		return aerr
	}
	return err
}

// require returns actor.Require(role), auditing a refusal (access.denied: who, the operation
// attempted, the role it takes, and the campaign when the request named a valid one): an
// investigator asking who tried to approve, or probed for customers, without the right must
// find them — a refusal left no trace.
func (s *Service) require(ctx context.Context, actor breach.Actor, role breach.Role, attempted, campaignID string) error {
	err := actor.Require(role)
	if err == nil {
		return nil
	}
	if aerr := s.AuditDenied(ctx, actor, role, attempted, campaignID); aerr != nil {
		return aerr
	}
	return err
}

// AuditDenied records that actor was refused attempted for want of role: what require does
// on a refusal, and what a door that checks a role before any operation runs (the console)
// calls, so that every refusal reads alike.
func (s *Service) AuditDenied(ctx context.Context, actor breach.Actor, role breach.Role, attempted, campaignID string) error {
	id := ""
	if campaignID != "" {
		if parsed, err := breach.ParseID("campaign", campaignID); err == nil {
			id = parsed
		}
	}
	return s.audit(ctx, actor, breach.ActionDenied, id, map[string]any{"attempted": attempted, "role": string(role)})
}

// maxChangeTime bounds a change that goes on without its asker (finishing).
const maxChangeTime = time.Hour

// finishing is the context of a change of state that, once asked for and allowed, runs to its
// end even if the asker hangs up: the approval of a list of tens of millions of customers
// groups their addresses (about 5 s per million rows when some share one) and a purge deletes
// them, for longer than a proxy in front of the console waits (nginx: 60 s). With the
// request's context the proxy's timeout cancelled the change, rolled it back, and the same
// happened at every try: a list too large could never be approved from the console. It keeps
// the request's values (the credential the audit rows name) and ends after maxChangeTime.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), maxChangeTime)
}

// audit records an action that has happened; failing to record it is an error the door shows,
// since the action stands without a trace otherwise.
func (s *Service) audit(ctx context.Context, actor breach.Actor, action, campaignID string, detail map[string]any) error {
	if err := s.Store.Audit(context.WithoutCancel(ctx), actor.Name, action, campaignID, detail); err != nil {
		s.Log.Error("audit failed", "action", action, "campaign", campaignID, "err", err)
		return err
	}
	return nil
}
