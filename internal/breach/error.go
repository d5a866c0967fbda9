package breach

import (
	"errors"
	"fmt"
)

// Error codes. Each says what went wrong in terms an adapter can map once to its own world
// (an HTTP status, a CLI exit code) without looking at messages.
const (
	EINVALID      = "invalid"      // the request or its input is malformed
	ENOTFOUND     = "not_found"    // the thing does not exist (or the caller may not know it does)
	ECONFLICT     = "conflict"     // the request clashes with the thing's current state
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, but their holder may not do this
	EUNAVAILABLE  = "unavailable"  // a dependency the request needs is down or too slow; try again
	EINTERNAL     = "internal"     // a bug or an unavailable dependency; details are logged, not shown
)

// Error is an application error: a code for machines and a message for the person who made the
// request. The message must be safe to show to that person (no other customer's personal data,
// no internals).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	if _, ok := errors.AsType[*ValidationError](err); ok {
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a generic message
// for internal errors, whose details belong in the log, not in an answer.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	if e, ok := errors.AsType[*ValidationError](err); ok {
		return e.Error()
	}
	return "internal error"
}

// FieldError says which field of a structured input is wrong and why. Path is dotted, as in
// the input's own syntax ("sender.email", "incident.summary.fr"), so that a file adapter can
// point at the line.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// ValidationError lists every problem found in one input, so the person fixing it sees them all
// at once rather than one per attempt.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	switch len(e.Fields) {
	case 0:
		return "invalid input"
	case 1:
		return e.Fields[0].Error()
	default:
		return fmt.Sprintf("%s (and %d more problems)", e.Fields[0].Error(), len(e.Fields)-1)
	}
}

// Add records a problem with the field at path.
func (e *ValidationError) Add(path, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Err returns e if it holds any problem, nil otherwise.
func (e *ValidationError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}
