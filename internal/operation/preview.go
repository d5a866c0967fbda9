package operation

import (
	"context"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// PreviewRequest is what a reviewer asks to see: the notice of a customer of the list
// (CustomerID), or of the sample customer of a variant (Jurisdiction, default the campaign's
// first variant's); Locale forces an offered locale either way; Channel ("email", "sms" or
// empty for both) keeps one channel.
type PreviewRequest struct {
	CustomerID, Locale, Jurisdiction, Channel string
	// WithoutCode previews the sample customer without an enrolment code (a campaign whose
	// offer gives codes: the sentence telling how to get one).
	WithoutCode bool
}

// Preview renders one notice with its lint, and the choice completed with the defaults it took.
// A customer's notice is their personal data: its preview is audited (the recipient's internal
// number, never the customer_id typed) before it is shown, and so is a lookup that found no one.
func (s *Service) Preview(ctx context.Context, actor breach.Actor, campaignID string, req PreviewRequest) (*breach.Campaign, *notice.Notice, PreviewRequest, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Preview", campaignID); err != nil {
		return nil, nil, req, err
	}
	if err := s.CheckSecret(ctx); err != nil {
		return nil, nil, req, err
	}
	switch req.Channel {
	case "", string(notice.Email), string(notice.Text):
	default:
		return nil, nil, req, breach.Errorf(breach.EINVALID, "channel %q: use email or sms", breach.QuoteText(req.Channel))
	}
	c, err := s.renderingCampaign(ctx, campaignID)
	if err != nil {
		return nil, nil, req, err
	}
	if req.CustomerID = strings.TrimSpace(req.CustomerID); req.CustomerID != "" {
		if req.CustomerID, err = breach.ParseCustomerID(req.CustomerID); err != nil {
			return c, nil, req, err
		}
	}
	if req.WithoutCode && !notice.GivesCodes(c) {
		return c, nil, req, breach.Errorf(breach.EINVALID, "without_code: this campaign's offer gives no enrolment codes, so every customer reads the same text")
	}
	rec, choice, err := notice.PreviewChoice{Locale: req.Locale, Jurisdiction: req.Jurisdiction, CustomerID: req.CustomerID, WithoutCode: req.WithoutCode}.
		Recipient(ctx, c, s.Store.Recipient)
	if err != nil {
		// Whether a customer is on the list is itself personal data: a lookup that missed is
		// audited as Recipient audits it, so that probing customer_ids leaves a trace.
		if req.CustomerID != "" && breach.ErrorCode(err) == breach.ENOTFOUND {
			err = s.auditMiss(ctx, actor, breach.ActionPreviewCustomer, c.ID, map[string]any{"found": false}, err)
		}
		return c, nil, req, err
	}
	req.Locale, req.Jurisdiction = choice.Locale, choice.Jurisdiction
	if req.CustomerID != "" {
		if err := s.auditRead(ctx, actor, breach.ActionPreviewCustomer, c.ID, map[string]any{"recipient": rec.ID}); err != nil {
			return c, nil, req, err
		}
	}
	n, err := s.Renderer.Preview(c, rec, notice.Options{Locale: req.Locale})
	if err != nil {
		return c, nil, req, err
	}
	if req.CustomerID == "" {
		n.Sample = notice.SampleLabel(c, req.WithoutCode)
	}
	switch req.Channel {
	case string(notice.Email):
		n.SMS = notice.SMS{}
	case string(notice.Text):
		n.Subject, n.HTML, n.Text = "", "", ""
	}
	return c, n, req, nil
}

// renderingCampaign is campaign id, checked, with its code pool (breach.RenderingCampaign).
func (s *Service) renderingCampaign(ctx context.Context, campaignID string) (*breach.Campaign, error) {
	id, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	return breach.RenderingCampaign(ctx, s.Store, id)
}

// Samples renders the sample customer's notice of every variant of the campaign (every locale
// × jurisdiction; those of one locale when locale is set), with their lint. When the offer
// gives enrolment codes, each variant comes twice: with a code, and without one (Notice.Sample
// says which), since a customer the list or the pool gives none reads another sentence, and
// approvers must see every text a customer can get.
func (s *Service) Samples(ctx context.Context, actor breach.Actor, campaignID, locale string) ([]*notice.Notice, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Samples", campaignID); err != nil {
		return nil, err
	}
	if err := s.CheckSecret(ctx); err != nil {
		return nil, err
	}
	c, err := s.renderingCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	var out []*notice.Notice
	for _, v := range notice.Variants(c) {
		if locale != "" && !strings.EqualFold(v.Locale, locale) {
			continue
		}
		n, err := s.Renderer.Preview(c, notice.Sample(c, v), notice.Options{Locale: v.Locale})
		if err != nil {
			return nil, err
		}
		n.Sample = notice.SampleLabel(c, false)
		out = append(out, n)
		if !notice.GivesCodes(c) {
			continue
		}
		if n, err = s.Renderer.Preview(c, notice.SampleWithoutCode(c, v), notice.Options{Locale: v.Locale}); err != nil {
			return nil, err
		}
		n.Sample = notice.SampleLabel(c, true)
		out = append(out, n)
	}
	return out, nil
}
