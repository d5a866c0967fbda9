package operation

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

// ReportStore reads the counts the legal team's reports are made of: how many people, never
// who. Reading them is no read of personal data.
type ReportStore interface {
	// ResidenceCounts counts a campaign's recipients by what the list says of where they live
	// (country, jurisdiction, a US state or ZIP prefix), in one pass over its recipients, and
	// with outcomes those no notice reached (a pass over its deliveries too); letters says
	// whether a postal address reaches a customer (the campaign sends letters).
	ResidenceCounts(ctx context.Context, campaignID string, outcomes, letters bool) ([]breach.ResidenceCount, error)
	// RejectedRows counts the rows its imports rejected that name no customer on its list now.
	RejectedRows(ctx context.Context, campaignID string) (breach.RejectedRows, error)
}

// RegulatorRequest is what a regulator report may be told beyond the list.
type RegulatorRequest struct {
	// CostUSD is the estimated cost of notifying everyone individually, in US dollars; nil
	// when unknown (the report then says so).
	CostUSD *float64
}

// maxCostUSD bounds a cost estimate (a thousand trillion dollars): the report writes it as a
// whole number of dollars.
const maxCostUSD = 1e15

// ParseCostUSD reads a cost estimate as a door receives it ("" is unknown): a plain number of
// US dollars, commas between thousands allowed.
func ParseCostUSD(s string) (*float64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	if s == "" {
		return nil, nil
	}
	// Commas only between thousands, a point before cents: 300.000,00 (three hundred thousand,
	// as Europe and Latin America write it) read as 300 — and the $250,000 threshold of
	// substitute notice judged on that (a review). Anything else is refused, not guessed.
	if !usdAmount.MatchString(s) {
		return nil, breach.Errorf(breach.EINVALID, "cost_usd: %q is no amount of US dollars as the US writes them: 310,000 or 310000.50", breach.Clip(s))
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "cost_usd: %q is not an amount of US dollars such as 310000", breach.Clip(s))
	}
	return &f, nil
}

// usdAmount is an amount of dollars as written in the US: digits, with commas between every
// three or none, and up to two decimals after a point.
var usdAmount = regexp.MustCompile(`^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?$`)

// RegulatorReport says which regulators must be told of the breach, by when and with what, and
// whether substitute notice applies: the affected people counted where they live (whatever
// notice profiles the campaign offers), held against the shipped rules (package regulator),
// deadlines counted from the campaign's discovery date. It reads counts only, and is audited
// with its totals.
func (s *Service) RegulatorReport(ctx context.Context, actor breach.Actor, campaignID string, req RegulatorRequest) (*regulator.Report, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "RegulatorReport", campaignID); err != nil {
		return nil, err
	}
	if c := req.CostUSD; c != nil && (math.IsNaN(*c) || math.IsInf(*c, 0) || *c < 0 || *c >= maxCostUSD) {
		return nil, breach.Errorf(breach.EINVALID, "cost_usd: the estimated cost must be a positive amount of US dollars, less than %.0f", float64(maxCostUSD))
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	rep, err := s.regulatorReport(ctx, c, req)
	if err != nil {
		return nil, err
	}
	required, requiredIf := 0, 0
	for _, o := range rep.Obligations {
		switch {
		case o.Required:
			required++
		case o.RequiredIf != "":
			requiredIf++
		}
	}
	if err := s.audit(ctx, actor, breach.ActionRegulatorReport, c.ID, map[string]any{"affected": rep.Affected,
		"obligations": len(rep.Obligations), "required": required, "required_if": requiredIf, "substitute_notice": rep.SubstituteNotice.Applies,
		"cost_known": req.CostUSD != nil}); err != nil {
		return nil, err
	}
	return rep, nil
}

// regulatorReport gathers the counts and evaluates the rules.
func (s *Service) regulatorReport(ctx context.Context, c *breach.Campaign, req RegulatorRequest) (*regulator.Report, error) {
	if c.Incident.DiscoveredOn.IsZero() {
		// Every deadline counts from it: without it they would be counted from year one.
		return nil, breach.Errorf(breach.EINVALID, "the campaign has no incident.discovered_on: the regulators' deadlines count from the day the breach was discovered; give it in the campaign file")
	}
	lost, err := s.noticesLost(ctx, c)
	if err != nil {
		return nil, err
	}
	letters := c.LetterPolicy() != breach.LettersNone
	counts, err := s.Store.ResidenceCounts(ctx, c.ID, lost, letters)
	if err != nil {
		return nil, err
	}
	rejected, err := s.Store.RejectedRows(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	in := regulator.Input{Counts: counts, Discovered: c.Incident.DiscoveredOn, CostUSD: req.CostUSD, DefaultCountry: c.DefaultCountry,
		Jurisdictions: c.Jurisdictions, NoLetters: !letters, Rejected: rejected, Now: time.Now(), Purged: c.PurgedAt != nil}
	if c.StartedAt != nil {
		// The day of the residents' notice is the earliest date anywhere at the instant sending
		// started (its date at UTC-12): a campaign started at 21:00 in California notified
		// Californians that day, not on the next day's UTC date, and the periods counted from
		// the notice must not end a day after the law's.
		in.Notified = breach.EarliestDate(*c.StartedAt)
	}
	rep := s.rules().Report(in)
	rep.CampaignID = c.ID
	// Campaign files are refused such dates now (campaignfile.Parse); one stored before was
	// not, and its deadlines would be wrong without a word.
	if created := breach.LatestDate(c.CreatedAt); created.Before(c.Incident.DiscoveredOn) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("The discovery date, %s, is after the day the campaign was created (%s): every deadline here counts from it. If it was mistyped, the deadlines are late; create the campaign again with the right date.",
			c.Incident.DiscoveredOn, created))
	}
	if siblings, err := s.sameIncident(ctx, c); err != nil {
		return nil, err
	} else if len(siblings) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("Other campaigns of %s have the same discovery date (%s): %s. If they notify people of the same breach, the laws count its affected residents together, while this report counts this campaign's list alone: add their counts before relying on a threshold (one breach is best one campaign).",
			c.Organization.Name, c.Incident.DiscoveredOn, strings.Join(siblings, ", ")))
	}
	if c.Incident.DiscoveredBeforeStart() {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("The discovery date, %s, is before the breach began (%s): every deadline here counts from it; check both dates.",
			c.Incident.DiscoveredOn, c.Incident.OccurredFrom))
	}
	return rep, nil
}

// sameIncident names the other campaigns (not cancelled) of c's organization whose breach was
// discovered the same day: perhaps the same breach, split by brand, language or wave, whose
// thresholds count everyone it affected.
func (s *Service) sameIncident(ctx context.Context, c *breach.Campaign) ([]string, error) {
	all, err := s.Store.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range all {
		if o.ID != c.ID && o.State != breach.CampaignCancelled && o.Incident.DiscoveredOn.String() == c.Incident.DiscoveredOn.String() &&
			strings.EqualFold(strings.TrimSpace(o.Organization.Name), strings.TrimSpace(c.Organization.Name)) {
			out = append(out, fmt.Sprintf("%q (%s)", o.Name, o.ID))
		}
	}
	return out, nil
}

// noticesLost says whether any notice of a started campaign failed, bounced or was
// suppressed, from its delivery counters: only then are its deliveries read for whom no notice
// reached.
func (s *Service) noticesLost(ctx context.Context, c *breach.Campaign) (bool, error) {
	if c.StartedAt == nil {
		return false, nil
	}
	st, err := s.Store.CampaignStatus(ctx, c.ID)
	if err != nil {
		return false, err
	}
	for _, states := range st.ByChannel {
		for state, n := range states {
			switch state {
			case breach.DeliveryFailed, breach.DeliveryBounced, breach.DeliverySuppressed, breach.DeliveryReturned:
				if n > 0 {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// rules are the rules the reports hold the counts against: Service.Rules, or the shipped ones.
func (s *Service) rules() *regulator.Rules {
	if s.Rules != nil {
		return s.Rules
	}
	return regulator.Default()
}

// RegulatorSamples are the documents of a regulator report, with placeholders where personal
// data would be: the sample notices regulators ask for, and the website notice of substitute
// notice.
type RegulatorSamples struct {
	CampaignID string          `json:"campaign_id"`
	Samples    []SampleNotice  `json:"samples"`
	Website    []WebsiteNotice `json:"website"`
}

// SampleNotice is the notice a jurisdiction's residents receive in one locale, with [NAME],
// [REFERENCE] and [ENROLMENT CODE] for their own values: for the regulators that ask for a
// copy (Regulators, empty when none does), and for counsel's filing with the others that must
// be told there (Required).
type SampleNotice struct {
	File         string   `json:"file"`
	Jurisdiction string   `json:"jurisdiction"`
	Name         string   `json:"name"`
	Locale       string   `json:"locale"`
	Profile      string   `json:"profile"`
	Regulators   []string `json:"regulators"`
	Required     []string `json:"required"`
	Subject      string   `json:"subject"`
	HTML         string   `json:"html"`
}

// WebsiteNotice is the substitute notice's web page in one locale.
type WebsiteNotice struct {
	File    string `json:"file"`
	Locale  string `json:"locale"`
	Profile string `json:"profile"`
	Title   string `json:"title"`
	HTML    string `json:"html"`
}

// File returns the sample or website notice named file, or ENOTFOUND.
func (rs *RegulatorSamples) File(file string) (string, error) {
	for _, s := range rs.Samples {
		if s.File == file {
			return s.HTML, nil
		}
	}
	for _, w := range rs.Website {
		if w.File == file {
			return w.HTML, nil
		}
	}
	return "", breach.Errorf(breach.ENOTFOUND, "no sample notice %q", file)
}

// RegulatorSamples renders, for every jurisdiction where a regulator must be told (a required
// obligation), that jurisdiction's residents' notice in every offered locale — saying which of
// those regulators ask for a copy of it — and the
// website notice of substitute notice in every offered locale — all without anyone's personal
// data: the exposed categories are those of the jurisdiction's residents (of everyone, for the
// website). Audited with the numbers of documents.
func (s *Service) RegulatorSamples(ctx context.Context, actor breach.Actor, campaignID string) (*RegulatorSamples, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "RegulatorSamples", campaignID); err != nil {
		return nil, err
	}
	c, err := s.renderingCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	out, err := s.regulatorSamples(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, breach.ActionRegulatorSamples, out.CampaignID, map[string]any{"samples": len(out.Samples), "website": len(out.Website)}); err != nil {
		return nil, err
	}
	return out, nil
}

// RegulatorSample is one document of RegulatorSamples, by its file name (ENOTFOUND for a name
// it does not make, and then nothing is audited: no document was produced).
func (s *Service) RegulatorSample(ctx context.Context, actor breach.Actor, campaignID, file string) (string, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "RegulatorSamples", campaignID); err != nil {
		return "", err
	}
	// A name no sample can have is refused before the report and every sample are made for it
	// (a second of the database's time at a million recipients, for each request).
	c, err := s.renderingCampaign(ctx, campaignID)
	if err != nil {
		return "", err
	}
	if !sampleName(c, file) {
		return "", breach.Errorf(breach.ENOTFOUND, "no sample notice %q", breach.Clip(file))
	}
	out, err := s.regulatorSamples(ctx, c)
	if err != nil {
		return "", err
	}
	html, err := out.File(file)
	if err != nil {
		return "", err
	}
	if err := s.audit(ctx, actor, breach.ActionRegulatorSamples, out.CampaignID, map[string]any{"file": file}); err != nil {
		return "", err
	}
	return html, nil
}

// sampleName says whether file may name one of c's samples: notice-<jurisdiction>-<locale>.html
// or website-<locale>.html, of a locale c offers.
func sampleName(c *breach.Campaign, file string) bool {
	base, ok := strings.CutSuffix(file, ".html")
	if !ok {
		return false
	}
	for _, l := range c.Locales {
		if rest, ok := strings.CutSuffix(base, "-"+l); ok && (rest == "website" || strings.HasPrefix(rest, "notice-") && len(rest) <= len("notice-")+8) {
			return true
		}
	}
	return false
}

// regulatorSamples renders RegulatorSamples's documents for c, read with its code pool
// (renderingCampaign): customers without a code of their own get one from the pool, and the
// samples show where.
func (s *Service) regulatorSamples(ctx context.Context, c *breach.Campaign) (*RegulatorSamples, error) {
	rep, err := s.regulatorReport(ctx, c, RegulatorRequest{})
	if err != nil {
		return nil, err
	}
	out := &RegulatorSamples{CampaignID: c.ID, Samples: []SampleNotice{}, Website: []WebsiteNotice{}}
	copyTo, required := map[string][]string{}, map[string][]string{}
	var order []string
	for _, o := range rep.Obligations {
		if !o.Required && o.RequiredIf == "" {
			continue
		}
		if required[o.Jurisdiction] == nil {
			order = append(order, o.Jurisdiction)
		}
		required[o.Jurisdiction] = append(required[o.Jurisdiction], o.Regulator)
		if slices.Contains(o.What, "sample_notice") {
			copyTo[o.Jurisdiction] = append(copyTo[o.Jurisdiction], o.Regulator)
		}
	}
	slices.Sort(order)
	exposed := map[string]breach.Categories{}
	var everyone breach.Categories
	for _, cnt := range rep.Jurisdictions {
		exposed[cnt.Jurisdiction] = cnt.Exposed
		everyone |= cnt.Exposed
	}
	for _, j := range order {
		jurisdiction, country := regulator.Resident(j)
		for _, l := range c.Locales {
			r := &breach.Recipient{CampaignID: c.ID, CustomerID: "SAMPLE-" + j, Locale: l, Country: country,
				Jurisdiction: jurisdiction, Exposed: exposed[j]}
			n, err := s.Renderer.Render(c, r, notice.Options{Locale: l, Placeholders: true})
			if err != nil {
				return nil, err
			}
			out.Samples = append(out.Samples, SampleNotice{File: "notice-" + j + "-" + l + ".html", Jurisdiction: j,
				Name: regulator.Name(j), Locale: l, Profile: n.Jurisdiction, Regulators: append([]string{}, copyTo[j]...), Required: required[j],
				Subject: n.Subject, HTML: n.HTML})
		}
	}
	// The website notice is substitute notice, a provision of US state laws: it follows the
	// notice of the US state with the most affected residents (California's format when
	// Californians are most), or the US one when the list places US residents in no state. A
	// list with no US resident gets the page of its default country.
	place := breach.Recipient{Country: c.DefaultCountry}
	var most int64
	for _, cnt := range rep.Jurisdictions {
		switch {
		case cnt.Within == regulator.GroupUS && cnt.Affected > most: // a state (the group row counts them all)
			most = cnt.Affected
			place.Jurisdiction, place.Country = regulator.Resident(cnt.Jurisdiction)
		case cnt.Jurisdiction == regulator.GroupUS && most == 0:
			place.Jurisdiction, place.Country = regulator.Resident(cnt.Jurisdiction)
		}
	}
	for _, l := range c.Locales {
		p, err := s.Renderer.Website(c, l, everyone, place.Country, place.Jurisdiction)
		if err != nil {
			return nil, err
		}
		out.Website = append(out.Website, WebsiteNotice{File: "website-" + l + ".html", Locale: l, Profile: p.Jurisdiction, Title: p.Title, HTML: p.HTML})
	}
	return out, nil
}
