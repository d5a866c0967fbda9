package email

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// Error classifies a failure to send for the queue.
//
// Permanent means trying again cannot help: the server refused this message or recipient with
// a 5xx reply, or the message itself is invalid (ErrInvalidMessage). The delivery fails at once
// (and falls back to SMS when the customer has a phone). Anything else — 4xx replies, timeouts,
// reset connections, dial, TLS and AUTH failures — is retried with backoff. Failures while
// connecting, and refusals of the sender (MAIL FROM), are never permanent even with a 5xx
// reply: they say nothing about the recipient — a relay that wants authentication, a sender
// domain not verified, an account suspended mid-campaign — and failing them permanently would
// fail a whole campaign over the relay. A Pool sets such a relay aside.
type Error struct {
	Permanent bool
	// Code is the SMTP reply code, or 0 when the server gave none (network failure, timeout,
	// invalid message).
	Code int
	// Err is the cause. Its text may quote the server's reply, which often names the
	// recipient's address: record it where personal data may live, never in logs. Error()
	// leaves it out for that reason.
	Err error

	stage   string // "dial", "MAIL FROM", "RCPT TO", "DATA", "message", …
	enhcode string // the enhanced status code (RFC 3463) when the reply had one, e.g. 5.1.1
}

// Error describes the failure without personal data: the stage, the reply code and, for
// failures that are not SMTP replies, the cause (network errors name the relay, not the
// customer).
func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	switch {
	case e.Code != 0 && e.enhcode != "":
		return fmt.Sprintf("email: %s failure at %s: SMTP %d %s", kind, e.stage, e.Code, e.enhcode)
	case e.Code != 0:
		return fmt.Sprintf("email: %s failure at %s: SMTP %d", kind, e.stage, e.Code)
	case errors.Is(e.Err, ErrInvalidMessage):
		// Validation errors name the field, never its value.
		return fmt.Sprintf("email: %s failure: %v", kind, e.Err)
	default:
		return fmt.Sprintf("email: %s failure at %s: %v", kind, e.stage, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Stage returns the step that failed: "dial", "MAIL FROM", "RCPT TO", "DATA", "message body",
// "end of data" (the server's verdict on the whole message), "message" (building it) or "wait"
// (no connection became free before the context ended).
func (e *Error) Stage() string { return e.stage }

// MaybeDelivered reports whether the relay may have taken the message despite the failure:
// the data went out and the relay's verdict was lost (a timeout or a broken connection during
// or after the data, or an answer that is no refusal). Trying again — on this relay or
// another — may then deliver a second copy; a failure before the data (connecting, MAIL FROM,
// RCPT TO, DATA), a refusal at its end, or one that asked nothing of the relay cannot.
func (e *Error) MaybeDelivered() bool {
	switch e.stage {
	case "dial", stageMail, stageRcpt, stageData, "relay", "message", "wait", "capture": // a capture is renamed into place whole, or not at all
		return false
	case stageEnd:
		return e.Code < 400
	default: // stageBody: part of the data may have gone out, and the answer is unknown
		return true
	}
}

// VerdictLost reports whether the whole message went to the relay and its verdict never came
// (no reply before the timeout, or the connection closed while waiting for it): the one
// uncertainty where the relay most likely has the message — a relay slow to answer delivers
// it and is slow again at the next try. A connection lost during the data, or any failure
// before it, more likely delivered nothing.
func (e *Error) VerdictLost() bool { return e.stage == stageEnd && e.Code == 0 }

// RecipientFault reports whether a permanent failure is the recipient's own answer by the
// relay's account of it: a refusal of the recipient (RCPT TO) whose enhanced code (RFC 3463)
// says the address (5.1.x: no such mailbox or domain) or the mailbox (5.2.x: full, disabled)
// is at fault. A bare 550 at RCPT TO may as well be the relay refusing to relay for us, and a
// policy code (5.7.x) the relay's rules: neither is said to be the recipient's.
func (e *Error) RecipientFault() bool {
	return e.Permanent && e.stage == stageRcpt && (strings.HasPrefix(e.enhcode, "5.1.") || strings.HasPrefix(e.enhcode, "5.2."))
}

// smtpError classifies err, which happened at stage of an SMTP transaction (after the
// connection was set up): 5xx replies are permanent but for the sender's (see Error),
// everything else temporary.
func smtpError(stage string, err error) *Error {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return &Error{
			Permanent: reply.Code >= 500 && reply.Code < 600 && stage != stageMail,
			Code:      reply.Code,
			Err:       err,
			stage:     stage,
			enhcode:   enhancedCode(reply.Msg),
		}
	}
	return &Error{Err: err, stage: stage}
}

// dialError classifies a failure to connect, greet, start TLS or authenticate: always
// temporary (see Error).
func dialError(err error) *Error {
	e := smtpError("dial", err)
	e.Permanent = false
	return e
}

// enhancedCode returns the RFC 3463 code that starts an SMTP reply text ("5.1.1 …"), if any.
func enhancedCode(text string) string {
	code, _, _ := strings.Cut(text, " ")
	dots := 0
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return ""
		}
	}
	if dots != 2 || len(code) < 5 || (code[0] != '2' && code[0] != '4' && code[0] != '5') {
		return ""
	}
	return code
}
