package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTwilioURL is the API Twilio.Send posts to unless BaseURL says otherwise.
const DefaultTwilioURL = "https://api.twilio.com"

// Twilio error codes that change what the queue does. Delivery errors (30xxx) are not here:
// they arrive later through status callbacks.
const (
	codeAuthenticate    = 20003 // bad credentials
	codeTooManyRequests = 20429 // rate limited (normally with HTTP 429)
	codeInvalidTo       = 21211 // the To number is not a valid phone number
	codeUnsubscribed    = 21610 // the recipient replied STOP to this sender
	codeNotMobile       = 21614 // the To number cannot receive SMS (landline)
)

// maxResponse bounds how much of an answer Send reads: Twilio's are a few hundred bytes, and a
// misconfigured TWILIO_API_URL must not make a worker buffer a web page.
const maxResponse = 64 << 10

// Twilio sends through Twilio's Programmable Messaging API. Fill in the fields (NewProvider does it
// from the environment); the zero values of BaseURL and Client are usable. Safe for concurrent
// use once configured.
type Twilio struct {
	AccountSID, AuthToken string
	From                  string       // a phone number or alphanumeric sender ID, or
	MessagingServiceSID   string       // a Messaging Service (one of From or MessagingServiceSID)
	BaseURL               string       // default https://api.twilio.com; TWILIO_API_URL overrides it (tests)
	Client                *http.Client // default: one with a 15 s timeout
}

// defaultClient is shared by every Twilio without a Client, so that all workers reuse one pool
// of keep-alive connections. Its transport keeps many idle connections to the one host it talks
// to (net/http keeps 2 by default, which makes a busy worker pool redial constantly), and it
// does not follow redirects: a redirected POST would silently become a GET.
var defaultClient = &http.Client{
	Timeout: 15 * time.Second,
	Transport: func() http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		return t
	}(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// twilioError is the body of Twilio's error answers. Its "message" is deliberately not decoded:
// Twilio quotes the To number in it ("The 'To' number +1… is not a valid phone number").
type twilioError struct {
	Code int `json:"code"`
}

// Send posts m to the Messages resource and returns the new message's SID ("SM…"). Every error
// is an *Error classified for the queue: 429, 5xx, Twilio code 20429, network errors and
// timeouts are transient; other 4xx are permanent, and code 21610 (the recipient replied STOP)
// is also OptedOut. A cancelled ctx abandons the request at once (a transient *Error wrapping
// ctx.Err()).
func (t *Twilio) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(); err != nil {
		return "", &Error{Permanent: true, Err: fmt.Errorf("twilio: %w", err)}
	}
	if err := t.check(); err != nil {
		return "", err
	}
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	if t.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", t.MessagingServiceSID)
	} else {
		form.Set("From", t.From)
	}
	if m.StatusCallback != "" {
		form.Set("StatusCallback", m.StatusCallback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", permanent("twilio: building the request (check TWILIO_API_URL): %w", unwrapURLError(err))
	}
	req.SetBasicAuth(t.AccountSID, t.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "breachnotice")

	client := t.Client
	if client == nil {
		client = defaultClient
	}
	// Whether the request reached Twilio: before its headers are written (a connection, TLS or
	// proxy failure) nothing can have been sent.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}))
	resp, err := client.Do(req)
	if err != nil {
		return "", transportError(ctx, "sending", err, wrote.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", transportError(ctx, "reading the answer", err, true)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var ok struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(body, &ok); err != nil || ok.SID == "" {
			// Transient although Twilio may have queued the message: losing a notice is
			// worse than the rare duplicate a retry risks.
			return "", &Error{Status: resp.StatusCode, MaybeSent: true, Err: errors.New("twilio: accepted the request but returned no message sid")}
		}
		return ok.SID, nil
	}
	var te twilioError
	_ = json.Unmarshal(body, &te) // best effort: proxies in front of Twilio answer in HTML
	return "", classify(resp.StatusCode, te.Code)
}

// check reports a configuration Send cannot work with. It runs on every Send because Twilio is
// a plain struct anyone can fill in; NewProvider reports the same mistakes by variable name.
func (t *Twilio) check() error {
	switch {
	case t.AccountSID == "" || t.AuthToken == "":
		return permanent("twilio: AccountSID and AuthToken are required (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
	case (t.From == "") == (t.MessagingServiceSID == ""):
		return permanent("twilio: exactly one of From and MessagingServiceSID is required (TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID)")
	}
	return nil
}

func (t *Twilio) endpoint() string {
	base := t.BaseURL
	if base == "" {
		base = DefaultTwilioURL
	}
	return strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(t.AccountSID) + "/Messages.json"
}

// classify maps Twilio's answer to what the queue should do. The order matters: the code is
// more specific than the status, except that a 5xx is always worth retrying.
func classify(status, code int) *Error {
	e := &Error{Status: status, Code: code}
	var reason string
	switch {
	case code == codeUnsubscribed:
		e.Permanent, e.OptedOut = true, true
		reason = "the recipient has opted out of messages from this sender"
	case status == http.StatusTooManyRequests || code == codeTooManyRequests:
		reason = "rate limited by Twilio"
	case status >= 500:
		e.MaybeSent = true // a proxy's or Twilio's failure after taking the request
		reason = "Twilio is unavailable"
	case status == http.StatusUnauthorized || code == codeAuthenticate:
		// Our account's problem, not the customer's: retried while it is fixed, never a
		// campaign's SMS failed for good over a wrong token.
		reason = "authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
	case code == codeInvalidTo:
		e.Permanent, e.RecipientFault = true, true
		reason = "the To number is not a valid phone number"
	case code == codeNotMobile:
		e.Permanent, e.RecipientFault = true, true
		reason = "the To number is not a mobile number"
	case status == http.StatusRequestTimeout:
		reason = "Twilio timed out reading the request"
	case status >= 400:
		e.Permanent = true
		reason = "Twilio refused the message"
	case status >= 300 && status < 400:
		// Twilio does not redirect API calls: TWILIO_API_URL points somewhere else, and no
		// retry will fix that.
		e.Permanent = true
		reason = "unexpected redirect: check TWILIO_API_URL"
	default:
		e.Permanent = true
		reason = "unexpected answer"
	}
	if code != 0 {
		// Our own link, not the answer's more_info: nothing from the answer's text reaches
		// the error.
		reason += fmt.Sprintf(" (https://www.twilio.com/docs/errors/%d)", code)
	}
	e.Err = errors.New("twilio: " + reason)
	return e
}

// transportError classifies a failure to get an answer: always transient, since the message
// may simply not have left — and possibly sent (maybe) once the request reached Twilio. It
// drops the *url.Error around err because that one quotes the URL, which carries the account
// SID.
func transportError(ctx context.Context, doing string, err error, maybe bool) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{MaybeSent: maybe, Err: fmt.Errorf("twilio: %s abandoned: %w", doing, ctxErr)}
	}
	return &Error{MaybeSent: maybe, Err: fmt.Errorf("twilio: %s: %w", doing, unwrapURLError(err))}
}

func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
