package regulator

import (
	"strconv"
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
	// so (codesAreUS: in a Brazilian campaign MA is Maranhão); a state's name is one anywhere.
	if st, isCode := stateOf(rc.Region); st != "" && (country == "US" || codesAreUS || usProfile || !isCode) {
		return place{"US-" + st, GroupUS}
	}
	if country == "US" || usProfile {
		if st := stateOfZIP(rc.PostalCode); st != "" {
			return place{"US-" + st, GroupUS}
		}
	}
	if code, ok := strings.CutPrefix(j, "us-"); ok {
		if _, known := usStates[strings.ToUpper(code)]; known {
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
		if name := usStates[st]; name != "" {
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

// usStates are the US states, the District of Columbia and the territories, by postal code.
var usStates = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
	"FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
	"IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
	"NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
	"PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
	"TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
	"WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
	"PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
	"MP": "Northern Mariana Islands", "UM": "U.S. Minor Outlying Islands",
}

// usStateByName finds a state by its name, lower-cased without dots ("district of columbia"),
// or the abbreviation newspapers and older mailing lists
// use (AP style: "Calif.", "Mass.", "W.Va.").
var usStateByName = func() map[string]string {
	m := map[string]string{"washington dc": "DC", "washington, dc": "DC", "us virgin islands": "VI"}
	for code, name := range usStates {
		m[strings.ToLower(strings.ReplaceAll(name, ".", ""))] = code
	}
	for abbr, code := range map[string]string{"ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA",
		"colo": "CO", "conn": "CT", "del": "DE", "fla": "FL", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
		"mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV",
		"okla": "OK", "ore": "OR", "oreg": "OR", "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA",
		"wva": "WV", "wis": "WI", "wisc": "WI", "wyo": "WY"} {
		m[abbr] = code
	}
	return m
}()

// stateOf reads a US state from a list's `state` or `region` value: a postal code ("ca", also
// written with dots and spaces: "N.Y.", "N. Y.") or a name ("California"); "" when it is
// neither. isCode says the value was written as a two-letter code (the one reading of a
// value the report makes: whether it is a code decides whose state it may be, see locate).
func stateOf(s string) (state string, isCode bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ".", "")
	if code := strings.ToUpper(strings.ReplaceAll(s, " ", "")); len(code) == 2 {
		if _, ok := usStates[code]; ok {
			return code, true
		}
		return "", true
	}
	return usStateByName[strings.ToLower(s)], false
}

// zip3 maps the first three digits of a ZIP code to the state of its sectional center (USPS):
// each entry covers the prefixes from lo to hi. Military (AA, AE, AP) and unassigned prefixes
// are absent: a customer there is in the US, state unknown.
var zip3 = []struct {
	lo, hi int
	state  string
}{
	{5, 5, "NY"}, {6, 7, "PR"}, {8, 8, "VI"}, {9, 9, "PR"}, {10, 27, "MA"}, {28, 29, "RI"},
	{30, 38, "NH"}, {39, 49, "ME"}, {50, 54, "VT"}, {55, 55, "MA"}, {56, 59, "VT"},
	{60, 69, "CT"}, {70, 89, "NJ"}, {100, 149, "NY"}, {150, 196, "PA"}, {197, 199, "DE"},
	{200, 200, "DC"}, {201, 201, "VA"}, {202, 205, "DC"}, {206, 219, "MD"}, {220, 246, "VA"},
	{247, 268, "WV"}, {270, 289, "NC"}, {290, 299, "SC"}, {300, 319, "GA"}, {320, 339, "FL"},
	{341, 349, "FL"}, {350, 369, "AL"}, {370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"},
	{400, 427, "KY"}, {430, 459, "OH"}, {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"},
	{530, 549, "WI"}, {550, 567, "MN"}, {569, 569, "DC"}, {570, 577, "SD"}, {580, 588, "ND"},
	{590, 599, "MT"}, {600, 629, "IL"}, {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"},
	{700, 714, "LA"}, {716, 729, "AR"}, {730, 732, "OK"}, {733, 733, "TX"}, {734, 749, "OK"},
	{750, 799, "TX"}, {800, 816, "CO"}, {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"},
	{850, 865, "AZ"}, {870, 884, "NM"}, {885, 885, "TX"}, {889, 898, "NV"}, {900, 961, "CA"},
	{967, 968, "HI"}, {969, 969, "GU"}, {970, 979, "OR"}, {980, 994, "WA"}, {995, 999, "AK"},
}

// stateOfZIP is the state of a ZIP code's first three digits (the store passes at most
// three characters), or "".
func stateOfZIP(prefix string) string {
	if len(prefix) != 3 || strings.Trim(prefix, "0123456789") != "" {
		return ""
	}
	n, err := strconv.Atoi(prefix)
	if err != nil {
		return ""
	}
	for _, z := range zip3 {
		if n >= z.lo && n <= z.hi {
			return z.state
		}
	}
	return ""
}
