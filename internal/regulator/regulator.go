// Package regulator answers the legal team's first questions after a breach — which
// regulators must be told, by when, and with what, and whether substitute notice applies — from
// the customer list itself: the affected people counted per jurisdiction where they live, held
// against the thresholds and deadlines of each law.
//
// The laws are data: rules.yaml, embedded in the binary, one rule per regulator with its
// threshold as the statute states it ("more than 500" or "500 or more"), its deadline, what to
// send, its source and the date it was last reviewed. The file is loaded and validated when the
// package is initialized, so a broken rule stops the program at start, never in the middle of
// an incident. Everything here is a pure function of the counts, the discovery date and the
// rules.
package regulator

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/breachnotice/breachnotice/internal/breach"
)

//go:embed rules.yaml
var rulesYAML []byte

// defaultRules are the shipped rules, parsed once at start.
var defaultRules = mustParse(rulesYAML)

// Default returns the shipped rules (rules.yaml).
func Default() *Rules { return defaultRules }

func mustParse(src []byte) *Rules {
	rs, err := Parse(src)
	if err != nil {
		panic(fmt.Sprintf("regulator: the embedded rules.yaml is invalid: %v", err))
	}
	return rs
}

// Rules are the laws breachnotice knows: each regulator's rule, and when substitute notice
// applies.
type Rules struct {
	Substitute SubstituteRule `yaml:"substitute_notice"`
	Rules      []Rule         `yaml:"rules"`
}

// Rule is one regulator's notification duty under one law.
type Rule struct {
	ID string `yaml:"id"`
	// Jurisdiction is who is counted: an ISO 3166-2 US subdivision ("US-CA"), an ISO 3166-1
	// country ("KR"), or a group (GroupUS, GroupEEA).
	Jurisdiction string `yaml:"jurisdiction"`
	Regulator    string `yaml:"regulator"`
	// MoreThan or AtLeast is the threshold, as the statute words it; exactly one is set.
	MoreThan int64 `yaml:"more_than"`
	AtLeast  int64 `yaml:"at_least"`
	// AlsoWhenExposed are data categories whose exposure makes the notice required whatever
	// the count (Korea: unique identifying information).
	AlsoWhenExposed []string `yaml:"also_when_exposed"`
	Deadline        Deadline `yaml:"deadline"`
	What            []string `yaml:"what"`
	// Condition is what breachnotice cannot know and counsel must confirm for the rule to
	// apply (GDPR: a risk is not unlikely; the FTC: the company is a financial institution).
	Condition string `yaml:"condition"`
	// Presumed says the law presumes the condition holds: notice is required unless the
	// company documents that it does not (the GDPR's "unless the breach is unlikely to result
	// in a risk"), so the obligation is required, with its condition shown; without it, it is
	// required only if the condition holds (Obligation.RequiredIf).
	Presumed bool `yaml:"presumed"`
	// AlsoWhen is, below the threshold, what would make the rule apply all the same that
	// breachnotice cannot know (Korea: a leak by hacking, whatever the count).
	AlsoWhen string      `yaml:"also_when"`
	Source   string      `yaml:"source"`
	Reviewed breach.Date `yaml:"reviewed"`
	Note     string      `yaml:"note"`
	// CountsEveryone says the law counts every affected person, wherever they live (HIPAA's
	// individuals, a carrier's customers), not its jurisdiction's residents: the rule is
	// weighed against the whole count, once someone lives in its jurisdiction.
	CountsEveryone bool `yaml:"counts_everyone"`
	// Unverified marks a rule written from a source not yet checked against the enacted text:
	// its note says what to verify, and the report says so beside its answer.
	Unverified bool `yaml:"unverified"`
}

// Deadline is when a rule's notice is due.
type Deadline struct {
	// Rule is the statute's words ("no later than 30 days after determining the breach").
	Rule string `yaml:"rule"`
	// Hours, Days or BusinessDays is the period, counted from From; at most one is set.
	Hours        int `yaml:"hours"`
	Days         int `yaml:"days"`
	BusinessDays int `yaml:"business_days"`
	// From is FromDiscovery (default) or FromNotice.
	From string `yaml:"from"`
	// NoticeDays is, for a period counted from the residents' notice, the last day after
	// discovery on which that notice may be given by law: before the campaign has started
	// sending, the period is counted from that day.
	NoticeDays int `yaml:"notice_days"`
	// OrNotice: the notice is due at the end of the period or when the residents are
	// notified, whichever is first ("at the same time as the residents are notified or within
	// 45 days, whichever is first"). Once the campaign has started sending, the earlier of the
	// two dates is the deadline; before, the period's end (the residents' notice, if it comes
	// first, brings the deadline forward to its day).
	OrNotice bool `yaml:"or_notice"`
	// ReminderDays gives a date where the law sets no period ("without unreasonable delay") —
	// or, for a period counted from the residents' notice when the law sets no period for that
	// notice, stands for it. The report says the date is a reminder, not the law's.
	ReminderDays int `yaml:"reminder_days"`
}

// The points a deadline is counted from.
const (
	FromDiscovery = "discovery"
	FromNotice    = "notice"
)

// Groups of jurisdictions a rule may name: every US resident, every resident of an EEA state.
const (
	GroupUS  = "US"
	GroupEEA = "EEA"
)

// SubstituteRule says when substitute notice (website posting, media, email) may replace
// individual notice.
type SubstituteRule struct {
	// CostUSDMoreThan and AffectedMoreThan: substitute notice applies when the cost of
	// individual notice would exceed the one or the affected class the other.
	CostUSDMoreThan  int64       `yaml:"cost_usd_more_than"`
	AffectedMoreThan int64       `yaml:"affected_more_than"`
	ConsistsOf       []string    `yaml:"consists_of"`
	Source           string      `yaml:"source"`
	Reviewed         breach.Date `yaml:"reviewed"`
	Note             string      `yaml:"note"`
}

// WhatItems are what a rule may ask to be sent, and how the report names each.
var WhatItems = map[string]string{
	"sample_notice":    "a sample copy of the notice sent to residents, without personal data",
	"affected_count":   "the number of residents affected",
	"description":      "a description of the breach",
	"dates":            "the dates of the breach and of its discovery",
	"data_categories":  "the categories of personal data involved",
	"consequences":     "the likely consequences",
	"measures":         "the measures taken or proposed",
	"services_offered": "the services offered to the people affected (e.g. credit monitoring)",
	"contact":          "a contact person at the company",
	"notice_timing":    "the timing, content and distribution of the notices",
	"law_enforcement":  "whether law enforcement is involved",
	"wisp":             "whether the company maintains a written information security program",
	"form":             "the regulator's own form",
}

var (
	ruleID      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)
	usSubdivRE  = regexp.MustCompile(`^US-[A-Z]{2}$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Parse reads and validates a rules file, reporting every problem with the rule's ID or index.
func Parse(src []byte) (*Rules, error) {
	var rs Rules
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// Validate checks every rule: a unique ID, a known jurisdiction, one threshold, a deadline
// that yields a date, known items to send and categories, a source and a reviewed date.
func (rs *Rules) Validate() error {
	var problems []string
	add := func(where, format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	s := rs.Substitute
	if s.CostUSDMoreThan <= 0 || s.AffectedMoreThan <= 0 {
		add("substitute_notice", "cost_usd_more_than and affected_more_than must be positive")
	}
	if strings.TrimSpace(s.Source) == "" || s.Reviewed.IsZero() || len(s.ConsistsOf) == 0 {
		add("substitute_notice", "source, reviewed and consists_of are required")
	}
	if len(rs.Rules) == 0 {
		add("rules", "there is no rule")
	}
	seen := map[string]bool{}
	for i, r := range rs.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.ID != "" {
			where += " (" + r.ID + ")"
		}
		switch {
		case !ruleID.MatchString(r.ID):
			add(where, "id %q must be lower-case words joined by dashes", r.ID)
		case seen[r.ID]:
			add(where, "id %q is used twice", r.ID)
		}
		seen[r.ID] = true
		if !knownJurisdiction(r.Jurisdiction) {
			add(where, "jurisdiction %q is neither a US state (US-CA), a country (KR) nor a group (US, EEA)", r.Jurisdiction)
		}
		if strings.TrimSpace(r.Regulator) == "" {
			add(where, "regulator is required")
		}
		if (r.MoreThan > 0) == (r.AtLeast > 0) || r.MoreThan < 0 || r.AtLeast < 0 {
			add(where, "give exactly one threshold: more_than (\"more than N\") or at_least (\"N or more\")")
		}
		if mentions := strings.Contains(strings.ToLower(r.Note), "verify"); mentions != r.Unverified {
			add(where, "a note that asks to verify something and unverified: true go together (the report must not show an unchecked rule as reviewed)")
		}
		if r.Presumed && strings.TrimSpace(r.Condition) == "" {
			add(where, "presumed needs the condition it presumes")
		}
		for _, name := range r.AlsoWhenExposed {
			if _, err := breach.ParseCategory(name); err != nil {
				add(where, "also_when_exposed: %v", err)
			}
		}
		if err := r.Deadline.validate(); err != nil {
			add(where, "deadline: %v", err)
		}
		if len(r.What) == 0 {
			add(where, "what is required (what to send)")
		}
		for _, w := range r.What {
			if _, ok := WhatItems[w]; !ok {
				add(where, "what: %q is not one of %s", w, strings.Join(slices.Sorted(maps.Keys(WhatItems)), ", "))
			}
		}
		if strings.TrimSpace(r.Source) == "" {
			add(where, "source (statute and section) is required")
		}
		if r.Reviewed.IsZero() {
			add(where, "reviewed (YYYY-MM-DD) is required")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("rules: %d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

func (d Deadline) validate() error {
	if strings.TrimSpace(d.Rule) == "" {
		return fmt.Errorf("rule (the statute's words) is required")
	}
	periods := 0
	for _, n := range []int{d.Hours, d.Days, d.BusinessDays} {
		if n < 0 {
			return fmt.Errorf("a period cannot be negative")
		}
		if n > 0 {
			periods++
		}
	}
	if periods > 1 {
		return fmt.Errorf("give one of hours, days and business_days")
	}
	if d.NoticeDays < 0 || d.ReminderDays < 0 {
		return fmt.Errorf("notice_days and reminder_days cannot be negative")
	}
	switch d.From {
	case "", FromDiscovery:
		if d.OrNotice && periods == 0 {
			return fmt.Errorf("or_notice needs a period (hours, days or business_days) to weigh against the residents' notice")
		}
		if d.NoticeDays > 0 {
			return fmt.Errorf("notice_days only makes sense with from: notice")
		}
		if (periods == 0) == (d.ReminderDays == 0) {
			return fmt.Errorf("give a period (hours, days or business_days) or, where the law sets none, reminder_days")
		}
	case FromNotice:
		if d.OrNotice {
			return fmt.Errorf("or_notice only makes sense with a period counted from discovery")
		}
		if d.NoticeDays == 0 && d.ReminderDays == 0 {
			return fmt.Errorf("from: notice needs notice_days (the law's period for the residents' notice) or reminder_days")
		}
	default:
		return fmt.Errorf("from %q: use discovery or notice", d.From)
	}
	return nil
}

func knownJurisdiction(j string) bool {
	switch {
	case j == GroupUS || j == GroupEEA:
		return true
	case usSubdivRE.MatchString(j):
		return breach.IsUSState(j[3:])
	case countryCode.MatchString(j):
		_, err := breach.ParseCountry(j)
		return err == nil
	}
	return false
}
