package notice

import (
	"context"
	"slices"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// PreviewChoice is what a reviewer asks to preview (the console's preview form, the API's
// GET …/preview): the notice of a customer of the list, by CustomerID, or else of the sample
// customer of a variant, under Jurisdiction (default: the campaign's first variant's).
// Locale, when set, forces one of the campaign's offered locales either way. WithoutCode asks
// for the sample customer without an enrolment code (SampleWithoutCode).
type PreviewChoice struct {
	Locale, Jurisdiction, CustomerID string
	WithoutCode                      bool
}

// RecipientLookup finds a campaign's recipient by customer_id; an unknown one is ENOTFOUND.
type RecipientLookup func(ctx context.Context, campaignID, customerID string) (*breach.Recipient, error)

// Recipient returns the recipient whose notice p asks for, and p completed with the defaults
// it took (a sample's locale and jurisdiction). A locale the campaign does not offer or a
// jurisdiction breachnotice does not know is an EINVALID error; a customer's notice of a
// purged campaign is an ECONFLICT one (Campaign.NeedsPersonalData); lookup's errors are
// returned as they are.
func (p PreviewChoice) Recipient(ctx context.Context, c *breach.Campaign, lookup RecipientLookup) (*breach.Recipient, PreviewChoice, error) {
	if p.Locale != "" && !slices.Contains(c.Locales, p.Locale) {
		return nil, p, breach.Errorf(breach.EINVALID, "locale %q is not offered by this campaign (offered: %v)", breach.Clip(p.Locale), c.Locales)
	}
	if p.CustomerID != "" {
		if p.WithoutCode {
			return nil, p, breach.Errorf(breach.EINVALID, "a customer's notice shows the code the customer has: ask for the sample customer without an enrolment code, or for a customer")
		}
		if err := c.NeedsPersonalData("preview a customer's notice"); err != nil {
			return nil, p, err
		}
		r, err := lookup(ctx, c.ID, p.CustomerID)
		return r, p, err
	}
	if p.Jurisdiction != "" && !slices.Contains(breach.KnownJurisdictions, p.Jurisdiction) {
		return nil, p, breach.Errorf(breach.EINVALID, "jurisdiction %q: choose one of %v", breach.Clip(p.Jurisdiction), breach.KnownJurisdictions)
	}
	v := Variants(c)[0]
	if p.Locale != "" {
		v.Locale = p.Locale
	}
	if p.Jurisdiction != "" {
		v.Jurisdiction = p.Jurisdiction
	}
	p.Locale, p.Jurisdiction = v.Locale, v.Jurisdiction
	if p.WithoutCode {
		return SampleWithoutCode(c, v), p, nil
	}
	return Sample(c, v), p, nil
}
