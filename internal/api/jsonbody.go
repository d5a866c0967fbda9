package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// errEmptyBody is decodeJSON's answer to a body with no JSON value: a door whose body is
// optional takes it as "nothing asked".
var errEmptyBody = fmt.Errorf("the body is empty: %w", io.EOF)

// decodeJSON reads exactly one JSON value from body into v. A field v does not have, a field
// given twice, or anything after the value, is refused: a typo in a field name must not pass as
// a request that did not set it, and {"list_version": "3", "list_version": "4"} is no request
// of either (encoding/json kept the last; a proxy or a log may read the first — a review).
func decodeJSON(body io.Reader, v any) error {
	data, err := io.ReadAll(body) // every door bounds its body (http.MaxBytesReader)
	if err != nil {
		return err
	}
	if err := duplicateField(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errEmptyBody
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more follows the JSON value")
	}
	return nil
}

// duplicateField walks data's JSON tokens and refuses an object that names a field twice. A
// syntax error is left for the decoder to report.
func duplicateField(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token of an object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder says better
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && top.object {
					top.key = true // the object is this key's value
				}
				stack = append(stack, frame{object: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
				continue
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[t] {
					return fmt.Errorf("the field %q is given twice", breach.Clip(t))
				}
				top.keys[t] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true // a value ended: a key comes next
		}
	}
}
