package breach

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A value sent by a client comes back in an error message clipped, whatever its size, and a
// clipped value is still valid UTF-8.
func TestErrorsQuoteAtMostAClippedValue(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // a megabyte of two-byte runes
	errs := map[string]error{}
	_, errs["ParseID"] = ParseID("campaign", huge)
	_, errs["ParseLocale"] = ParseLocale(huge)
	_, errs["ParseCountry"] = ParseCountry(huge)
	errs["state filter"] = (&DeliveryFilter{State: DeliveryState(huge)}).Validate()
	errs["channel filter"] = (&DeliveryFilter{Channel: Channel(huge)}).Validate()
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error for a megabyte of é", name)
			continue
		}
		if msg := err.Error(); len(msg) > 400 || !utf8.ValidString(msg) || !strings.Contains(msg, "é…") {
			t.Errorf("%s: %d-byte message (valid UTF-8: %v), want a short one quoting the value clipped: %.200s",
				name, len(msg), utf8.ValidString(msg), msg)
		}
	}
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	if got := Clip(strings.Repeat("a", 63) + "é"); got != strings.Repeat("a", 63)+"…" {
		t.Errorf("Clip cut inside a rune: %q", got)
	}
}
