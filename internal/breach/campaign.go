package breach

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Campaign is one breach notification: who the company is, what happened, to whom notices go
// and in which languages. Its specification comes from a campaign file (see package
// campaignfile) and is frozen once the campaign is approved.
type Campaign struct {
	ID        string        `json:"id" yaml:"-"`
	State     CampaignState `json:"state" yaml:"-"`
	CreatedAt time.Time     `json:"created_at" yaml:"-"`
	CreatedBy string        `json:"created_by,omitempty" yaml:"-"`
	// ApprovedBy and ApprovedAt record the approval: who checked the list and the notices.
	ApprovedBy string     `json:"approved_by,omitempty" yaml:"-"`
	ApprovedAt *time.Time `json:"approved_at,omitempty" yaml:"-"`
	// ApprovedTemplates is the digest of the notice templates the approvers saw the notices in
	// (notice.Renderer.Digest): a process rendering with others must not send them. Empty for
	// a campaign approved before approvals recorded it.
	ApprovedTemplates string `json:"approved_templates,omitempty" yaml:"-"`
	// Approvals are the approvals given so far for the list as it is (while a draft needs more
	// than one) or that approved it; ApprovalsRequired how many it takes. Filled when a
	// campaign is shown, not by every read.
	Approvals         []Approval `json:"approvals,omitempty" yaml:"-"`
	ApprovalsRequired int        `json:"approvals_required,omitempty" yaml:"-"`
	// ListVersion names the list as the campaign is read: a number, never given twice, that
	// changes with every completed import and with a draft's codes import that adds codes (the
	// database moves it: migration 00021). An approver sends back the version they reviewed:
	// an approval of another version is refused, so a list uploaded between an approver's
	// review and their click is not approved unseen.
	ListVersion string `json:"list_version,omitempty" yaml:"-"`
	// CodePool is the campaign's pool of enrolment codes, nil when none was imported. Filled
	// when a campaign is shown or approved, not by every read.
	CodePool *CodePool `json:"code_pool,omitempty" yaml:"-"`
	// SharedListCodes are the list's enrolment codes given to several customers, counted for
	// the approval rule when a campaign is approved (nil: its offer takes no codes from the
	// list); an approved campaign has none.
	SharedListCodes *SharedListCodes `json:"-" yaml:"-"`
	// StartedBy and StartedAt record who started the sending; FinishedAt when the campaign
	// completed or was cancelled.
	StartedBy  string     `json:"started_by,omitempty" yaml:"-"`
	StartedAt  *time.Time `json:"started_at,omitempty" yaml:"-"`
	FinishedAt *time.Time `json:"finished_at,omitempty" yaml:"-"`
	// PurgedAt and PurgedBy record the purge of the customers' personal data, RetentionDays
	// after FinishedAt or earlier by an operator (see PurgeReport).
	PurgedAt *time.Time `json:"purged_at,omitempty" yaml:"-"`
	PurgedBy string     `json:"purged_by,omitempty" yaml:"-"`

	Name          string       `json:"name" yaml:"name"`
	Organization  Organization `json:"organization" yaml:"organization"`
	Sender        Sender       `json:"sender" yaml:"sender"`
	Incident      Incident     `json:"incident" yaml:"incident"`
	Jurisdictions []string     `json:"jurisdictions" yaml:"jurisdictions"`
	Locales       []string     `json:"locales" yaml:"locales"`
	DefaultLocale string       `json:"default_locale" yaml:"default_locale"`
	// DefaultCountry is the region for customers whose row has no country: it decides how a
	// local phone number such as "987 654 321" is read.
	DefaultCountry string    `json:"default_country,omitempty" yaml:"default_country"`
	DefaultExposed []string  `json:"default_exposed,omitempty" yaml:"default_exposed"`
	Offer          *Offer    `json:"offer,omitempty" yaml:"offer"`
	SMS            SMSPolicy `json:"sms" yaml:"sms"`
	// Channels says who gets an email, who an SMS, and whether a failed notice is retried on
	// the other channel (default EmailFirst).
	Channels ChannelPolicy `json:"channels" yaml:"channels"`
	// Approval says how many people a campaign's approval takes.
	Approval ApprovalPolicy `json:"approval,omitzero" yaml:"approval"`
	// RetentionDays is how long after the campaign ends its personal data is kept (as proof of
	// notice) before it is purged.
	RetentionDays int `json:"retention_days" yaml:"retention_days"`
	// Letters says who is owed a postal letter (see LetterPolicy; default unreachable).
	Letters LetterPolicy `json:"letter_policy,omitempty" yaml:"letter_policy"`
}

// Organization is the breached company as its customers know it.
type Organization struct {
	Name string `json:"name" yaml:"name"`
	// Domain is the company's official domain: every link in a notice must be under it, so that
	// customers can tell a genuine notice from the phishing that follows every breach.
	Domain       string   `json:"domain" yaml:"domain"`
	SupportPhone string   `json:"support_phone" yaml:"support_phone"`
	SupportURL   string   `json:"support_url" yaml:"support_url"`
	DPO          *Contact `json:"dpo,omitempty" yaml:"dpo"`
	// PostalAddress is the return address printed on letters, one line each (optional).
	PostalAddress []string `json:"postal_address,omitempty" yaml:"postal_address"`
}

// Contact is a person or desk customers can reach (a data protection officer, say).
type Contact struct {
	Name    string `json:"name" yaml:"name"`
	Email   string `json:"email,omitempty" yaml:"email"`
	Phone   string `json:"phone,omitempty" yaml:"phone"`
	Address string `json:"address,omitempty" yaml:"address"`
}

// Sender is who the notices come from.
type Sender struct {
	Email   string `json:"email" yaml:"email"`
	Name    string `json:"name" yaml:"name"`
	ReplyTo string `json:"reply_to,omitempty" yaml:"reply_to"`
	// SMSSender is an alphanumeric sender ID (at most 11 characters) or a phone number.
	SMSSender string `json:"sms_sender,omitempty" yaml:"sms_sender"`
}

// Incident says what happened, per locale. Summary and Actions are required for every offered
// locale; Consequences is what GDPR Art. 34 calls the likely consequences.
type Incident struct {
	OccurredFrom Date      `json:"occurred_from" yaml:"occurred_from"`
	OccurredTo   Date      `json:"occurred_to,omitzero" yaml:"occurred_to"`
	DiscoveredOn Date      `json:"discovered_on" yaml:"discovered_on"`
	Summary      Localized `json:"summary" yaml:"summary"`
	Actions      Localized `json:"actions" yaml:"actions"`
	Consequences Localized `json:"consequences,omitempty" yaml:"consequences"`
}

// Offer is an identity-protection service offered to the affected customers.
type Offer struct {
	Provider string `json:"provider" yaml:"provider"`
	Months   int    `json:"months" yaml:"months"`
	URL      string `json:"url" yaml:"url"`
	EnrollBy Date   `json:"enroll_by,omitzero" yaml:"enroll_by"`
	// CodeAttribute names the customer-list column holding each customer's enrolment code.
	CodeAttribute string    `json:"code_attribute,omitempty" yaml:"code_attribute"`
	Description   Localized `json:"description,omitempty" yaml:"description"`
}

// SMSPolicy bounds what an SMS notice may contain and cost.
type SMSPolicy struct {
	AllowLink     bool `json:"allow_link" yaml:"allow_link"`
	Transliterate bool `json:"transliterate" yaml:"transliterate"`
	MaxSegments   int  `json:"max_segments,omitempty" yaml:"max_segments"`
	// QuietHours, when set, holds each SMS due in the recipient's night until it ends.
	QuietHours *QuietHours `json:"quiet_hours,omitempty" yaml:"quiet_hours"`
}

// ApprovalPolicy is who may approve a campaign.
type ApprovalPolicy struct {
	// TwoPerson asks for a second pair of eyes: whoever created the campaign or uploaded its
	// customer list cannot approve it; someone else must.
	TwoPerson bool `json:"two_person" yaml:"two_person"`
}

// Approval is one approver's consent to a campaign: its list as imported and its notices as
// linted at that moment.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
	// Templates is the digest of the templates the approver saw the notices in.
	Templates string `json:"templates,omitempty"`
}

// CheckTemplates returns an ECONFLICT error when the campaign was approved with other notice
// templates than those digest names (notice.Renderer.Digest of the process about to render
// its notices for customers: a worker sending, a letters run printing): what is sent or
// printed must be what the approvers saw. A campaign approved before approvals recorded their
// templates passes.
func (c *Campaign) CheckTemplates(digest string) error {
	if c.ApprovedTemplates == "" || c.ApprovedTemplates == digest {
		return nil
	}
	return Errorf(ECONFLICT, "campaign %s was approved with other notice templates (%s) than this process renders with (%s): use the TEMPLATES_DIR and the release it was approved with", c.ID, c.ApprovedTemplates, digest)
}

// RequiredApprovals is how many distinct approvers the campaign needs: two under the
// two-person rule (its file's approval.two_person, or twoPersonAlways: REQUIRE_TWO_PERSON on the
// server), one otherwise.
func (c *Campaign) RequiredApprovals(twoPersonAlways bool) int {
	if c.Approval.TwoPerson || twoPersonAlways {
		return 2
	}
	return 1
}

// ApprovalProgress says how far a draft's approval has come ("1 of 2 approvals, by
// user:lucia"), or "" when the campaign is no draft, or needs one approval and has none. The
// approvals must have been filled (Approvals, ApprovalsRequired).
func (c *Campaign) ApprovalProgress() string {
	if c.State != CampaignDraft || (c.ApprovalsRequired < 2 && len(c.Approvals) == 0) {
		return ""
	}
	msg := fmt.Sprintf("%d of %d approvals", len(c.Approvals), c.ApprovalsRequired)
	for i, a := range c.Approvals {
		sep := ", "
		if i == 0 {
			sep = ", by "
		}
		msg += sep + a.By
	}
	return msg
}

// CheckApproval applies the approval policy to actor, who wants to approve c: required is
// RequiredApprovals's answer, authors the actors who created the campaign and uploaded its
// lists or added to its enrolment codes, approvals those already given for the list (and its
// codes) as it is. Every approval — console, API,
// command line — passes here.
//
// With one approval required, anyone may approve. With two, each must come from a distinct
// console user (signed in, or through an API token bound to the user), because only a user is
// known to be one person however they act: "cli:<account>" and an unbound "token:<name>" could
// be anyone, so they get an ECONFLICT error that says how to approve instead. An author — by
// actor, or a command-line account of the same name in any case, since a login is lower-case
// and a system account need not be — and a user who has approved already get
// an ECONFLICT error saying someone else must. Two approvers are required, not one who is not an
// author, because an author who acted under a name that cannot be linked to their user (the
// CLI, an unbound token) must still not be able to approve alone.
func (c *Campaign) CheckApproval(actor Actor, required int, authors []string, approvals []Approval) error {
	if required < 2 {
		return nil
	}
	rule := fmt.Sprintf("this campaign needs %d people to approve it (approval: two_person)", required)
	login := actor.Person()
	if login == "" {
		return Errorf(ECONFLICT, "%s, so each approval must come from a console user, which %s is not: approve it in the web console, or through the API with a token bound to your user (breachnotice token create --name NAME --user LOGIN)", rule, actor.Name)
	}
	for _, a := range authors {
		if a == actor.Name || strings.EqualFold(a, "cli:"+login) {
			return Errorf(ECONFLICT, "%s: %s created it or uploaded its list, so other approvers must approve it", rule, actor.Name)
		}
	}
	for _, a := range approvals {
		if a.By == actor.Name {
			return Errorf(ECONFLICT, "%s: %s has approved it already (%d of %d approvals); another approver must give the next", rule, actor.Name, len(approvals), required)
		}
	}
	return nil
}

// StateCodesAreUS reports whether a US state's two-letter code in the state column of a list
// row without a country names that US state, in a campaign of this default country offering
// these jurisdictions: when the default country is the US or unset, or the campaign offers a
// US notice profile (a us-* jurisdiction: it expects US residents, whose lists often give a
// state and no country). Otherwise the row is in the default country and the code is that
// country's: "MA" in a Brazilian list is Maranhão, whose customer a us-ma notice (which must
// not describe the breach) would leave uninformed. The importer and the regulator report both
// read state codes by it.
func StateCodesAreUS(defaultCountry string, jurisdictions []string) bool {
	if defaultCountry == "" || defaultCountry == "US" {
		return true
	}
	return slices.ContainsFunc(jurisdictions, func(j string) bool { return strings.HasPrefix(j, "us-") })
}

// Localized is a text per locale (BCP 47 tag → text).
type Localized map[string]string

// Jurisdictions whose notice requirements breachnotice knows.
var KnownJurisdictions = []string{"gdpr", "us-ca", "us-ma", "kr-pipa"}

// CampaignState is where a campaign is in its life.
type CampaignState string

const (
	CampaignDraft     CampaignState = "draft"
	CampaignApproved  CampaignState = "approved"
	CampaignRunning   CampaignState = "running"
	CampaignPaused    CampaignState = "paused"
	CampaignCompleted CampaignState = "completed"
	CampaignCancelled CampaignState = "cancelled"
)

// transitions are the moves a campaign may make: approval freezes a draft's list and notices;
// a running campaign pauses and resumes; anything not finished can be cancelled.
var transitions = map[CampaignState][]CampaignState{
	CampaignDraft:    {CampaignApproved, CampaignCancelled},
	CampaignApproved: {CampaignRunning, CampaignCancelled},
	CampaignRunning:  {CampaignPaused, CampaignCompleted, CampaignCancelled},
	CampaignPaused:   {CampaignRunning, CampaignCancelled},
}

// CanMove reports whether a campaign in state s may move to state to.
func (s CampaignState) CanMove(to CampaignState) bool {
	return slices.Contains(transitions[s], to)
}

// Move checks a transition and returns an ECONFLICT error that says what is possible instead.
func (s CampaignState) Move(to CampaignState) error {
	if s.CanMove(to) {
		return nil
	}
	if len(transitions[s]) == 0 {
		return Errorf(ECONFLICT, "the campaign is %s: it can no longer change", s)
	}
	return Errorf(ECONFLICT, "a %s campaign cannot become %s (it can become: %v)", s, to, transitions[s])
}

// Validate checks the campaign specification and normalizes what it can (the domain, emails and
// locale tags), reporting every problem with its field path.
func (c *Campaign) Validate() error {
	v := &ValidationError{}
	required(v, "name", c.Name)
	c.validateOrganization(v)
	c.validateSender(v)
	c.validateLocales(v)
	c.validateIncident(v)
	for i, j := range c.Jurisdictions {
		if !slices.Contains(KnownJurisdictions, j) {
			v.Add(fmt.Sprintf("jurisdictions[%d]", i), "unknown jurisdiction %q (known: %s)", j, strings.Join(KnownJurisdictions, ", "))
		}
	}
	if c.DefaultCountry != "" {
		if cc, err := ParseCountry(c.DefaultCountry); err != nil {
			v.Add("default_country", "%v", err)
		} else {
			c.DefaultCountry = cc
		}
	}
	for i, name := range c.DefaultExposed {
		if _, err := ParseCategory(name); err != nil {
			v.Add(fmt.Sprintf("default_exposed[%d]", i), "%v", err)
		}
	}
	c.validateOffer(v)
	c.validatePolicy(v)
	c.validateLetters(v)
	if c.SMS.MaxSegments < 0 || c.SMS.MaxSegments > 10 {
		v.Add("sms.max_segments", "must be between 1 and 10, not %d", c.SMS.MaxSegments)
	}
	if c.SMS.QuietHours != nil {
		c.SMS.QuietHours.validate(v, "sms.quiet_hours")
	}
	if c.RetentionDays < 1 || c.RetentionDays > 3650 {
		v.Add("retention_days", "must be between 1 and 3650 days, not %d", c.RetentionDays)
	}
	return v.Err()
}

func (c *Campaign) validateOrganization(v *ValidationError) {
	o := &c.Organization
	required(v, "organization.name", o.Name)
	required(v, "organization.support_phone", o.SupportPhone)
	if required(v, "organization.domain", o.Domain) {
		if d, err := ParseDomain(o.Domain); err != nil {
			v.Add("organization.domain", "%v", err)
		} else {
			o.Domain = d
		}
	}
	if required(v, "organization.support_url", o.SupportURL) {
		c.checkOfficialURL(v, "organization.support_url", o.SupportURL)
	}
	if o.DPO != nil {
		required(v, "organization.dpo.name", o.DPO.Name)
		if o.DPO.Email != "" {
			o.DPO.Email = checkEmail(v, "organization.dpo.email", o.DPO.Email)
		}
	} else if slices.Contains(c.Jurisdictions, "gdpr") {
		v.Add("organization.dpo", "is required when jurisdictions include gdpr (Art. 34(2): the contact point)")
	}
}

func (c *Campaign) validateSender(v *ValidationError) {
	s := &c.Sender
	required(v, "sender.name", s.Name)
	if required(v, "sender.email", s.Email) {
		s.Email = checkEmail(v, "sender.email", s.Email)
	}
	if s.ReplyTo != "" {
		s.ReplyTo = checkEmail(v, "sender.reply_to", s.ReplyTo)
	}
	if s.SMSSender != "" && !isSMSSender(s.SMSSender) {
		v.Add("sender.sms_sender", "%q is neither an alphanumeric sender ID of 1 to 11 letters, digits or spaces nor a phone number in +E.164 form", s.SMSSender)
	}
}

func (c *Campaign) validateLocales(v *ValidationError) {
	if len(c.Locales) == 0 {
		v.Add("locales", "at least one locale is required")
	}
	for i, l := range c.Locales {
		tag, err := ParseLocale(l)
		if err != nil {
			v.Add(fmt.Sprintf("locales[%d]", i), "%v", err)
			continue
		}
		c.Locales[i] = tag
	}
	if required(v, "default_locale", c.DefaultLocale) {
		if tag, err := ParseLocale(c.DefaultLocale); err != nil {
			v.Add("default_locale", "%v", err)
		} else if c.DefaultLocale = tag; !slices.Contains(c.Locales, tag) {
			v.Add("default_locale", "%q is not one of the offered locales %v", tag, c.Locales)
		}
	}
}

// CheckIncidentDates reports the incident's dates that are after latest, the latest date
// anywhere now (LatestDate), or before 1970 (earliestIncident): a discovery date typed a year ahead
// would put every regulator's deadline a year late in the report, one typed 0026 or 1926
// decades early, and counsel would trust it.
func (c *Campaign) CheckIncidentDates(latest Date) error {
	v := &ValidationError{}
	for _, d := range []struct {
		path string
		date Date
	}{
		{"incident.occurred_from", c.Incident.OccurredFrom},
		{"incident.occurred_to", c.Incident.OccurredTo},
		{"incident.discovered_on", c.Incident.DiscoveredOn},
	} {
		switch {
		case latest.Before(d.date):
			v.Add(d.path, "%s is in the future (today is %s at the latest, anywhere): regulators' deadlines count from the incident's dates", d.date, latest)
		case !d.date.IsZero() && d.date.Before(earliestIncident()):
			v.Add(d.path, "%s is before %s: no data breach of customers' records happened then; check the year (regulators' deadlines count from the incident's dates)", d.date, earliestIncident())
		}
	}
	return v.result()
}

// earliestIncident is the earliest incident date a campaign file may give.
func earliestIncident() Date { return Date{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)} }

// DiscoveredBeforeStart reports an incident said to be discovered before it began: two dates
// swapped or mistyped, from which every regulator's deadline would count.
func (in *Incident) DiscoveredBeforeStart() bool {
	return !in.DiscoveredOn.IsZero() && in.DiscoveredOn.Before(in.OccurredFrom)
}

func (c *Campaign) validateIncident(v *ValidationError) {
	in := &c.Incident
	if in.OccurredFrom.IsZero() {
		v.Add("incident.occurred_from", "is required (YYYY-MM-DD)")
	}
	if in.DiscoveredOn.IsZero() {
		v.Add("incident.discovered_on", "is required (YYYY-MM-DD)")
	}
	if !in.OccurredTo.IsZero() && in.OccurredTo.Before(in.OccurredFrom) {
		v.Add("incident.occurred_to", "%s is before occurred_from %s", in.OccurredTo, in.OccurredFrom)
	}
	if in.DiscoveredBeforeStart() {
		v.Add("incident.discovered_on", "%s is before occurred_from %s: a breach is discovered once it has begun (are the two swapped?)",
			in.DiscoveredOn, in.OccurredFrom)
	}
	c.checkLocalized(v, "incident.summary", in.Summary, true)
	c.checkLocalized(v, "incident.actions", in.Actions, true)
	c.checkLocalized(v, "incident.consequences", in.Consequences, false)
}

func (c *Campaign) validateOffer(v *ValidationError) {
	o := c.Offer
	if o == nil {
		return
	}
	required(v, "offer.provider", o.Provider)
	if o.Months < 1 {
		v.Add("offer.months", "must be at least 1")
	}
	if required(v, "offer.url", o.URL) {
		c.checkOfficialURL(v, "offer.url", o.URL)
	}
	c.checkLocalized(v, "offer.description", o.Description, false)
}

// checkLocalized reads the texts' locale keys as locales are read (es_PE is es-PE), and
// reports texts in locales the campaign does not offer and, when all is set, offered locales
// without a text.
func (c *Campaign) checkLocalized(v *ValidationError, path string, texts Localized, all bool) {
	for _, l := range slices.Sorted(maps.Keys(texts)) {
		tag, err := ParseLocale(l)
		if err != nil {
			v.Add(path+"."+l, "%v", err)
			continue
		}
		if tag != l {
			texts[tag] = texts[l]
			delete(texts, l)
		}
		if !slices.Contains(c.Locales, tag) {
			v.Add(path+"."+l, "locale %q is not one of the offered locales %v", l, c.Locales)
		}
	}
	if !all {
		return
	}
	for _, l := range c.Locales {
		if strings.TrimSpace(texts[l]) == "" {
			v.Add(path+"."+l, "is required for every offered locale")
		}
	}
}

// checkOfficialURL requires an https URL on the organization's official domain: notices may
// point customers only there.
func (c *Campaign) checkOfficialURL(v *ValidationError, path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		v.Add(path, "%q is not an https:// URL", raw)
		return
	}
	if c.Organization.Domain != "" && !IsUnderDomain(u.Hostname(), c.Organization.Domain) {
		v.Add(path, "%q is not on the official domain %s", raw, c.Organization.Domain)
	}
}

// Categories returns the default exposed categories as a set (invalid names were reported by
// Validate and are skipped here).
func (c *Campaign) DefaultCategories() Categories {
	var set Categories
	for _, name := range c.DefaultExposed {
		if cat, err := ParseCategory(name); err == nil {
			set = set.With(cat)
		}
	}
	return set
}

func required(v *ValidationError, path, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.Add(path, "is required")
		return false
	}
	return true
}

func checkEmail(v *ValidationError, path, value string) string {
	e, err := ParseEmail(value)
	if err != nil {
		v.Add(path, "%v", err)
		return value
	}
	return e
}

func isSMSSender(s string) bool {
	if strings.HasPrefix(s, "+") {
		return len(s) >= 8 && len(s) <= 16 && strings.IndexFunc(s[1:], func(r rune) bool { return r < '0' || r > '9' }) < 0
	}
	if len(s) > 11 || strings.TrimSpace(s) == "" {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ')
	}) < 0
}

// ParseLocale reads a BCP 47 language tag ("es-PE", "ko", also "en_US") and returns its
// canonical form. Unknown but well-formed subtags ("xx") are refused: nobody reads language xx.
//
// Two other forms lists carry are read: a POSIX locale as Unix exports write it
// ("ko_KR.UTF-8", "fr_FR@euro"; "C" and "POSIX" name no language: "und"), and a country's code
// in capitals that is no language at all ("PE", "US", "DK", as CRMs fill a language column,
// rejected before) as the country's first language (CountryLocale). A code that is both a
// country and a language ("BR" is Brazil and Breton, "SV" El Salvador and Swedish) stays the
// language here: the importer decides with the row's country.
func ParseLocale(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i > 0 {
		switch posix := s[:i]; {
		case posix == "C" || posix == "POSIX":
			return "und", nil
		case strings.IndexByte(posix, '_') > 0:
			s = posix
		}
	}
	if s == "C" || s == "POSIX" {
		return "und", nil
	}
	if code, ok := CountryLocale(s); ok {
		if _, err := language.ParseBase(strings.ToLower(s)); err != nil {
			return code, nil
		}
	}
	tag, err := language.Parse(s)
	if err != nil {
		// A CRM exports the language by its name: "Spanish", "Español", "한국어", and as
		// people type it, without accents or with a region: "Ingles", "English (US)".
		name := strings.TrimSpace(s)
		if i := strings.IndexByte(name, '('); i > 0 && strings.HasSuffix(name, ")") {
			name = name[:i]
		}
		if code, ok := languageNames()[foldLanguageName(name)]; ok {
			return code, nil
		}
		return "", fmt.Errorf("%q is neither a BCP 47 language tag such as es-PE or ko nor a language's name", Clip(s))
	}
	return tag.String(), nil
}

// CountryLocale reads s as a country's ISO code written in capitals where a language was asked
// for ("BR", "KR", "CA"): the country's first language with the country (pt-BR, ko-KR, en-CA),
// and true. It is false for anything else, and for a code that is also one of the country's
// own languages ("ES", "FR", "DE", "IT": the language, either way).
func CountryLocale(s string) (string, bool) {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", false
	}
	region, err := language.ParseRegion(s)
	if err != nil || !region.IsCountry() {
		return "", false
	}
	spoken := countryLanguages(region.String())
	if len(spoken) == 0 || slices.Contains(spoken, strings.ToLower(s)) {
		return "", false
	}
	return spoken[0] + "-" + region.String(), true
}

// languageNames maps the names of the languages lists are written for — in English, in the
// shipped locales' languages (Spanish, French, Korean) and in each language itself, as
// Unicode CLDR writes them — folded (foldCountryName), to their BCP 47 tag. A CRM export whose
// language column said "Spanish" had every row rejected. A name two languages share is left
// out.
var languageNames = sync.OnceValue(func() map[string]string {
	m, add := nameIndex()
	namers := []display.Namer{display.English.Tags(), display.Spanish.Tags(), display.French.Tags(), display.Korean.Tags()}
	for _, code := range []string{"es", "en", "fr", "ko", "pt", "de", "it", "nl", "pl", "ro", "sv", "da", "fi", "no", "cs",
		"el", "hu", "tr", "ru", "uk", "ar", "he", "hi", "ja", "zh", "vi", "th", "id", "ms", "tl", "qu", "ay", "ca", "eu", "gl"} {
		tag := language.MustParse(code)
		names := []string{display.Self.Name(tag)}
		for _, n := range namers {
			names = append(names, n.Name(tag))
		}
		for _, name := range names {
			add(foldLanguageName(name), code)
		}
	}
	add("castellano", "es") // Spanish as Peru and Spain call it
	return m
})

// foldLanguageName is a language's name as languageNames keys it: folded (foldCountryName),
// without its accents ("Inglés" and "Ingles" alike).
func foldLanguageName(s string) string {
	folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		folded = s
	}
	return foldCountryName(folded)
}

// nameIndex returns a map from folded names (foldCountryName) to codes and the function that
// fills it: a name given two codes is ambiguous and left out, as are the names ambiguous
// already are.
func nameIndex(ambiguous ...string) (map[string]string, func(name, code string)) {
	m := map[string]string{}
	left := map[string]bool{}
	for _, a := range ambiguous {
		left[a] = true
	}
	return m, func(name, code string) {
		k := foldCountryName(name)
		if k == "" || left[k] {
			return
		}
		if prev, ok := m[k]; ok && prev != code {
			delete(m, k)
			left[k] = true
			return
		}
		m[k] = code
	}
}

// ParseCountry reads an ISO 3166-1 country code (alpha-2, also alpha-3) and returns its
// alpha-2 form in upper case. A code reserved for a country that has another is that other:
// "UK", as lists write the United Kingdom, is GB (whose phone numbers, postcodes and laws the
// rest of breachnotice knows by GB), "FX" is FR. A country's name, as CRMs export the column,
// is read too (see countryNames): "South Korea", "Estados Unidos", "Royaume-Uni". "EL", the
// code the EU's institutions give Greece (and lists exported from their systems carry), is GR:
// ISO 3166-1 leaves it unassigned, and a Greek customer's row was rejected.
//
// A number is refused: ISO 3166's numeric codes are read by nothing else a list comes from,
// and a "Country Code" column holds dialling codes, which they cannot be told from — 380 is
// Ukraine's dialling code and Italy's numeric code, 250 Rwanda's and France's: read as them, a
// Ukrainian's and a Rwandan's numbers became strangers' in Pisa and in France.
func ParseCountry(s string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(s), "EL") {
		return "GR", nil
	}
	if digits := strings.TrimPrefix(strings.TrimSpace(s), "+"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		return "", fmt.Errorf("%q %w: a dialling code (51, +380) and a numeric ISO code (380 is also Italy's) cannot be told apart; give the two-letter code (PE, UA) or the country's name — a column of dialling codes can be left out with --map COLUMN=-", Clip(s), ErrCountryNumber)
	}
	r, err := language.ParseRegion(strings.TrimSpace(s))
	if err != nil || !r.IsCountry() {
		if code, ok := countryNames()[foldCountryName(s)]; ok {
			return code, nil
		}
		if code, ok := unaccentedCountryNames()[foldLanguageName(s)]; ok {
			return code, nil
		}
		return "", fmt.Errorf("%q is neither an ISO 3166-1 country code such as PE or FR nor a country's name breachnotice knows (the ISO or CLDR name, in English, Spanish, French, Korean, German, Portuguese, Italian, Dutch, Japanese or Chinese)", Clip(s))
	}
	code := r.Canonicalize().String()
	if now, ok := splitCountries[code]; ok {
		return "", fmt.Errorf("%q is a country that no longer exists, now %s: give the customer's country as it is today", Clip(s), now)
	}
	return code, nil
}

// ErrCountryNumber is what ParseCountry's error wraps for a number: which country is not known,
// and a reader may keep the rest of the row.
var ErrCountryNumber = errors.New("is a number, not a country")

// splitCountries are the former countries ISO 3166-1 still reads whose land is now several
// countries: which one a customer lives in is not known (those that became one, such as ZR for
// the Democratic Republic of the Congo, read as it).
var splitCountries = map[string]string{
	"AN": "Bonaire, Curaçao or Sint Maarten (BQ, CW, SX)",
	"CS": "Serbia or Montenegro (RS, ME)",
	"YU": "Serbia, Montenegro, Kosovo or another of Yugoslavia's successors",
	"SU": "Russia or another of the Soviet Union's successors",
}

// countryNames maps every country's name — as Unicode CLDR writes it in English, the languages
// of the shipped locales (Spanish, French, Korean) and those customer lists most often come in
// besides (German, Portuguese, Italian, Dutch, Japanese, Chinese), then ISO 3166-1's own short
// names where CLDR's differ ("Viet Nam", "Korea, Republic of"), and the former and informal
// names lists keep using ("Czech Republic", "Holland") — folded (foldCountryName), to its ISO
// 3166-1 alpha-2 code. A name two countries share in different languages is left out, as is
// "Georgia" (also a US state): which one is meant is not known. "Korea" alone is the Republic
// of Korea: that is what a company's customer list means by it (the other is written "North
// Korea" or "DPRK"), and a Korean customer's row was rejected for it.
var countryNames = sync.OnceValue(func() map[string]string {
	// Georgia is a US state as well: in a US list's country column, which is not known.
	m, add := nameIndex("georgia", "géorgie", "조지아", "geórgia", "ジョージア")
	namers := []display.Namer{display.English.Regions(), display.Spanish.Regions(), display.French.Regions(), display.Korean.Regions(),
		display.German.Regions(), display.Portuguese.Regions(), display.Italian.Regions(), display.Dutch.Regions(),
		display.Japanese.Regions(), display.Chinese.Regions()}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, err := language.ParseRegion(string([]rune{a, b}))
			if err != nil || !r.IsCountry() || r.Canonicalize() != r {
				continue
			}
			for _, n := range namers {
				add(n.Name(r), r.String())
			}
		}
	}
	for name, code := range map[string]string{
		"united states of america": "US", "u.s.": "US", "u.s.a.": "US", "u.s": "US", "u.s.a": "US", "u.k.": "GB", "u.k": "GB", "united kingdom of great britain and northern ireland": "GB",
		"great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
		"korea, republic of": "KR", "republic of korea": "KR", "korea (south)": "KR", "korea, south": "KR", "한국": "KR",
		"korea": "KR", "korea (the republic of)": "KR", "north korea": "KP", "dprk": "KP",
		"korea, democratic people's republic of": "KP", "korea (the democratic people's republic of)": "KP",
		"korea (rep.)": "KR", "korea, rep.": "KR", "eeuu": "US", "ee.uu.": "US", "ee. uu.": "US", "ee.uu": "US",
		"viet nam": "VN", "czech republic": "CZ", "türkiye": "TR", "turkiye": "TR", "holland": "NL", "the netherlands": "NL",
		"netherlands (the)": "NL", "russian federation": "RU", "russian federation (the)": "RU", "iran, islamic republic of": "IR",
		"iran (islamic republic of)": "IR", "taiwan, province of china": "TW", "tanzania, united republic of": "TZ",
		"moldova, republic of": "MD", "republic of moldova": "MD", "bolivia (plurinational state of)": "BO",
		"venezuela (bolivarian republic of)": "VE", "syrian arab republic": "SY", "lao people's democratic republic": "LA",
		"macedonia": "MK", "swaziland": "SZ", "burma": "MM", "ivory coast": "CI", "cote d'ivoire": "CI", "east timor": "TL",
		"cape verde": "CV", "republic of ireland": "IE", "uae": "AE", "vatican city": "VA", "holy see": "VA",
		"united kingdom (the)": "GB", "united states of america (the)": "US", "philippines (the)": "PH",
		// CLDR's English names are "Hong Kong SAR China" and "Macao SAR China": lists write these.
		"hong kong": "HK", "hong kong sar": "HK", "hongkong": "HK", "macau": "MO", "macao": "MO", "macau sar": "MO", "macao sar": "MO",
		"s. korea": "KR", "s.korea": "KR", "south korea (republic of korea)": "KR", "america": "US", "the united states": "US",
		"the uk": "GB", "the usa": "US", "brasil": "BR", "perú": "PE",
	} {
		add(name, code)
	}
	return m
})

// unaccentedCountryNames is countryNames keyed without accents, for names typed without them
// ("Espana", "Peru", "Mexico"), as keyboards and older systems write them; it is asked only
// for a name countryNames does not know, and a name two countries' names come to without
// their accents is left out.
var unaccentedCountryNames = sync.OnceValue(func() map[string]string {
	m, add := nameIndex()
	for _, name := range slices.Sorted(maps.Keys(countryNames())) {
		add(foldLanguageName(name), countryNames()[name])
	}
	return m
})

// foldCountryName is a country's name as countryNames keys it: lower case, single spaces.
func foldCountryName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
