package postgres

import (
	"encoding/json"
	"testing"
)

// TestAppendAttributesJSON reads the attributes' JSON back, for no attribute, one (the path
// without sorting) and several, with characters to escape.
func TestAppendAttributesJSON(t *testing.T) {
	for _, attrs := range []map[string]string{
		nil,
		{"plan": `Hogar, "Internet" 300\Mbps` + "\n"},
		{"plan": "Prepago", "city": "Arequipa", "zip": "04001", "note": "<b>é</b>\t"},
	} {
		got := appendAttributesJSON([]byte("x"), attrs)
		if string(got[:1]) != "x" {
			t.Errorf("%q: the buffer's start was overwritten", got)
		}
		var back map[string]string
		if err := json.Unmarshal(got[1:], &back); err != nil {
			t.Fatalf("%q is not JSON: %v", got, err)
		}
		if len(back) != len(attrs) {
			t.Errorf("%q read back as %v, want %v", got, back, attrs)
		}
		for k, v := range attrs {
			if back[k] != v {
				t.Errorf("%q: %s = %q, want %q", got, k, back[k], v)
			}
		}
	}
}
