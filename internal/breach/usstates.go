package breach

import (
	"strconv"
	"strings"
)

// IsUSState reports whether code is the postal code of a US state, DC or a territory ("CA").
func IsUSState(code string) bool {
	_, ok := usStates[code]
	return ok
}

// IsUSPostalRegion reports whether code is what a US address may print as its state: a
// state's, DC's or a territory's postal code, or one of the armed forces' (AA, AE, AP: APO and
// FPO mail, which names no state).
func IsUSPostalRegion(code string) bool {
	return IsUSState(code) || code == "AA" || code == "AE" || code == "AP"
}

// USPostalRegionOfZIP is what a US address prints as its state for a ZIP code: the state it
// names (USStateOfZIP), or the armed forces' code of a military ZIP code (090–098 AE, 340 AA,
// 962–966 AP), or "". Military codes name no state: the regulator report reads only
// USStateOfZIP.
func USPostalRegionOfZIP(zip string) string {
	if st := USStateOfZIP(zip); st != "" {
		return st
	}
	if len(zip) < 5 || strings.Trim(zip[:5], "0123456789") != "" {
		return ""
	}
	switch n, _ := strconv.Atoi(zip[:3]); {
	case n >= 90 && n <= 98:
		return "AE"
	case n == 340:
		return "AA"
	case n >= 962 && n <= 966:
		return "AP"
	}
	return ""
}

// USStateName is the name of the US state (DC, territory) with postal code code, or "".
func USStateName(code string) string { return usStates[code] }

// usStates are the US states, the District of Columbia and the territories, by postal code.
// One list for the importer (a `state` column's jurisdiction), the postal rules and the
// regulator report, so that they agree on what a state is.
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
		"n dak": "ND", "s dak": "SD", "n mex": "NM", "w va": "WV",
		"colo": "CO", "conn": "CT", "del": "DE", "fla": "FL", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
		"mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV",
		"okla": "OK", "ore": "OR", "oreg": "OR", "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA",
		"wva": "WV", "wis": "WI", "wisc": "WI", "wyo": "WY",
		"n carolina": "NC", "no carolina": "NC", "s carolina": "SC", "so carolina": "SC", "n dakota": "ND", "no dakota": "ND",
		"s dakota": "SD", "so dakota": "SD", "west va": "WV", "w virginia": "WV", "hawaiʻi": "HI", "hawai'i": "HI", "hawai‘i": "HI",
		// The names Spanish and French lists give them (Peruvian, Korean or French companies'
		// lists of their US customers).
		"nueva york": "NY", "nueva jersey": "NJ", "nuevo méxico": "NM", "nuevo mexico": "NM", "nuevo hampshire": "NH",
		"carolina del norte": "NC", "carolina del sur": "SC", "dakota del norte": "ND", "dakota del sur": "SD",
		"virginia occidental": "WV", "luisiana": "LA", "misisipi": "MS", "pensilvania": "PA", "hawái": "HI",
		"californie": "CA", "floride": "FL", "caroline du nord": "NC", "caroline du sud": "SC", "dakota du nord": "ND",
		"dakota du sud": "SD", "virginie": "VA", "virginie-occidentale": "WV", "louisiane": "LA", "pennsylvanie": "PA",
		"nouveau-mexique": "NM"} {
		m[abbr] = code
	}
	return m
}()

// USState reads a US state from a list's `state` or `region` value: a postal code ("ca", also
// written with dots and spaces: "N.Y.", "N. Y.") or a name ("California", "Calif.",
// "New York State", "State of New York", but not "Cal": Caldas in Colombia); "" when it
// is neither. isCode says the value was written as a two-letter code: whether it is a code
// decides whose state it may be (StateCodesAreUS: "MA" in a Brazilian list is Maranhão).
func USState(s string) (state string, isCode bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ".", "")
	// "US-CA" (ISO 3166-2: a code that says it is the US's), "CA-" and "California (CA)" as
	// exports write them.
	if rest, ok := cutPrefixFold(s, "US-"); ok && len(rest) == 2 {
		if _, ok := usStates[strings.ToUpper(rest)]; ok {
			return strings.ToUpper(rest), false
		}
	}
	s = strings.TrimRight(s, "- ")
	if open := strings.LastIndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
		if code := strings.ToUpper(strings.TrimSpace(s[open+1 : len(s)-1])); len(code) == 2 {
			if st, _ := USState(strings.TrimSpace(s[:open])); st == code {
				return st, false
			}
		}
	}
	if code := strings.ToUpper(strings.ReplaceAll(s, " ", "")); len(code) == 2 {
		if _, ok := usStates[code]; ok {
			return code, true
		}
		return "", true
	}
	name := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if code, ok := usStateByName[name]; ok {
		return code, false
	}
	// "New York State", "Washington State", "State of New York".
	if rest, ok := strings.CutSuffix(name, " state"); ok {
		return usStateByName[rest], false
	}
	if rest, ok := strings.CutPrefix(name, "state of "); ok {
		return usStateByName[rest], false
	}
	return "", false
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

// ZIPFitsState reports whether a US address's ZIP code may rightly stand beside state: the
// state its prefix names, or one sharing it — a territory whose codes sit in a state's or
// another territory's range (American Samoa's 96799 in Hawaii's 967, the Northern Mariana
// Islands' 969 with Guam), or the other state of a ZIP code that crosses a state line. A ZIP
// code that names no state fits any.
func ZIPFitsState(zip, state string) bool {
	zip = strings.TrimSpace(zip)
	byZIP := USStateOfZIP(zip)
	switch {
	case byZIP == "" || byZIP == state:
		return true
	case len(zip) >= 5 && strings.Contains(crossingZIPs[zip[:5]], state):
		return true
	}
	switch state {
	case "AS", "MP", "GU", "FM", "MH", "PW", "VI", "PR":
		return true
	}
	return byZIP == "GU" || byZIP == "HI" && strings.HasPrefix(zip, "96799")
}

// crossingZIPs are ZIP codes whose area crosses a state line, with the states.
var crossingZIPs = map[string]string{"42223": "KY TN", "97635": "OR CA", "73949": "OK TX", "86515": "AZ NM"}

// USStateOfZIP is the state of a ZIP code (five digits, perhaps more; or its first three
// digits alone: the regulator report's store passes only those), or "" when it is neither or
// names no state.
func USStateOfZIP(zip string) string {
	if len(zip) != 3 && (len(zip) < 5 || strings.Trim(zip[:5], "0123456789") != "") {
		return "" // a four-digit code may have lost a leading zero: it names no state
	}
	prefix := zip[:3]
	if strings.Trim(prefix, "0123456789") != "" {
		return ""
	}
	if len(zip) >= 5 {
		// Prefixes shared with territories and sovereign states: 96799 is American Samoa's (in
		// Hawaii's 967); 969 is Guam's (96910–96932), the Northern Mariana Islands' (96950–
		// 96952), and Palau's (96939–96940), Micronesia's (96941–96944) and the Marshall
		// Islands' (96960, 96970), which are no US state or territory.
		switch n, _ := strconv.Atoi(zip[:5]); {
		case n == 96799:
			return "AS"
		case n >= 96910 && n <= 96932:
			return "GU"
		case n >= 96950 && n <= 96952:
			return "MP"
		case n >= 96939 && n <= 96944, n == 96960, n == 96970:
			return ""
		}
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

// cutPrefixFold is strings.CutPrefix, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
