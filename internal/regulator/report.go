package regulator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Input is what a report is made of: the counts of where the affected people live, the
// incident's discovery date, and what is known of the notices sent.
type Input struct {
	Counts []breach.ResidenceCount
	// Discovered is the campaign's incident.discovered_on: every deadline counts from it.
	Discovered breach.Date
	// Notified is the day the residents' notices started (the campaign started sending);
	// zero before.
	Notified breach.Date
	// CostUSD is the estimated cost of notifying everyone individually; nil when unknown.
	CostUSD *float64
	// DefaultCountry is the campaign's default_country, the country of the customers whose
	// row gives none (see locate); "" when it has none. Jurisdictions are the notice profiles
	// the campaign offers: with DefaultCountry, they say whether a state code on a row of no
	// country is a US state's (breach.StateCodesAreUS).
	DefaultCountry string
	Jurisdictions  []string
	// NoLetters is set when the campaign sends no letters (letter_policy none).
	NoLetters bool
	// Rejected counts the rows the campaign's imports rejected that name no one on the list:
	// people affected too, whom no count here includes.
	Rejected breach.RejectedRows
	// Now is when the report is made, to say which deadlines have passed.
	Now time.Time
	// Purged is set when the campaign's personal data was purged: the states and ZIP codes
	// its list gave went with it.
	Purged bool
}

// Report is who must be told, by when and with what, and whether substitute notice applies.
type Report struct {
	CampaignID   string      `json:"campaign_id,omitempty"`
	DiscoveredOn breach.Date `json:"discovered_on"`
	NotifiedOn   breach.Date `json:"notified_on,omitzero"`
	// Affected counts every recipient; Unlocated those whose list row says nothing of where
	// they live (no country, state, region or ZIP code) in a campaign of no default country,
	// who count toward no jurisdiction.
	Affected      int64   `json:"affected"`
	Unlocated     int64   `json:"unlocated"`
	Jurisdictions []Count `json:"jurisdictions"`
	// Rejected counts the rows the imports rejected that name no one on the list: their
	// people are in no count here (see Obligation.IfRejectedCounted).
	Rejected breach.RejectedRows `json:"rejected"`
	// Uncovered are the countries with affected residents that no rule covers: what is owed
	// there is not known here, which is not "nothing".
	Uncovered []Count `json:"uncovered"`
	// Obligations are the rules of every jurisdiction with an affected resident: required
	// ones first, by deadline.
	Obligations      []Obligation     `json:"obligations"`
	SubstituteNotice SubstituteNotice `json:"substitute_notice"`
	// Warnings say what makes the counts less than certain.
	Warnings []string `json:"warnings"`
}

// Count is how many affected people live in a jurisdiction: a US state, a country, or a
// group (the whole US, the EEA) whose members are counted on their own rows too.
type Count struct {
	Jurisdiction string `json:"jurisdiction"`
	Name         string `json:"name"`
	Affected     int64  `json:"affected"`
	// Within names the group a state or country is part of (US, EEA).
	Within string `json:"within,omitempty"`
	// Group marks a group's row; Unlocated counts its people of no known state or country.
	Group     bool  `json:"group,omitempty"`
	Unlocated int64 `json:"unlocated,omitempty"`
	// Exposed is every data category exposed about one of them at least.
	Exposed breach.Categories `json:"exposed"`
}

// Obligation is one rule held against the count of its jurisdiction.
type Obligation struct {
	ID           string    `json:"id"`
	Jurisdiction string    `json:"jurisdiction"`
	Name         string    `json:"name"`
	Regulator    string    `json:"regulator"`
	Affected     int64     `json:"affected"`
	Threshold    Threshold `json:"threshold"`
	// Required: the threshold is met (or a category that needs no threshold was exposed), and
	// the rule has no Condition, or one the law presumes (Rule.Presumed). For a rule with
	// another, RequiredIf is that condition instead (and Required false): it is required if
	// the condition holds, which counsel confirms — a telecom's list meets HIPAA's count, and
	// HIPAA does not bind it.
	Required   bool   `json:"required"`
	RequiredIf string `json:"required_if,omitempty"`
	Why        string `json:"why"`
	Condition  string `json:"condition,omitempty"`
	// AlsoWhen, on an obligation its count does not require, says what would make it required
	// all the same, which counsel confirms.
	AlsoWhen string `json:"also_when,omitempty"`
	// IfRejectedCounted, on an obligation its count does not require, says that the rows the
	// imports rejected could meet its threshold if enough of their people live there.
	IfRejectedCounted string      `json:"if_rejected_counted,omitempty"`
	Deadline          Due         `json:"deadline"`
	What              []string    `json:"what"`
	Source            string      `json:"source"`
	Reviewed          breach.Date `json:"reviewed"`
	// Unverified: the rule was written from a source not yet checked against the enacted
	// text; its note says what to verify.
	Unverified bool   `json:"unverified,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Threshold is a rule's threshold: Compare is ">" ("more than Count") or ">=" ("Count or
// more"), as the statute words it.
type Threshold struct {
	Compare string `json:"compare"`
	Count   int64  `json:"count"`
	Text    string `json:"text"`
}

// Met reports whether n affected people meet the threshold.
func (t Threshold) Met(n int64) bool {
	if t.Compare == ">" {
		return n > t.Count
	}
	return n >= t.Count
}

// Due is when an obligation is due: the last Date (and, for a period in hours, the instant
// At), whether the law sets it (Statutory) or it is a reminder where the law says "without
// unreasonable delay", the law's words (Rule) and how the date was counted (Basis).
type Due struct {
	Date      breach.Date `json:"date"`
	At        *time.Time  `json:"at,omitempty"`
	Statutory bool        `json:"statutory"`
	Rule      string      `json:"rule"`
	Basis     string      `json:"basis"`
	// Passed is set when the deadline has passed everywhere on Earth at the report's making.
	Passed bool `json:"passed,omitempty"`
}

// Threshold returns the rule's threshold.
func (r Rule) Threshold() Threshold {
	if r.MoreThan > 0 {
		return Threshold{">", r.MoreThan, "more than " + thousands(r.MoreThan)}
	}
	if r.AtLeast <= 1 {
		return Threshold{">=", 1, "any"}
	}
	return Threshold{">=", r.AtLeast, thousands(r.AtLeast) + " or more"}
}

// Report evaluates the rules against in.
func (rs *Rules) Report(in Input) *Report {
	rep := &Report{DiscoveredOn: in.Discovered, NotifiedOn: in.Notified, Rejected: in.Rejected}
	counts := map[string]*Count{}
	count := func(j, within string) *Count {
		c := counts[j]
		if c == nil {
			c = &Count{Jurisdiction: j, Name: Name(j), Within: within, Group: j == GroupUS || j == GroupEEA}
			counts[j] = c
		}
		return c
	}
	var (
		defaulted, usCodes, samePerson int64
		us, unknown                    residents
	)
	stateCodesAreUS := breach.StateCodesAreUS(in.DefaultCountry, in.Jurisdictions)
	for _, rc := range in.Counts {
		rep.Affected += rc.Recipients
		samePerson += rc.SamePerson
		p := locate(rc, stateCodesAreUS)
		if p.leaf == "" && rc.Country == "" && in.DefaultCountry != "" && (p.group == "" || IsEEA(cmp.Or(eeaMemberOf[in.DefaultCountry], in.DefaultCountry))) {
			// No country, and nothing else that names one: the campaign's default country,
			// as for the customer's phone number and address.
			rc.Country = in.DefaultCountry
			p = locate(rc, stateCodesAreUS)
			defaulted += rc.Recipients
			if p.group != GroupUS && slices.ContainsFunc(rc.Regions(), func(r string) bool { st, isCode := breach.USState(r); return st != "" && isCode }) {
				usCodes += rc.Recipients
			}
		}
		if p.leaf == "" && p.group == "" {
			rep.Unlocated += rc.Recipients
			unknown.add(rc)
			continue
		}
		if p.group == GroupUS {
			us.add(rc)
		}
		if p.group != "" {
			g := count(p.group, "")
			g.Affected += rc.Recipients
			g.Exposed |= rc.Exposed
			if p.leaf == "" {
				g.Unlocated += rc.Recipients
			}
		}
		if p.leaf != "" {
			c := count(p.leaf, p.group)
			c.Affected += rc.Recipients
			c.Exposed |= rc.Exposed
		}
	}
	for _, j := range slices.Sorted(maps.Keys(counts)) {
		rep.Jurisdictions = append(rep.Jurisdictions, *counts[j])
	}
	// Each group's row, then its members', then the countries of no group.
	slices.SortStableFunc(rep.Jurisdictions, func(a, b Count) int {
		return cmp.Or(cmp.Compare(cmp.Or(a.Within, a.Jurisdiction), cmp.Or(b.Within, b.Jurisdiction)), compareBool(b.Group, a.Group))
	})
	if rep.Jurisdictions == nil {
		rep.Jurisdictions = []Count{}
	}

	rep.Obligations = []Obligation{}
	covered := map[string]bool{}
	for _, r := range rs.Rules {
		covered[r.Jurisdiction] = true
		c := counts[r.Jurisdiction]
		if c == nil || c.Affected == 0 {
			continue
		}
		if r.CountsEveryone {
			everyone := *c
			everyone.Affected = rep.Affected
			c = &everyone
		}
		o := r.evaluate(c, in.Discovered, in.Notified)
		if o.Deadline.At != nil && in.Now.After(*o.Deadline.At) || o.Deadline.At == nil && !in.Now.IsZero() && o.Deadline.Date.Before(breach.EarliestDate(in.Now)) {
			o.Deadline.Passed = true
		}
		if n := in.Rejected.Rows; n > 0 && !o.Required && o.RequiredIf == "" && o.Threshold.Met(o.Affected+n) {
			o.IfRejectedCounted = fmt.Sprintf("%s %s rejected at import, counted nowhere: if %s of them live here, the threshold (%s) is met",
				thousands(n), plural(n, "row was", "rows were"), thousands(neededToMeet(o.Threshold, o.Affected)), o.Threshold.Text)
		}
		rep.Obligations = append(rep.Obligations, o)
	}
	rep.Uncovered = []Count{}
	for _, c := range rep.Jurisdictions {
		// A group's members are covered by the group's rules (the GDPR's, the US-wide ones).
		if !c.Group && c.Within == "" && !covered[c.Jurisdiction] {
			rep.Uncovered = append(rep.Uncovered, c)
		}
	}
	rank := func(o Obligation) int {
		switch {
		case o.Required:
			return 0
		case o.RequiredIf != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(rep.Obligations, func(a, b Obligation) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), a.Deadline.Date.Time().Compare(b.Deadline.Date.Time()), cmp.Compare(a.Jurisdiction, b.Jurisdiction), cmp.Compare(a.ID, b.ID))
	})

	states := map[string]int64{}
	for _, c := range rep.Jurisdictions {
		if c.Within == GroupUS {
			states[c.Jurisdiction] = c.Affected
		}
	}
	rep.SubstituteNotice = rs.Substitute.evaluate(rep.Affected, us, unknown, states, in.Rejected, !in.Notified.IsZero(), in.NoLetters, in.CostUSD)
	rep.Warnings = warnings(rep, counts, in, tally{usCodes: usCodes, samePerson: samePerson})
	if defaulted > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s no country in the list: they are counted in the campaign's default country, %s (its default_country), as their phone numbers and addresses are read. Complete the list's country column if some live elsewhere.",
			affectedPeople(defaulted), plural(defaulted, "has", "have"), in.DefaultCountry))
	}
	return rep
}

// evaluate holds r against its jurisdiction's count.
func (r Rule) evaluate(c *Count, discovered, notified breach.Date) Obligation {
	t := r.Threshold()
	o := Obligation{ID: r.ID, Jurisdiction: r.Jurisdiction, Name: c.Name, Regulator: r.Regulator, Affected: c.Affected,
		Threshold: t, Condition: r.Condition, What: r.What, Source: r.Source, Reviewed: r.Reviewed, Unverified: r.Unverified, Note: r.Note,
		Deadline: r.Deadline.due(discovered, notified)}
	people := thousands(c.Affected) + " affected"
	switch {
	case t.Met(c.Affected) && t.Text == "any":
		o.Required, o.Why = true, people+": the law applies to any affected resident"
	case t.Met(c.Affected):
		o.Required, o.Why = true, people+": "+t.Text
	default:
		o.Why = people + ": not " + t.Text
		for _, name := range r.AlsoWhenExposed {
			if cat, err := breach.ParseCategory(name); err == nil && c.Exposed.Has(cat) {
				o.Required = true
				o.Why += ", but " + name + " was exposed, which makes it required whatever the count"
				break
			}
		}
		if !o.Required {
			o.AlsoWhen = r.AlsoWhen
		}
	}
	if o.Required && r.Condition != "" && !r.Presumed {
		o.Required, o.RequiredIf = false, r.Condition
	}
	return o
}

// neededToMeet is how many more affected people meet t, from n.
func neededToMeet(t Threshold, n int64) int64 {
	if t.Compare == ">" {
		return t.Count + 1 - n
	}
	return t.Count - n
}

// due computes the deadline counted from the discovery date, or from the residents' notice
// (the day sending started; before it has, the last day the law allows for that notice, or a
// reminder). With OrNotice, the residents' notice brings a period's end forward when it comes
// first.
func (d Deadline) due(discovered, notified breach.Date) Due {
	out := Due{Rule: d.Rule, Statutory: true}
	start := discovered.Time()
	basis := "counted from discovery on " + discovered.String()
	if d.From == FromNotice {
		switch {
		case !notified.IsZero():
			start = notified.Time()
			basis = "counted from the residents' notice, sent from " + notified.String() + " (the day the campaign started sending)"
		case d.NoticeDays > 0:
			start = start.AddDate(0, 0, d.NoticeDays)
			basis = fmt.Sprintf("the residents are not notified yet: counted from %s, the last day the law allows for their notice (%d days after discovery on %s)",
				dateOf(start), d.NoticeDays, discovered)
		default:
			start = start.AddDate(0, 0, d.ReminderDays)
			out.Statutory = false
			basis = fmt.Sprintf("the residents are not notified yet and the law sets no period for it: counted from a reminder date %d days after discovery on %s",
				d.ReminderDays, discovered)
		}
	}
	switch {
	case d.Hours > 0:
		// The campaign gives the day, not the hour nor the time zone: the hours run from the
		// first moment that day begins anywhere (00:00 at UTC+14), so that the deadline is
		// never after the law's, wherever the company is.
		at := start.Add(-earliestOffset).Add(time.Duration(d.Hours) * time.Hour)
		out.At = &at
		out.Date = dateOf(at.Add(-time.Nanosecond))
		basis += fmt.Sprintf("; %d hours from the first moment of that day anywhere (00:00 at UTC+14, %s UTC), since the campaign gives the day and not the hour of discovery: count from that hour for the exact deadline",
			d.Hours, start.Add(-earliestOffset).UTC().Format("2006-01-02 15:04"))
	case d.Days > 0:
		out.Date = dateOf(start.AddDate(0, 0, d.Days))
		basis += fmt.Sprintf("; %d calendar days", d.Days)
	case d.BusinessDays > 0:
		out.Date = dateOf(addBusinessDays(start, d.BusinessDays))
		basis += fmt.Sprintf("; %d business days, Monday to Friday (public holidays, which would give more time, are not counted)", d.BusinessDays)
	case d.From == FromNotice:
		out.Date = dateOf(start)
	default: // no period: a reminder
		out.Date = dateOf(start.AddDate(0, 0, d.ReminderDays))
		out.Statutory = false
		basis = fmt.Sprintf("the law sets no period (%q): a reminder %d days after discovery on %s, not a legal deadline",
			d.Rule, d.ReminderDays, discovered)
	}
	if d.OrNotice {
		if !notified.IsZero() && notified.Time().Before(out.Date.Time()) {
			out.Date, out.At = notified, nil
			basis = fmt.Sprintf("the residents were notified from %s (the day the campaign started sending), before the period's end (%s): the law asks for whichever is first",
				notified, basis)
		} else {
			basis += "; or the day the residents are notified, if that comes first (the law asks for whichever is first)"
		}
	}
	out.Basis = basis
	return out
}

// earliestOffset is the offset of the time zone furthest ahead of UTC (Kiribati's Line Islands,
// UTC+14): a day begins there first.
const earliestOffset = 14 * time.Hour

// addBusinessDays adds n days from Monday to Friday to t.
func addBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// tally is what Report counted beside the jurisdictions, for the warnings: people of no country
// with a US state's code counted in the default country, and customer_ids that are another's
// person.
type tally struct{ usCodes, samePerson int64 }

// warnings say what makes the counts less than certain, and what the report cannot answer.
func warnings(rep *Report, counts map[string]*Count, in Input, t tally) []string {
	w := []string{}
	if rep.Affected == 0 {
		// Not "nobody must be told": nobody is counted yet.
		w = append(w, "The campaign's list has no customers yet: nothing here is counted. Import the list of affected customers first; until then no threshold can be weighed.")
	}
	if rep.Unlocated > 0 {
		w = append(w, fmt.Sprintf("%s %s no country, US state, region or ZIP code in the list: they count toward no jurisdiction, so thresholds may be under-counted. Complete the list's country and state columns.",
			affectedPeople(rep.Unlocated), plural(rep.Unlocated, "has", "have")))
	}
	if g := counts[GroupUS]; g != nil && g.Unlocated > 0 {
		w = append(w, fmt.Sprintf("%s in the US %s no state, region or ZIP code in the list that names one: they count toward US-wide rules but toward no state's threshold.",
			affectedPeople(g.Unlocated), plural(g.Unlocated, "has", "have")))
	}
	if g := counts[GroupEEA]; g != nil && g.Unlocated > 0 {
		w = append(w, fmt.Sprintf("%s %s under the GDPR (jurisdiction gdpr) without a country: they count toward the GDPR but toward no member state's authority.",
			affectedPeople(g.Unlocated), plural(g.Unlocated, "is", "are")))
	}
	if t.usCodes > 0 {
		w = append(w, fmt.Sprintf("%s of no country %s a state or region that is also a US state's code (FL, CA…) and no ZIP code of that state: they are counted in %s (the campaign's default country, which offers no US notice profile), as its own region codes. If they live in the US, give their country (US) or their ZIP code in the list: US laws would apply to them.",
			affectedPeople(t.usCodes), plural(t.usCodes, "has", "have"), in.DefaultCountry))
	}
	if n := in.Rejected.Rows; n > 0 {
		w = append(w, fmt.Sprintf("%s %s of the campaign's lists %s rejected at import and %s no one on the list now: the people behind them are affected too, and counted in no jurisdiction here, so thresholds may be under-counted. Fix those rows and import them again (each import's rejects file says why each was refused).",
			thousands(n), plural(n, "row", "rows"), plural(n, "was", "were"), plural(n, "names", "name")))
	}
	for _, c := range rep.Uncovered {
		w = append(w, fmt.Sprintf("%s %s in %s (%s), which no rule here covers: what its law requires is not known here, which does not mean nothing is owed. Counsel must check it (most data-protection laws require telling an authority of a breach).",
			affectedPeople(c.Affected), plural(c.Affected, "lives", "live"), c.Name, c.Jurisdiction))
	}
	if n := rep.SubstituteNotice.ByPost; n > 0 {
		w = append(w, fmt.Sprintf("%s in the US (or of no known place) %s had no notice that reached them, and the company holds their postal address: individual written notice is owed them — a letter (breachnotice letters; a campaign of letter_policy none sends none). They are no reason for substitute notice, which does not replace it.",
			affectedPeople(n), plural(n, "has", "have")))
	}
	if t.samePerson > 0 {
		w = append(w, fmt.Sprintf("%s of the affected customer_ids %s another's of the same person (the same name at the same address: the approval merged their notices), so %s people are affected where the counts here, of customer_ids, say %s. The laws count people: check a threshold the difference crosses.",
			thousands(t.samePerson), plural(t.samePerson, "is", "are"), thousands(rep.Affected-t.samePerson), thousands(rep.Affected)))
	}
	if in.Purged {
		w = append(w, "The campaign's personal data was purged, and with it the states, regions and ZIP codes its list gave: people are placed by their country and notice profile alone now (a Floridian given California's profile counts for California). Rely on a report made before the purge.")
	}
	return w
}

// affectedPeople is "1 affected person" or "N affected people".
func affectedPeople(n int64) string {
	return thousands(n) + " " + plural(n, "affected person", "affected people")
}

// plural is one when n is 1, else many.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands writes n with commas between thousands (1,000).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// compareBool orders true before false when called as compareBool(b, a).
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// dateOf is the calendar date of t in UTC.
func dateOf(t time.Time) breach.Date {
	d, _ := breach.ParseDate(t.UTC().Format(time.DateOnly))
	return d
}
