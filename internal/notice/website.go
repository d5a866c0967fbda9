package notice

import (
	"bytes"
	"fmt"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// WebPage is the web page of a campaign's substitute notice in one locale: the notice posted
// on the company's website for everyone affected, above all those it could not reach
// individually (templates/website.html.tmpl). It holds no one's personal data.
type WebPage struct {
	Locale string `json:"locale"`
	// Jurisdiction is the profile the page follows: the one a customer of the place Website
	// is given gets.
	Jurisdiction string `json:"jurisdiction"`
	Title        string `json:"title"`
	HTML         string `json:"html"`
}

// Website renders the substitute notice's web page in locale (one the campaign offers), listing
// the categories exposed (the campaign's default ones when none): the notice's sections without
// a greeting, a reference code or an opt-out, introduced for a public page (the locale's
// website_* strings). Its profile is the one a customer of country with the jurisdiction
// override jurisdiction ("" for none) gets.
func (rd *Renderer) Website(c *breach.Campaign, locale string, exposed breach.Categories, country, jurisdiction string) (*WebPage, error) {
	r := &breach.Recipient{CampaignID: c.ID, CustomerID: "WEBSITE", Locale: locale, Country: country, Jurisdiction: jurisdiction, Exposed: exposed}
	n, v, _, err := rd.build(c, r, Options{Locale: locale}, "")
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := rd.website.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("notice: website.html.tmpl: %w", err)
	}
	if v.err != nil {
		return nil, fmt.Errorf("%w (the website notice's strings are website_intro, website_information_intro and website_check)", v.err)
	}
	return &WebPage{Locale: n.Locale, Jurisdiction: n.Jurisdiction, Title: v.Title, HTML: html.String()}, nil
}
