package notice

import (
	"fmt"
	"slices"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Preview renders r's notice and lints it.
func (rd *Renderer) Preview(c *breach.Campaign, r *breach.Recipient, opt Options) (*Notice, error) {
	n, err := rd.Render(c, r, opt)
	if err != nil {
		return nil, err
	}
	n.Lint = lintNotice(c, n)
	if n.Lint == nil {
		n.Lint = []Finding{}
	}
	return n, nil
}

// Variant is one locale × jurisdiction of a campaign's notices.
type Variant struct {
	Locale, Jurisdiction string
}

// Variants lists a campaign's variants: every offered locale under every jurisdiction
// breachnotice knows — not only those the campaign names, since a customer list can give a
// customer their own (a `state` column of MA makes a us-ma notice).
func Variants(c *breach.Campaign) []Variant {
	js := slices.Clone(c.Jurisdictions)
	for _, j := range breach.KnownJurisdictions {
		if !slices.Contains(js, j) {
			js = append(js, j)
		}
	}
	var vs []Variant
	for _, l := range c.Locales {
		for _, j := range js {
			vs = append(vs, Variant{l, j})
		}
	}
	return vs
}

// Sample is a made-up customer for reviewing a variant without a list: exposed in every
// category, living in the campaign's default country (in the US or Korea for their laws, whose
// guidance differs), with an enrolment code when the campaign's offer gives codes (from the
// list's column, or from its pool when c.CodePool is loaded).
func Sample(c *breach.Campaign, v Variant) *breach.Recipient {
	r := &breach.Recipient{CampaignID: c.ID, CustomerID: "SAMPLE-" + v.Locale + "-" + v.Jurisdiction,
		Locale: v.Locale, Jurisdiction: v.Jurisdiction, Country: c.DefaultCountry,
		Email: "customer@example.com", Phone: "+15555550100"}
	for _, cat := range breach.AllCategories() {
		r.Exposed = r.Exposed.With(cat)
	}
	switch v.Jurisdiction {
	case "us-ca", "us-ma":
		r.Country = "US"
	case "kr-pipa":
		r.Country = "KR"
	}
	r.Name = map[string]string{"en": "Alex Sample", "es": "Ana Ejemplo", "fr": "Camille Exemple", "ko": "홍길동"}[v.Locale]
	switch {
	case c.Offer == nil:
	case c.Offer.CodeAttribute != "":
		r.Attributes = map[string]string{c.Offer.CodeAttribute: sampleCode}
	case c.CodePool != nil:
		r.EnrolmentCode = sampleCode
	}
	return r
}

const sampleCode = "SAMPLE-0000-CODE"

// GivesCodes reports whether c's offer gives each customer an enrolment code — from the list's
// column or from the campaign's pool (c.CodePool loaded) — so that a customer can be without
// one: the list's cell empty or malformed, or the pool short. Such a customer's notice says how
// to get their code (offer_code_missing), and reviewers are shown it too (SampleWithoutCode).
func GivesCodes(c *breach.Campaign) bool {
	return c.Offer != nil && (c.Offer.CodeAttribute != "" || c.CodePool != nil)
}

// SampleLabel is Notice.Sample for the sample customer with or without a code: empty when the
// campaign's offer gives no codes, whose customers all read the same.
func SampleLabel(c *breach.Campaign, withoutCode bool) string {
	switch {
	case !GivesCodes(c):
		return ""
	case withoutCode:
		return SampleNoCode
	}
	return SampleWithCode
}

// SampleWithoutCode is Sample's customer without an enrolment code.
func SampleWithoutCode(c *breach.Campaign, v Variant) *breach.Recipient {
	r := Sample(c, v)
	r.Attributes, r.EnrolmentCode = nil, ""
	return r
}

// Lint renders every variant of the campaign with its sample customer — and with an anonymous
// one without an offer code, whose notice takes other sentences — and returns everything
// wrong with them, and with the campaign file's texts.
func (rd *Renderer) Lint(c *breach.Campaign) []Finding {
	fs := lintCampaign(c)
	for _, v := range Variants(c) {
		named, anonymous := Sample(c, v), SampleWithoutCode(c, v)
		anonymous.Name = ""
		for _, r := range []*breach.Recipient{named, anonymous} {
			n, err := rd.Preview(c, r, Options{Locale: v.Locale})
			if err != nil {
				fs = append(fs, Finding{Rule: "renders", Severity: "error", Locale: v.Locale, Jurisdiction: v.Jurisdiction,
					Message: fmt.Sprintf("the notice does not render: %v", breach.ErrorMessage(err))})
				continue
			}
			for _, f := range n.Lint {
				if !slices.Contains(fs, f) {
					fs = append(fs, f)
				}
			}
		}
	}
	return fs
}

// Approvable returns an ECONFLICT error listing the errors among findings, or nil when there is
// none: lint errors block a campaign's approval.
func Approvable(findings []Finding) error {
	var errs []string
	for _, f := range findings {
		if f.Severity == "error" {
			errs = append(errs, fmt.Sprintf("%s [%s/%s/%s]: %s", f.Rule, f.Locale, f.Channel, f.Jurisdiction, f.Message))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return breach.Errorf(breach.ECONFLICT, "the campaign cannot be approved: lint found %d errors, the first: %s", len(errs), errs[0])
}
