package regulator

import (
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// place is where a group of recipients lives, as far as the list says: leaf is the
// jurisdiction counted ("US-CA", "KR", "DE"), group the group it belongs to (GroupUS,
// GroupEEA). A leaf of "" within a group is "somewhere in the US (or the EEA), but where is not
// known"; both empty is "nowhere known".
type place struct {
	leaf, group string
}

// locate reads where a group of recipients lives, from what the list says of their residence
// first and their notice profile last: a Floridian whose notices follow us-ca (counsel often
// gives everyone in the US California's, the strictest) lives in Florida, and a Korean resident
// with that profile lives in Korea.
//
//  1. a US territory's own country code (PR, GU, VI, AS, MP, UM) is that territory;
//  2. a country other than the US is that country (an EU outermost region or Åland, with a code
//     of its own, is its member state: see eeaMemberOf);
//  3. for a customer in the US (or of no country), a state named by the list's other columns
//     (`state`, as a name such as "California" or, beside a jurisdiction column, as the
//     importer kept it; `region` as a code or a name);
//  4. for a customer in the US (or of no country with a us-* jurisdiction), the first three
//     digits of their ZIP code (`postal_code`, `zip`…), which name the state of its sectional
//     center — also when their region names no state (a sales region, a county);
//  5. their jurisdiction, only when nothing above places them: "us-ma" is Massachusetts (the
//     importer turns a US `state` column into it), "kr-pipa" Korea and "gdpr" the EEA.
//
// A customer of no country whom nothing else places is, in the report, in the campaign's
// default country (Rules.Report).
//
// codesAreUS says whether a state code on a row without a country is a US state's
// (breach.StateCodesAreUS); else it is the default country's, as the importer reads it ("MA" in
// a Brazilian list is Maranhão), while a state's name ("California") says more and is read.
func locate(rc breach.ResidenceCount, codesAreUS bool) place {
	j := strings.ToLower(rc.Jurisdiction)
	usProfile := strings.HasPrefix(j, "us-")
	country := rc.Country
	if strings.Contains(usTerritories, " "+country+" ") && country != "" {
		return place{"US-" + country, GroupUS}
	}
	if country != "" && country != "US" {
		if ms := eeaMemberOf[country]; ms != "" {
			country = ms
		}
		if IsEEA(country) {
			return place{country, GroupEEA}
		}
		return place{country, ""}
	}
	// A two-letter code on a row of no country is a US state's only where the campaign says
	// so (codesAreUS: in a Brazilian campaign MA is Maranhão), or where the row's ZIP code is
	// that state's too (FL and 33101: a Floridian in a Peruvian campaign that offers no US
	// profile, whom the default country took in); a state's name is one anywhere.
	for _, region := range rc.Regions() {
		if st, isCode := breach.USState(region); st != "" && (country == "US" || codesAreUS || usProfile || !isCode ||
			breach.USStateOfZIP(rc.PostalCode) == st) {
			return place{"US-" + st, GroupUS}
		}
	}
	if country == "US" || usProfile {
		if st := breach.USStateOfZIP(rc.PostalCode); st != "" {
			return place{"US-" + st, GroupUS}
		}
	}
	if code, ok := strings.CutPrefix(j, "us-"); ok {
		if breach.IsUSState(strings.ToUpper(code)) {
			return place{"US-" + strings.ToUpper(code), GroupUS}
		}
	}
	if country == "US" {
		return place{"", GroupUS}
	}
	switch j {
	case "kr-pipa":
		return place{"KR", ""}
	case "gdpr":
		return place{"", GroupEEA}
	}
	return place{}
}

// eeaMemberOf maps the ISO 3166-1 codes of territories that are part of an EU member state,
// where the GDPR applies and its authority is competent, to that state: the French outermost
// regions (Réunion, Guadeloupe, Martinique, French Guiana, Mayotte, Saint-Martin), Åland
// (Finland), and the Canary Islands and Ceuta and Melilla (Spain, exceptionally reserved codes).
// French lists often write RE or GP as the country; counted as countries of their own, their
// people fell under no GDPR authority. Overseas countries and territories outside the EU
// (New Caledonia, Saint-Barthélemy…) are not here.
var eeaMemberOf = map[string]string{
	"RE": "FR", "GP": "FR", "MQ": "FR", "GF": "FR", "YT": "FR", "MF": "FR",
	"AX": "FI", "IC": "ES", "EA": "ES",
}

// Resident is what a notice needs to know of someone living in jurisdiction j (a leaf of the
// report: "US-CA", "KR"): the jurisdiction override and country a recipient living there would
// have, so that the sample notice for j takes the profile its residents' notices take.
func Resident(j string) (jurisdiction, country string) {
	if st, ok := strings.CutPrefix(j, "US-"); ok {
		return "us-" + strings.ToLower(st), "US"
	}
	switch j {
	case GroupUS:
		return "", "US"
	case GroupEEA:
		return "gdpr", ""
	}
	return "", j
}

// Name is a jurisdiction's name in English: a US state's, a country's or a group's.
func Name(j string) string {
	switch j {
	case GroupUS:
		return "United States"
	case GroupEEA:
		return "European Economic Area (GDPR)"
	}
	if st, ok := strings.CutPrefix(j, "US-"); ok {
		if name := breach.USStateName(st); name != "" {
			return name
		}
	}
	if r, err := language.ParseRegion(j); err == nil {
		if name := display.English.Regions().Name(r); name != "" {
			return name
		}
	}
	return j
}

// IsEEA reports whether an ISO 3166-1 country is in the European Economic Area, where the GDPR
// applies: the 27 EU member states, Iceland, Liechtenstein and Norway.
func IsEEA(country string) bool {
	return len(country) == 2 && strings.Contains(eea, " "+country+" ")
}

const eea = " AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO "

// usTerritories are the US territories with an ISO 3166-1 code of their own.
const usTerritories = " PR GU VI AS MP UM "
