package sms

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNewProvider_ChoosesTheProviderAndNamesTheVariableInErrors(t *testing.T) {
	const secret = "5ecre75ecre75ecre75ecre75ecre7aa"
	tests := []struct {
		name    string
		env     map[string]string
		outbox  string
		check   func(t *testing.T, p Provider)
		wantErr []string // each must appear in the error
	}{
		{
			name: "nothing set: local capture in the outbox", outbox: "/var/outbox",
			check: func(t *testing.T, p Provider) {
				if c, ok := p.(*Capture); !ok || c.Path != filepath.Join("/var/outbox", "sms.jsonl") {
					t.Errorf("got %#v", p)
				}
			},
		},
		{
			name: "from number",
			env:  map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006"},
			check: func(t *testing.T, p Provider) {
				tw, ok := p.(*Twilio)
				if !ok || tw.AccountSID != testSID || tw.AuthToken != secret || tw.From != "+15005550006" || tw.MessagingServiceSID != "" || tw.BaseURL != "" {
					t.Errorf("got %#v", p)
				}
			},
		},
		{
			name: "messaging service and API URL for tests",
			env: map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret,
				"TWILIO_MESSAGING_SERVICE_SID": testMG, "TWILIO_API_URL": "http://127.0.0.1:8081/"},
			check: func(t *testing.T, p Provider) {
				tw, ok := p.(*Twilio)
				if !ok || tw.MessagingServiceSID != testMG || tw.From != "" || tw.BaseURL != "http://127.0.0.1:8081" {
					t.Errorf("got %#v", p)
				}
			},
		},
		{
			name: "alphanumeric sender ID",
			env:  map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "ACME Bank"},
			check: func(t *testing.T, p Provider) {
				if tw, ok := p.(*Twilio); !ok || tw.From != "ACME Bank" {
					t.Errorf("got %#v", p)
				}
			},
		},
		{
			name: "short code",
			env:  map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "55512"},
		},
		{
			name:    "token missing",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_FROM": "+15005550006"},
			wantErr: []string{"TWILIO_AUTH_TOKEN"},
		},
		{
			name:    "both sender variables",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006", "TWILIO_MESSAGING_SERVICE_SID": testMG},
			wantErr: []string{"TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID", "only one"},
		},
		{
			name:    "no sender",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret},
			wantErr: []string{"TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"},
		},
		{
			name:    "malformed API URL",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006", "TWILIO_API_URL": "127.0.0.1:8081"},
			wantErr: []string{"TWILIO_API_URL"},
		},
		{
			name:    "API URL with a query",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006", "TWILIO_API_URL": "https://api.twilio.com/?x=" + secret},
			wantErr: []string{"TWILIO_API_URL"},
		},
		{
			name:    "token pasted as the SID",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": secret, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006"},
			wantErr: []string{"TWILIO_ACCOUNT_SID", "AC followed by 32 hex digits"},
		},
		{
			name:    "malformed From",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "0612345678901234"},
			wantErr: []string{"TWILIO_FROM"},
		},
		{
			name:    "malformed messaging service",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": secret, "TWILIO_MESSAGING_SERVICE_SID": "PN" + secret},
			wantErr: []string{"TWILIO_MESSAGING_SERVICE_SID"},
		},
		{
			name:    "token without SID is not silently captured",
			env:     map[string]string{"TWILIO_AUTH_TOKEN": secret, "TWILIO_FROM": "+15005550006"},
			outbox:  "/var/outbox",
			wantErr: []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN, TWILIO_FROM"},
		},
		{
			name:    "capture without an outbox",
			wantErr: []string{"OUTBOX_DIR"},
		},
		{
			name:    "several mistakes at once",
			env:     map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_URL": "ftp://x"},
			wantErr: []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewProvider(Settings{AccountSID: tt.env["TWILIO_ACCOUNT_SID"], AuthToken: tt.env["TWILIO_AUTH_TOKEN"],
				From: tt.env["TWILIO_FROM"], MessagingServiceSID: tt.env["TWILIO_MESSAGING_SERVICE_SID"], APIURL: tt.env["TWILIO_API_URL"]}, tt.outbox)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, p)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, got %#v", p)
			}
			if p != nil {
				t.Errorf("a provider was returned with the error: %#v", p)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}
