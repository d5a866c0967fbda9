package phone

import "testing"

// A fixed line is told from a mobile where the country's numbering plan tells them apart; a
// US number, which may be either, is never called a landline.
func TestParser_Landline(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	for e164, want := range map[string]bool{
		"+5112345678":   true,  // Lima, fixed
		"+51987654321":  false, // Peru, mobile
		"+33142685300":  true,  // Paris, fixed
		"+33612345678":  false, // France, mobile
		"+82221234567":  true,  // Seoul, fixed
		"+821028417736": false, // Korea, mobile
		"+14155552671":  false, // US: fixed line or mobile
		"+442079460000": true,  // London, fixed
		"+447700900123": false, // UK, mobile
		"+390612345678": true,  // Rome, fixed, national number starting with 0
		"not a number":  false,
	} {
		if got := p.Landline(e164); got != want {
			t.Errorf("Landline(%s) = %v, want %v", e164, got, want)
		}
	}
}
