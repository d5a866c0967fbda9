package operation

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Listing pages: a limit defaults to DefaultPage and may not exceed MaxPage.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

// ParseBool reads an optional yes-or-no parameter of a request, the one way every door reads
// it: empty, false or 0 is false; true or 1 is true; anything else an EINVALID error naming it.
func ParseBool(name, v string) (bool, error) {
	switch v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, breach.Errorf(breach.EINVALID, "%s=%q: use true or false", name, breach.Clip(v))
}

// PageLimit reads a listing's limit parameter ("" is DefaultPage).
func PageLimit(v string) (int, error) {
	if v == "" {
		return DefaultPage, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPage {
		return 0, breach.Errorf(breach.EINVALID, "limit: %q is not a number from 1 to %d", breach.QuoteText(v), MaxPage)
	}
	return n, nil
}

// pageSize applies the listings' one rule to a page size given as a number (0: DefaultPage).
func pageSize(n int) (int, error) {
	if n == 0 {
		return DefaultPage, nil
	}
	if n < 1 || n > MaxPage {
		return 0, breach.Errorf(breach.EINVALID, "limit: %d is not a number from 1 to %d", n, MaxPage)
	}
	return n, nil
}

// Recipient returns one customer's record — who they are, their deliveries per channel and
// every event in order — by customer_id. The lookup is audited whether it matched or not, with
// the recipient's internal number when it did, never the text typed: an operator may paste an
// email address into the box, and the audit log is never purged.
func (s *Service) Recipient(ctx context.Context, actor breach.Actor, campaignID, customerID string) (*breach.RecipientRecord, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Recipient", campaignID); err != nil {
		return nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	if customerID, err = breach.ParseCustomerID(customerID); err != nil {
		return nil, err
	}
	rec, err := s.Store.RecipientRecord(ctx, cid, customerID)
	switch {
	case breach.ErrorCode(err) == breach.ENOTFOUND:
		if c, cerr := s.Store.Campaign(ctx, cid); cerr != nil || c == nil {
			return nil, err // no such campaign: nothing was looked up
		}
		return nil, s.auditMiss(ctx, actor, breach.ActionRecipientView, cid, map[string]any{"found": false}, err)
	case err != nil:
		return nil, err
	}
	if err := s.auditRead(ctx, actor, breach.ActionRecipientView, cid, map[string]any{"found": true, "recipient": rec.Recipient.ID}); err != nil {
		return nil, err
	}
	return rec, nil
}

// DeliveriesRequest is a page of a campaign's deliveries: those passing Filter after the key
// After (nil: from the start), at most Limit (PageLimit's rules).
type DeliveriesRequest struct {
	Filter breach.DeliveryFilter
	After  *breach.DeliveryKey
	Limit  int
}

// Deliveries returns a page of a campaign's deliveries and the key the next page starts after
// (nil at the end; a filtered page may be short while more follow). A page of names and
// addresses is a read of personal data: audited with its size and filter, so that paging
// through a whole list leaves a trace.
func (s *Service) Deliveries(ctx context.Context, actor breach.Actor, campaignID string, req DeliveriesRequest) ([]breach.DeliveryRecord, *breach.DeliveryKey, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Deliveries", campaignID); err != nil {
		return nil, nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, nil, err
	}
	if req.Limit, err = pageSize(req.Limit); err != nil {
		return nil, nil, err
	}
	page, next, err := s.Store.Deliveries(ctx, cid, req.Filter, req.After, req.Limit)
	if err != nil {
		return nil, nil, err
	}
	f := req.Filter
	if err := s.auditRead(ctx, actor, breach.ActionDeliveriesList, cid, map[string]any{"rows": len(page), "state": f.State, "channel": f.Channel, "locale": f.Locale,
		"recipients": recipientsOf(page)}); err != nil {
		return nil, nil, err
	}
	return page, next, nil
}

// recipientsOf lists the internal numbers of the recipients a page of deliveries shows, each
// once, in the page's order: the audit row of a listing names whose data was read (the
// question an investigator asks is "who saw customer X?"), by number, never by name.
func recipientsOf(page []breach.DeliveryRecord) []int64 {
	ids := make([]int64, 0, len(page))
	for i, d := range page {
		if i == 0 || d.RecipientID != page[i-1].RecipientID && !slices.Contains(ids, d.RecipientID) {
			ids = append(ids, d.RecipientID)
		}
	}
	return ids
}

// Recent failures: how many RecentFailures returns, and how many listing pages (each
// examining a few thousand deliveries) it reads per state to find them.
const (
	shownFailures   = 10
	failureScanDown = 3
)

// RecentFailures returns up to ten failed or bounced deliveries, the most recently changed
// first, audited as a read like any listing. The store lists deliveries in recipient order,
// not by time, and a filtered page examines a bounded stretch of the listing: this reads a few
// pages per state, so on a very large campaign with failures spread thin the failures shown
// are the latest of those found at the start of the list, not necessarily of the whole
// campaign.
func (s *Service) RecentFailures(ctx context.Context, actor breach.Actor, campaignID string) ([]breach.DeliveryRecord, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "RecentFailures", campaignID); err != nil {
		return nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	var found []breach.DeliveryRecord
	for _, state := range []breach.DeliveryState{breach.DeliveryFailed, breach.DeliveryBounced} {
		var after *breach.DeliveryKey
		for range failureScanDown {
			page, next, err := s.Store.Deliveries(ctx, cid, breach.DeliveryFilter{State: state}, after, 100)
			if err != nil {
				return nil, err
			}
			found = append(found, page...)
			if next == nil || len(found) >= 100 {
				break
			}
			after = next
		}
	}
	slices.SortFunc(found, func(a, b breach.DeliveryRecord) int {
		return cmp.Compare(b.UpdatedAt.UnixNano(), a.UpdatedAt.UnixNano())
	})
	found = found[:min(len(found), shownFailures)]
	if len(found) > 0 {
		if err := s.auditRead(ctx, actor, breach.ActionFailuresList, cid, map[string]any{"rows": len(found), "recipients": recipientsOf(found)}); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// SuppressionsRequest is a page of the suppression list: of one channel (all when empty),
// after the key After, at most Limit.
type SuppressionsRequest struct {
	Channel breach.Channel
	After   *breach.SuppressionKey
	Limit   int
}

// Suppressions returns a page of the addresses no notice goes to any more (opt-outs,
// complaints, hard bounces, STOP replies), audited as a read of personal data.
func (s *Service) Suppressions(ctx context.Context, actor breach.Actor, req SuppressionsRequest) ([]breach.Suppression, *breach.SuppressionKey, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Suppressions", ""); err != nil {
		return nil, nil, err
	}
	f := breach.DeliveryFilter{Channel: req.Channel} // the listings' rule for a channel
	if err := f.Validate(); err != nil {
		return nil, nil, err
	}
	limit, err := pageSize(req.Limit)
	if err != nil {
		return nil, nil, err
	}
	page, next, err := s.Store.Suppressions(ctx, f.Channel, req.After, limit)
	if err != nil {
		return nil, nil, err
	}
	if err := s.auditRead(ctx, actor, breach.ActionSuppressionsList, "", map[string]any{"rows": len(page), "channel": f.Channel}); err != nil {
		return nil, nil, err
	}
	return page, next, nil
}

// ActivitySteps is the most steps Activity returns: a chart a page wide has room for about
// one point per few pixels, so a campaign longer than four hours is counted in longer steps.
const ActivitySteps = 240

// Activity returns a campaign's notices sent and failed or bounced per channel over its life,
// by minute (longer steps for a long campaign, at most ActivitySteps): counts only, no one's
// data, so not an audited read, like Status.
func (s *Service) Activity(ctx context.Context, actor breach.Actor, campaignID string) (*breach.Activity, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Activity", campaignID); err != nil {
		return nil, err
	}
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	return s.Store.CampaignActivity(ctx, cid, ActivitySteps)
}
