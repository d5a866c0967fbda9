// Package sms sends the SMS notices: a Provider interface the sending engine depends on, a
// Twilio implementation (Programmable Messaging API, standard library only), a local Capture
// for development, and the check of Twilio's webhook signatures.
//
// Nothing in this package logs, and no error it returns contains a message body, an auth token
// or a recipient's number: errors end up in logs and in the delivery record, which outlive the
// purge of a campaign's personal data.
package sms

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Message is one SMS to send.
type Message struct {
	To   string // E.164, e.g. +14155550100
	Body string
	// StatusCallback is the URL the provider calls with delivery reports (empty: none).
	StatusCallback string
}

// validate catches what no provider could send, so that the queue fails the delivery at once
// instead of paying for a request (and, with Twilio, an error on the account's record).
func (m Message) validate() error {
	if !isE164(m.To) {
		return errors.New("the To number is not in E.164 form (+ and up to 15 digits)")
	}
	if strings.TrimSpace(m.Body) == "" {
		return errors.New("the message body is empty")
	}
	return nil
}

// Provider sends SMS. Implementations: Twilio, Capture. Implementations are safe for concurrent
// use: the engine shares one among all its workers.
type Provider interface {
	// Send submits the message and returns the provider's message ID, or an *Error. A nil
	// error means the provider accepted the message, not that it was delivered: delivery
	// reports arrive later at m.StatusCallback.
	Send(ctx context.Context, m Message) (id string, err error)
}

// Error classifies a failure for the queue, which must decide between retrying later, failing
// the delivery and suppressing it, without reading messages.
//
// A transient error (Permanent false) is ambiguous: after a timeout or a 5xx the provider may
// have accepted the message anyway, so a retry can, rarely, send it twice. That is the price of
// never losing a notice.
type Error struct {
	Permanent bool // retrying cannot help: the delivery fails (or is suppressed) at once
	// OptedOut: the recipient has opted out of messages from this sender (Twilio 21610): the
	// delivery is suppressed, not failed. OptedOut implies Permanent.
	OptedOut bool
	Code     int // the provider's error code (Twilio's "code"), 0 if none
	Status   int // HTTP status, 0 if no response
	// MaybeSent: the request reached the provider and its answer was lost or said nothing
	// (a timeout or a reset after the request went out, a 5xx, a 2xx without a message ID):
	// the message may be on its way, and a retry may send it twice — recorded so (a possible
	// duplicate) rather than silently.
	MaybeSent bool
	// RecipientFault: the provider says the number itself cannot take the message (not a
	// valid number, a landline): this customer's answer, not the sender's or the provider's
	// trouble — a run of them is no reason to stop the campaign.
	RecipientFault bool
	Err            error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sms: ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("send failed")
	}
	switch {
	case e.Status != 0 && e.Code != 0:
		fmt.Fprintf(&b, " (HTTP %d, code %d)", e.Status, e.Code)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	case e.Code != 0:
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	return b.String()
}

// Unwrap lets callers test for context.Canceled, context.DeadlineExceeded and the like.
func (e *Error) Unwrap() error { return e.Err }

// permanent is the *Error for a message or configuration no retry can fix.
func permanent(format string, args ...any) *Error {
	return &Error{Permanent: true, Err: fmt.Errorf(format, args...)}
}

// isE164 reports whether s is "+" followed by 2 to 15 digits, the first not 0. It checks the
// shape only; the importer has already checked that the number exists (internal/phone).
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
