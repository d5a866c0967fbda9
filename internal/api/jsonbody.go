package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errEmptyBody is decodeJSON's answer to a body with no JSON value: a door whose body is
// optional takes it as "nothing asked".
var errEmptyBody = fmt.Errorf("the body is empty: %w", io.EOF)

// decodeJSON reads exactly one JSON value from body into v. A field v does not have, or
// anything after the value, is refused: a typo in a field name must not pass as a request
// that did not set it.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
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
