package breach

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// MaxAddressLine is the longest line of a postal address, in characters: what fits the
// window of an envelope in the letter's type size (and far more than any post asks for).
const MaxAddressLine = 80

// postalRule is what a country's post requires of an address.
type postalRule struct {
	// code checks the postal code (already upper-cased, spaces normalized); nil: the country
	// has no postal codes, which are then optional and free-form.
	code func(string) bool
	// format says what the postal code looks like, for the reject message.
	format string
	// region is required (a US state).
	region bool
	// noCity: the country is a city (Singapore, Hong Kong, Monaco …); a city line is optional.
	noCity bool
	// digits is the length of the country's postal codes when they are all digits of one
	// length: a code of one or two digits fewer may be one a spreadsheet read as a number and
	// stripped of its leading zeros, which the reject says.
	digits int
}

var ukPostcode = regexp.MustCompile(`^(GIR 0AA|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2})$`)

// postalRules are the countries whose addresses are checked closely; any other country gets
// the permissive default (a line, a city, and a postal code of 2 to 10 letters, digits, spaces
// and hyphens when given).
var postalRules = map[string]postalRule{
	"US": {code: func(s string) bool {
		return digits(s, 5) || len(s) == 10 && digits(s[:5], 5) && s[5] == '-' && digits(s[6:], 4)
	}, format: "12345 or 12345-6789", region: true, digits: 5},
	"PE": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (15074)", digits: 5},
	"FR": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (75008)", digits: 5},
	"KR": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (06236)", digits: 5},
	"DE": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (10115)", digits: 5},
	"ES": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (28013)", digits: 5},
	"IT": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (00184)", digits: 5},
	"MX": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (06600)", digits: 5},
	"GB": {code: ukPostcode.MatchString, format: "a UK postcode such as SW1A 1AA"},
	"SG": {code: func(s string) bool { return digits(s, 6) }, format: "6 digits (018956)", noCity: true, digits: 6},
	"HK": {noCity: true},
	"MO": {noCity: true},
	"MC": {code: func(s string) bool { return digits(s, 5) }, format: "5 digits (98000)", noCity: true},
}

// digits reports whether s is exactly n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks a postal address by the rules of its country and normalizes it: the country
// upper-cased, the postal code upper-cased with single spaces (a UK postcode given without its
// space gets it). It is the one rule every door's import applies. Each problem names the
// customer-list column at fault (address_line1, city, region, postal_code, country); the
// error is a *ValidationError.
//
// Required: a first line, a city (except in city-states), a country, and — where the country
// has them — a postal code of its format: US (12345 or 12345-6789, and a state), PE, FR, KR,
// DE, ES, IT, MX (5 digits), GB (a UK postcode), SG (6 digits). Other countries get a
// permissive default: a postal code, when given, of 2 to 10 letters, digits, spaces or
// hyphens. No line may be longer than MaxAddressLine characters.
func (a *PostalAddress) Validate() error {
	var v ValidationError // on the stack: a good address costs no allocation
	a.Country = strings.ToUpper(a.Country)
	a.PostalCode = normalizePostalCode(a.PostalCode)
	for _, l := range []struct{ path, value string }{
		{"address_line1", a.Line1}, {"address_line2", a.Line2}, {"address_line3", a.Line3},
		{"city", a.City}, {"region", a.Region},
	} {
		if utf8.RuneCountInString(l.value) > MaxAddressLine {
			v.Add(l.path, "is longer than %d characters, more than an envelope's window holds", MaxAddressLine)
		}
	}
	if a.Line1 == "" {
		v.Add("address_line1", "is empty: an address needs its first line (street and number, or PO box)")
	}
	rule, known := postalRules[a.Country]
	switch {
	case a.Country == "":
		v.Add("country", "an address needs a country (ISO 3166-1 alpha-2, e.g. PE), in the row or as the campaign's default_country")
		return v.result()
	case len(a.Country) != 2:
		v.Add("country", "%q is not an ISO 3166-1 alpha-2 country code", a.Country)
		return v.result()
	}
	if a.City == "" && !rule.noCity {
		v.Add("city", "is empty: an address in %s needs its city", a.Country)
	}
	switch {
	case rule.region && a.Region == "":
		v.Add("region", "is empty: an address in %s needs its state (e.g. CA)", a.Country)
	case a.Country == "US" && !IsUSPostalRegion(strings.ToUpper(a.Region)):
		v.Add("region", "%q is not a US state's postal code (e.g. CA; AA, AE or AP for military mail)", Clip(a.Region))
	}
	switch {
	case known && rule.code != nil && a.PostalCode == "":
		v.Add("postal_code", "is empty: an address in %s needs its postal code (%s)", a.Country, rule.format)
	case known && rule.code != nil && !rule.code(a.PostalCode):
		if zeros := restoreZeros(a.PostalCode, rule.digits); zeros != a.PostalCode && rule.code(zeros) {
			// Kept a reject, not corrected: a code cut short by a typo looks the same.
			v.Add("postal_code", "%q is not a postal code of %s (%s): if it is %s, a spreadsheet took its leading zeros; format the column as text and export the list again",
				a.PostalCode, a.Country, rule.format, zeros)
			break
		}
		v.Add("postal_code", "%q is not a postal code of %s (%s)", a.PostalCode, a.Country, rule.format)
	case !known && a.PostalCode != "" && !loosePostalCode(a.PostalCode):
		v.Add("postal_code", "%q is not a postal code (2 to 10 letters, digits, spaces or hyphens)", a.PostalCode)
	}
	return v.result()
}

// result is v's problems as an error, copied to the heap only when there are any.
func (v *ValidationError) result() error {
	if len(v.Fields) == 0 {
		return nil
	}
	out := *v
	return &out
}

// restoreZeros gives back the leading zeros a spreadsheet may have taken from a postal code of
// n digits that it read as a number (2139 for 02139, 601 for 00601; the first part of a US
// ZIP+4 too): a code of one or two digits fewer than n, and digits only, may be one of those.
// n is 0 where a country's codes are not all digits of one length.
func restoreZeros(code string, n int) string {
	if n == 0 {
		return code
	}
	head, tail, plus4 := strings.Cut(code, "-")
	if len(head) >= n || len(head) < n-2 || !digits(head, len(head)) || plus4 && !digits(tail, 4) {
		return code
	}
	return strings.Repeat("0", n-len(head)) + code
}

// normalizePostalCode upper-cases a postal code and folds its runs of spaces into one; a UK
// postcode typed without its space ("SW1A1AA") gets it back.
func normalizePostalCode(s string) string {
	if !postalCodeNormal(s) {
		s = strings.ToUpper(strings.Join(strings.Fields(s), " "))
	}
	if n := len(s); n >= 5 && n <= 7 && !strings.Contains(s, " ") && s[n-3] >= '0' && s[n-3] <= '9' &&
		s[n-2] >= 'A' && s[n-2] <= 'Z' && s[n-1] >= 'A' && s[n-1] <= 'Z' && s[0] >= 'A' && s[0] <= 'Z' {
		return s[:n-3] + " " + s[n-3:]
	}
	return s
}

// postalCodeNormal reports whether s needs no normalizing (upper case, single inner spaces):
// nearly every postal code of a list, checked without allocating.
func postalCodeNormal(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 0x80, c == '\t':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' '):
			return false
		}
	}
	return true
}

func loosePostalCode(s string) bool {
	if len(s) < 2 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == ' ' || c == '-') {
			return false
		}
	}
	return true
}

// Label is the address block of a letter to name at a, one line each, name first, in the order
// the post of a's country reads it: the locality line as that post wants it ("SPRINGFIELD IL
// 62704" in the US, "75008 PARIS" in France, the city and then the postcode on lines of their
// own in the UK, the region and city before the street in Korea), and the country's name in
// English capitals last when the letter crosses a border (from is the sender's country; "" is
// taken as abroad). Empty lines are left out.
func (a PostalAddress) Label(name, from string) []string {
	out := make([]string, 0, 8)
	add := func(parts ...string) {
		line := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
		if line != "" {
			out = append(out, line)
		}
	}
	add(name)
	switch a.Country {
	case "US", "CA", "AU":
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(strings.ToUpper(a.City), strings.ToUpper(a.Region), a.PostalCode)
	case "GB":
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(strings.ToUpper(a.City))
		add(a.Region)
		add(a.PostalCode)
	case "KR":
		// Largest to smallest: province or metropolitan city, district, then the road address.
		add(a.Region, a.City)
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(a.PostalCode)
	case "FR":
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(a.PostalCode, strings.ToUpper(a.City))
		add(a.Region)
	case "PE":
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(a.City, a.PostalCode)
		add(strings.ToUpper(a.Region))
	default:
		add(a.Line1)
		add(a.Line2)
		add(a.Line3)
		add(a.PostalCode, a.City)
		add(a.Region)
	}
	if a.Country != "" && a.Country != from {
		add(CountryName(a.Country))
	}
	return out
}

// CountryName is a country's English name in capitals, as international mail wants it
// ("REPUBLIC OF KOREA"), or its code when the name is not known.
func CountryName(code string) string {
	switch code {
	case "KR":
		return "REPUBLIC OF KOREA"
	case "US":
		return "UNITED STATES"
	case "GB":
		return "UNITED KINGDOM"
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.English.Regions().Name(r); name != "" {
		return strings.ToUpper(name)
	}
	return code
}
