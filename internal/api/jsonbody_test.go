package api

import (
	"errors"
	"strings"
	"testing"
)

// A request body is one JSON value with the request's fields and nothing else: a misspelt
// field or a second value is refused, not read as a request that left them out.
func TestDecodeJSON_OneValueOfKnownFieldsOnly(t *testing.T) {
	type req struct {
		ListVersion string `json:"list_version"`
	}
	for _, c := range []struct {
		body  string
		want  string // the decoded field, when accepted
		empty bool   // refused as empty
		ok    bool
	}{
		{body: `{"list_version": "3"}`, want: "3", ok: true},
		{body: " {\"list_version\": \"3\"} \n\t", want: "3", ok: true},
		{body: "", empty: true},
		{body: " \n ", empty: true},
		{body: `{"listversion": "3"}`},
		{body: `{"list_version": "3"}}`},
		{body: `{"list_version": "3"} {"list_version": "4"}`},
		{body: `{"list_version": "3"}x`},
		{body: `{"list_version": 3}`},
		{body: `{"list_version": "3"`},
		{body: `["3"]`},
		// One field twice: no request of either value (a review).
		{body: `{"list_version": "3", "list_version": "4"}`},
	} {
		var r req
		err := decodeJSON(strings.NewReader(c.body), &r)
		switch {
		case c.ok && (err != nil || r.ListVersion != c.want):
			t.Errorf("%q: %+v, %v; want list_version %q", c.body, r, err, c.want)
		case c.empty && !errors.Is(err, errEmptyBody):
			t.Errorf("%q: %v, want it refused as empty", c.body, err)
		case !c.ok && !c.empty && (err == nil || errors.Is(err, errEmptyBody)):
			t.Errorf("%q: %+v, %v; want it refused (not as empty)", c.body, r, err)
		}
	}
}

// A field given twice is found at any depth, and only within one object.
func TestDuplicateField_OnlyTwiceInOneObject(t *testing.T) {
	for body, twice := range map[string]bool{
		`{"a": 1, "a": 2}`:                  true,
		`{"a": {"b": 1, "b": 2}}`:           true,
		`{"a": [{"b": 1}, {"b": 2}]}`:       false,
		`{"a": {"b": 1}, "b": 2}`:           false,
		`{"a": ["a", "a"], "b": "a"}`:       false,
		`{"a": [1, {"c": 1, "c": 1}]}`:      true,
		`{"x": "y", "y": {"x": 1}, "z": 3}`: false,
	} {
		if err := duplicateField([]byte(body)); (err != nil) != twice {
			t.Errorf("%s: %v, want a field twice: %v", body, err, twice)
		}
	}
}
