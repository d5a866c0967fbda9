package sms

import (
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// CaptureFile is the name of the local SMS capture inside the outbox directory.
const CaptureFile = "sms.jsonl"

// Settings are Twilio's credentials as the configuration read them (package config):
// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID, and
// TWILIO_API_URL.
type Settings struct {
	AccountSID, AuthToken, From, MessagingServiceSID, APIURL string
}

// NewProvider builds the provider from s. With no setting at all it returns a Capture writing
// to outboxDir/sms.jsonl, so that a quick start never texts a real person.
//
// Half a configuration is an error rather than a silent fallback to the capture: a production
// worker with a token but a mistyped SID would otherwise "send" a whole campaign to a file.
// Errors name the variable and never echo a value (the token is a secret, and the others are
// not worth the risk of a paste mix-up putting the token in one of them).
func NewProvider(s Settings, outboxDir string) (Provider, error) {
	t := &Twilio{
		AccountSID:          strings.TrimSpace(s.AccountSID),
		AuthToken:           strings.TrimSpace(s.AuthToken),
		From:                strings.TrimSpace(s.From),
		MessagingServiceSID: strings.TrimSpace(s.MessagingServiceSID),
		BaseURL:             strings.TrimSpace(s.APIURL),
	}
	if t.AccountSID == "" {
		var set []string
		for name, v := range map[string]string{
			"TWILIO_AUTH_TOKEN": t.AuthToken, "TWILIO_FROM": t.From,
			"TWILIO_MESSAGING_SERVICE_SID": t.MessagingServiceSID, "TWILIO_API_URL": t.BaseURL,
		} {
			if v != "" {
				set = append(set, name)
			}
		}
		if len(set) > 0 {
			slices.Sort(set)
			return nil, errors.New("sms: TWILIO_ACCOUNT_SID: not set, but " + strings.Join(set, ", ") +
				" is; set it to send through Twilio, or unset every TWILIO_* variable to capture SMS locally")
		}
		if outboxDir == "" {
			return nil, errors.New("sms: OUTBOX_DIR: not set, and without TWILIO_ACCOUNT_SID SMS are captured there")
		}
		return &Capture{Path: filepath.Join(outboxDir, CaptureFile)}, nil
	}

	var errs []error
	if !isSID(t.AccountSID, "AC") {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits (Twilio console, Account Info)"))
	}
	if t.AuthToken == "" {
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN: not set (required with TWILIO_ACCOUNT_SID)"))
	}
	switch {
	case t.From != "" && t.MessagingServiceSID != "":
		errs = append(errs, errors.New("TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID: both set; set only one (the Messaging Service chooses the sender itself)"))
	case t.From == "" && t.MessagingServiceSID == "":
		errs = append(errs, errors.New("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID: one is required with TWILIO_ACCOUNT_SID"))
	case t.From != "" && !validSender(t.From):
		errs = append(errs, errors.New("TWILIO_FROM: must be an E.164 number (+14155550100), a short code, or an alphanumeric sender ID of up to 11 characters with at least one letter"))
	case t.MessagingServiceSID != "" && !isSID(t.MessagingServiceSID, "MG"):
		errs = append(errs, errors.New("TWILIO_MESSAGING_SERVICE_SID: must be MG followed by 32 hex digits"))
	}
	if t.BaseURL != "" {
		if err := checkAPIURL(t.BaseURL); err != nil {
			errs = append(errs, err)
		}
		t.BaseURL = strings.TrimRight(t.BaseURL, "/")
	}
	if len(errs) > 0 {
		return nil, errors.Join(append([]error{errors.New("sms: Twilio configuration")}, errs...)...)
	}
	return t, nil
}

// checkAPIURL accepts an http(s) URL with a host and nothing after the path: Send appends the
// API's own path, so a query or fragment would end up in the wrong place.
func checkAPIURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("TWILIO_API_URL: must be an http(s) URL with a host and no query, e.g. https://api.twilio.com or http://127.0.0.1:8081")
	}
	return nil
}

// isSID reports whether s is prefix followed by 32 lowercase or uppercase hex digits, the form
// of every Twilio SID. Checking it catches the token pasted into the SID's variable at start-up
// rather than as a 401 on the first send.
func isSID(s, prefix string) bool {
	if len(s) != len(prefix)+32 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// validSender accepts what Twilio accepts as From for SMS: an E.164 number, a short code (3 to
// 8 digits), or an alphanumeric sender ID (1 to 11 of A-Z a-z 0-9 space + - _ & ., at least
// one letter).
func validSender(s string) bool {
	if isE164(s) {
		return true
	}
	if len(s) == 0 || len(s) > 11 {
		return false
	}
	digits, letters := 0, 0
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letters++
		case strings.ContainsRune(" +-_&.", c):
		default:
			return false
		}
	}
	if letters == 0 {
		return digits == len(s) && digits >= 3 && digits <= 8 // short code
	}
	return true
}
