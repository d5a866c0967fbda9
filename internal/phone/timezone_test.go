package phone

import (
	"slices"
	"testing"
	"time"
)

func zoneNames(ls []*time.Location) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.String())
	}
	return out
}

func TestZones_NumberTellsTheZoneThenTheCountry(t *testing.T) {
	var z Zones
	for _, tc := range []struct {
		e164, country string
		want          []string
	}{
		{"+51912345678", "", []string{"America/Lima"}},
		{"+821012345678", "KR", []string{"Asia/Seoul"}},
		{"+33612345678", "FR", []string{"Europe/Paris"}},
		{"+12125550123", "US", []string{"America/New_York"}},
		{"+13105550123", "US", []string{"America/Los_Angeles"}},
		{"+18085550123", "US", []string{"Pacific/Honolulu"}},
		// A number without a known region (+999 is unassigned): the customer's country.
		{"+99912345678", "PE", []string{"America/Lima"}},
		{"", "fr", []string{"Europe/Paris"}},
		{"", "", nil},
		{"+99912345678", "", nil},
	} {
		if got := zoneNames(z.For(tc.e164, tc.country)); !slices.Equal(got, tc.want) {
			t.Errorf("For(%q, %q) = %v, want %v", tc.e164, tc.country, got, tc.want)
		}
	}
}

func TestZones_USCountryAloneGivesEveryCandidateZone(t *testing.T) {
	var z Zones
	got := zoneNames(z.For("", "US"))
	for _, want := range []string{"America/New_York", "America/Los_Angeles", "America/Chicago", "America/Denver"} {
		if !slices.Contains(got, want) {
			t.Errorf("US zones %v lack %s", got, want)
		}
	}
}
