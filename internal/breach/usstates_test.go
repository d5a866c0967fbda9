package breach

import "testing"

// A state column as people type it: a code, a name, a code with dots, an AP-style abbreviation.
func TestUSState_CodesNamesAndAbbreviations(t *testing.T) {
	// US-CA says it is the US's, whatever country the campaign is in.
	if st, isCode := USState("US-MA"); st != "MA" || isCode {
		t.Errorf("USState(US-MA) = %q, code %v; want MA, not a bare code", st, isCode)
	}
	for in, want := range map[string]string{"CA": "CA", " ca ": "CA", "California": "CA", "Calif.": "CA", "Mass.": "MA",
		"N.Y.": "NY", "N. Y.": "NY", "W.Va.": "WV", "Wash.": "WA", "Fla": "FL", "CAL": "", "New York State": "NY", "new  york state": "NY", "State of Washington": "WA", "N. Dak.": "ND", "Free State": "", "District of Columbia": "DC", "Arequipa": "", "XX": "", "": "",
		"Hawaiʻi": "HI", "Hawai'i": "HI", "N. Carolina": "NC", "So. Dakota": "SD", "West Va.": "WV", "CA-": "CA", "US-CA": "CA",
		"us-ny": "NY", "California (CA)": "CA", "Texas (CA)": "", "Californie": "CA", "Nueva York": "NY", "Carolina del Norte": "NC"} {
		if got, _ := USState(in); got != want {
			t.Errorf("USState(%q) = %q, want %q", in, got, want)
		}
	}
}

// A ZIP code names its state by its first three digits; whatever else is no ZIP code.
func TestUSStateOfZIP(t *testing.T) {
	for in, want := range map[string]string{"02139": "MA", "021": "MA", "94105-1234": "CA", "00601": "PR", "33101": "FL",
		"99950": "AK", "000": "", "2139": "", "AB123": "", "12": "", "": "",
		// Shared prefixes: Hawaii and American Samoa; Guam, the Northern Mariana Islands, and
		// Palau, Micronesia and the Marshall Islands, which are no part of the US.
		"96813": "HI", "96799": "AS", "96910": "GU", "96950": "MP", "96940": "", "96941": "", "96960": "", "96970": ""} {
		if got := USStateOfZIP(in); got != want {
			t.Errorf("USStateOfZIP(%q) = %q, want %q", in, got, want)
		}
	}
}
