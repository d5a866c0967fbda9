package notice

import (
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Profile is what a jurisdiction's breach-notification law asks of a notice: which sections it
// must have, which it must not, and its format. The sections are marked in the HTML with
// data-section attributes, which is what Lint checks.
type Profile struct {
	ID string `json:"id"`
	// CaliforniaFormat: the title "Notice of Data Breach" and the five headings in order
	// (Cal. Civ. Code § 1798.82(d)).
	CaliforniaFormat bool `json:"california_format"`
	// DescribeBreach is false where the law forbids describing the nature of the breach or the
	// number of people affected (Massachusetts, M.G.L. c. 93H § 3).
	DescribeBreach bool `json:"describe_breach"`
	// Bureaus: the US credit bureaus' contacts, when an SSN, ID or driver's licence was exposed.
	Bureaus bool `json:"bureaus"`
	// Rights: the right to a police report and to a free credit freeze (Massachusetts).
	Rights bool `json:"rights"`
	// Remedy: where to seek counsel and remedy (Korea's PIPA art. 34).
	Remedy bool `json:"remedy"`
	// Required and Forbidden sections: GDPR art. 34(2) with 33(3)(b)-(d) requires the
	// likely consequences and a contact point (DPO); Massachusetts forbids the description.
	Required  []string `json:"required"`
	Forbidden []string `json:"forbidden"`
}

// The sections a notice may have (data-section values).
const (
	SectionWhatHappened    = "what_happened"
	SectionWhatInformation = "what_information"
	SectionWhatWeAreDoing  = "what_we_are_doing"
	SectionWhatYouCanDo    = "what_you_can_do"
	SectionMoreInformation = "more_information"
	SectionConsequences    = "consequences"
	SectionContact         = "contact"
	SectionDPO             = "dpo"
	SectionBureaus         = "bureaus"
	SectionRights          = "rights"
	SectionRemedy          = "remedy"
	SectionOffer           = "offer"
	SectionVerify          = "verify"
)

var generic = []string{SectionWhatInformation, SectionWhatWeAreDoing, SectionWhatYouCanDo, SectionContact, SectionVerify}

// profiles are the jurisdictions breachnotice knows (breach.KnownJurisdictions).
var profiles = map[string]Profile{
	"": {ID: "", DescribeBreach: true, Required: append([]string{SectionWhatHappened}, generic...)},
	"gdpr": {ID: "gdpr", DescribeBreach: true,
		Required: append([]string{SectionWhatHappened, SectionConsequences, SectionDPO}, generic...)},
	"us-ca": {ID: "us-ca", CaliforniaFormat: true, DescribeBreach: true, Bureaus: true,
		Required: append([]string{SectionWhatHappened, SectionMoreInformation}, generic...)},
	"us-ma": {ID: "us-ma", DescribeBreach: false, Bureaus: true, Rights: true,
		Required: append([]string{SectionRights, SectionBureaus}, generic...), Forbidden: []string{SectionWhatHappened, SectionConsequences}},
	"kr-pipa": {ID: "kr-pipa", DescribeBreach: true, Remedy: true,
		Required: append([]string{SectionWhatHappened, SectionRemedy}, generic...)},
}

// eea are the countries where the GDPR applies (EU plus Iceland, Liechtenstein, Norway).
const eea = " AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO "

// jurisdictionOf picks the profile of a customer's notice: their own jurisdiction when the
// list gives one (any other US state gets the California format, the model most states
// accept), else one of the campaign's jurisdictions that their country falls under, else the
// campaign's first.
func jurisdictionOf(c *breach.Campaign, r *breach.Recipient) Profile {
	if p, ok := profiles[r.Jurisdiction]; ok && r.Jurisdiction != "" {
		return p
	}
	if strings.HasPrefix(r.Jurisdiction, "us-") {
		return profiles["us-ca"]
	}
	has := func(id string) bool { return slices.Contains(c.Jurisdictions, id) }
	switch {
	case r.Country == "KR" && has("kr-pipa"):
		return profiles["kr-pipa"]
	case r.Country != "" && strings.Contains(eea, " "+r.Country+" ") && has("gdpr"):
		return profiles["gdpr"]
	case r.Country == "US" && has("us-ca"):
		return profiles["us-ca"]
	}
	if len(c.Jurisdictions) > 0 {
		return profiles[c.Jurisdictions[0]]
	}
	return profiles[""]
}
