package sms

import (
	"net/url"
	"testing"
)

// Twilio's published test vector (Security docs, "Validating Signatures from Twilio").
const (
	vectorURL       = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorToken     = "12345"
	vectorSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
)

func vectorParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestValidSignature_TwilioTestVector(t *testing.T) {
	tampered := vectorParams()
	tampered.Set("Digits", "1235")
	extra := vectorParams()
	extra.Set("MessageStatus", "delivered")
	tests := []struct {
		name       string
		token, url string
		params     url.Values
		signature  string
		want       bool
	}{
		{"official vector", vectorToken, vectorURL, vectorParams(), vectorSignature, true},
		{"same URL with the default port", vectorToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", vectorParams(), vectorSignature, true},
		{"tampered parameter", vectorToken, vectorURL, tampered, vectorSignature, false},
		{"added parameter", vectorToken, vectorURL, extra, vectorSignature, false},
		{"wrong token", "54321", vectorURL, vectorParams(), vectorSignature, false},
		{"other URL", vectorToken, "https://mycompany.com/myapp.php?foo=1&bar=3", vectorParams(), vectorSignature, false},
		{"other port", vectorToken, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", vectorParams(), vectorSignature, false},
		{"no signature", vectorToken, vectorURL, vectorParams(), "", false},
		{"no token", "", vectorURL, vectorParams(), vectorSignature, false},
		{"truncated signature", vectorToken, vectorURL, vectorParams(), vectorSignature[:10], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidSignature(tt.token, tt.url, tt.params, tt.signature); got != tt.want {
				t.Errorf("ValidSignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidSignature_RepeatedParameterOrderDoesNotMatter(t *testing.T) {
	a := url.Values{"Body": {"STOP"}, "Tag": {"b", "a"}}
	b := url.Values{"Tag": {"a", "b"}, "Body": {"STOP"}}
	sig := expectedSignature("secret", "https://notice.example.com/sms/inbound", a)
	if !ValidSignature("secret", "https://notice.example.com/sms/inbound", b, sig) {
		t.Error("the order of a repeated parameter's values changed the signature")
	}
}

func TestURLForms_AddOrRemoveOnlyTheDefaultPort(t *testing.T) {
	tests := map[string][]string{
		"https://h.example/x?a=%2F": {"https://h.example/x?a=%2F", "https://h.example:443/x?a=%2F"},
		"http://h.example:80/x":     {"http://h.example:80/x", "http://h.example/x"},
		"https://[::1]:443/x":       {"https://[::1]:443/x", "https://[::1]/x"},
		"https://h.example:8443/x":  {"https://h.example:8443/x"},
		"https://u:p@h.example/x":   {"https://u:p@h.example/x"},
		"not a url":                 {"not a url"},
	}
	for in, want := range tests {
		got := urlForms(in)
		if len(got) != len(want) || got[0] != want[0] || (len(got) == 2 && got[1] != want[1]) {
			t.Errorf("urlForms(%q) = %q, want %q", in, got, want)
		}
	}
}
