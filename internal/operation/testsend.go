package operation

import (
	"context"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// MaxTestNotices bounds one test send, reviewers × customers: it is for a few reviewers, not a
// mailing.
const MaxTestNotices = 50

// TestSendRequest is a test send: the notices of Customers (customer_ids; none means the
// list's first) sent to the reviewers in To (email addresses and E.164 numbers).
type TestSendRequest struct {
	To        []string `json:"to"`
	Customers []string `json:"customers"`
}

// TestSendResult is what a test send did: every notice, sent or not.
type TestSendResult struct {
	Sent   []breach.TestSend `json:"sent"`
	Failed int               `json:"failed"`
}

// TestSend renders the real notices of chosen customers and sends them to reviewers; nothing
// is recorded against the customers. A purged campaign, which has no addresses left to render,
// is refused.
func (s *Service) TestSend(ctx context.Context, actor breach.Actor, campaignID string, req TestSendRequest) (*TestSendResult, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "TestSend", campaignID); err != nil {
		return nil, err
	}
	if err := s.CheckSecret(ctx); err != nil {
		return nil, err
	}
	to, err := ReviewerAddresses(req.To, len(req.Customers))
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "to: %s", breach.ErrorMessage(err))
	}
	c, err := s.renderingCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if err := c.NeedsPersonalData("send test notices"); err != nil {
		return nil, err
	}
	// Test notices go to reviewers: never to a customer of the list (who would be sent a
	// notice nobody approved, perhaps another customer's, one its lint refused, with a
	// reference the verify page disowns), nor to an address that opted out (a review).
	customers, suppressed, err := s.Store.CustomerAddresses(ctx, c.ID, to)
	if err != nil {
		return nil, err
	}
	if len(customers) > 0 {
		// Whether an address is on the list is personal data: the probe is audited.
		return nil, s.auditMiss(ctx, actor, breach.ActionCampaignTestSend, c.ID, map[string]any{"stage": "refused", "reviewer_is_customer": true},
			breach.Errorf(breach.ECONFLICT, "to: %s is the address of a customer on this campaign's list: test notices go to reviewers, and a customer is sent their own notice once the campaign is approved and started", breach.Clip(customers[0])))
	}
	if len(suppressed) > 0 {
		return nil, breach.Errorf(breach.ECONFLICT, "to: %s is on the suppression list (it opted out): no notice goes there", breach.Clip(suppressed[0]))
	}
	var ids []string
	for _, id := range req.Customers {
		id, err := breach.ParseCustomerID(id)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, id) { // one notice of a customer, however often named
			ids = append(ids, id)
		}
	}
	var recipients []*breach.Recipient
	for _, id := range ids {
		rc, err := s.Store.Recipient(ctx, c.ID, id)
		if err != nil {
			if breach.ErrorCode(err) == breach.ENOTFOUND { // a probe of the list, as in Recipient
				err = s.auditMiss(ctx, actor, breach.ActionCampaignTestSend, c.ID, map[string]any{"stage": "refused", "found": false}, err)
			}
			return nil, err
		}
		recipients = append(recipients, rc)
	}
	if len(recipients) == 0 {
		if recipients, err = s.Store.FirstRecipients(ctx, c.ID, 1); err != nil {
			return nil, err
		}
		if len(recipients) == 0 {
			return nil, breach.Errorf(breach.ECONFLICT, "the campaign has no recipients yet: import its customer list first")
		}
	}
	if s.Tests == nil {
		return nil, breach.Errorf(breach.ECONFLICT, "this server does not send test notices")
	}
	// The customers' notices — name, exposed data, reference code — leave for addresses the
	// operator typed: a read of their personal data, audited before anything leaves (the
	// recipients' internal numbers, never a customer_id or their address; and where the
	// notices went, the reviewers' addresses: an auditor must be able to say where a
	// customer's data was sent), and again with what was sent, even when the send broke off
	// midway.
	numbers := make([]int64, len(recipients))
	for i, rc := range recipients {
		numbers[i] = rc.ID
	}
	if err := s.auditRead(ctx, actor, breach.ActionCampaignTestSend, c.ID, map[string]any{"stage": "started",
		"recipients": numbers, "reviewers": to}); err != nil {
		return nil, err
	}
	sent, err := s.Tests.Send(ctx, c, recipients, to)
	res := &TestSendResult{Sent: sent}
	for _, t := range sent {
		if t.Error != "" {
			res.Failed++
		}
	}
	if aerr := s.audit(ctx, actor, breach.ActionCampaignTestSend, c.ID, map[string]any{"stage": "finished",
		"notices": len(sent), "failed": res.Failed, "complete": err == nil}); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ReviewerAddress checks and normalizes a reviewer's address: an email address or an E.164
// phone number.
func ReviewerAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		if len(s) > maxAddressText {
			return "", breach.Errorf(breach.EINVALID, "%q is not an email address: it is %d bytes long; an address is at most 254", breach.Clip(s), len(s))
		}
		return breach.ParseEmail(s)
	}
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' || strings.Trim(s[1:], "0123456789") != "" {
		return "", breach.Errorf(breach.EINVALID, "%q is neither an email address nor a phone number in E.164 form (+51987654321)", breach.Clip(s))
	}
	return s, nil
}

// maxAddressText bounds the text ReviewerAddress reads as an email address (RFC 5321's 254
// bytes, plus room for a display name), so that its error quotes no more than that.
const maxAddressText = 320

// ReviewerAddresses checks and normalizes the destinations of one test send of the notices of
// customers customers (0 counts as 1: the list's first). An empty list, more than
// MaxTestNotices notices, or an address that is neither an email address nor an E.164 number
// is an EINVALID error saying which.
func ReviewerAddresses(to []string, customers int) ([]string, error) {
	if len(to) == 0 {
		return nil, breach.Errorf(breach.EINVALID, "name at least one reviewer email address or phone number (+51987654321)")
	}
	if n := len(to) * max(1, customers); n > MaxTestNotices {
		return nil, breach.Errorf(breach.EINVALID, "at most %d test notices at a time (%d reviewers × %d customers is %d)",
			MaxTestNotices, len(to), max(1, customers), n)
	}
	out := make([]string, 0, len(to))
	for _, addr := range to {
		norm, err := ReviewerAddress(addr)
		if err != nil {
			return nil, err
		}
		// One mailbox in several letter cases is one reviewer: one notice each.
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, norm) }) {
			out = append(out, norm)
		}
	}
	return out, nil
}
