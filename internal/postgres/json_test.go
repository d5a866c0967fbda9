package postgres

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestAppendAttributesJSON reads the attributes' JSON back, for no attribute, one and several,
// with characters to escape; a name given twice keeps its last value, as jsonb does.
func TestAppendAttributesJSON(t *testing.T) {
	for _, tc := range []struct {
		attrs []breach.Attribute
		want  map[string]string
	}{
		{nil, map[string]string{}},
		{[]breach.Attribute{{Name: "plan", Value: `Hogar, "Internet" 300\Mbps` + "\n"}}, map[string]string{"plan": `Hogar, "Internet" 300\Mbps` + "\n"}},
		{[]breach.Attribute{{Name: "plan", Value: "Prepago"}, {Name: "city", Value: "Arequipa"}, {Name: "zip", Value: "04001"}, {Name: "note", Value: "<b>é</b>\t"}},
			map[string]string{"plan": "Prepago", "city": "Arequipa", "zip": "04001", "note": "<b>é</b>\t"}},
		{[]breach.Attribute{{Name: "state", Value: "MA"}, {Name: "plan", Value: "P"}, {Name: "state", Value: "CA"}}, map[string]string{"state": "CA", "plan": "P"}},
	} {
		got := appendAttributesJSON([]byte("x"), tc.attrs)
		if string(got[:1]) != "x" {
			t.Errorf("%q: the buffer's start was overwritten", got)
		}
		var back map[string]string
		if err := json.Unmarshal(got[1:], &back); err != nil {
			t.Fatalf("%q is not JSON: %v", got, err)
		}
		if !maps.Equal(back, tc.want) {
			t.Errorf("%q read back as %v, want %v", got, back, tc.want)
		}
	}
}
