package email

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	const secret = "Pa55:w@rd!"
	tests := []struct {
		name    string
		raw     string
		want    Config
		wantErr string
	}{
		{"smtp defaults to STARTTLS on 587", "smtp://user:pass@mail.example.com",
			Config{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass", TLS: TLSStartTLS, Timeout: DefaultTimeout}, ""},
		{"smtps defaults to implicit TLS on 465", "smtps://user:pass@mail.example.com",
			Config{Host: "mail.example.com", Port: 465, Username: "user", Password: "pass", TLS: TLSImplicit, Timeout: DefaultTimeout}, ""},
		{"explicit starttls and port", "smtp://u:p@mail.example.com:2525?tls=starttls",
			Config{Host: "mail.example.com", Port: 2525, Username: "u", Password: "p", TLS: TLSStartTLS, Timeout: DefaultTimeout}, ""},
		{"tls=none for a local sink", "smtp://127.0.0.1:1025?tls=none",
			Config{Host: "127.0.0.1", Port: 1025, TLS: TLSNone, Timeout: DefaultTimeout}, ""},
		{"percent-encoded password", "smtp://user%40example.com:Pa55%3Aw%40rd%21@mail.example.com",
			Config{Host: "mail.example.com", Port: 587, Username: "user@example.com", Password: secret, TLS: TLSStartTLS, Timeout: DefaultTimeout}, ""},
		{"timeout parameter", "smtp://mail.example.com?timeout=5s",
			Config{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS, Timeout: 5 * time.Second}, ""},
		{"IPv6 host", "smtp://[::1]:25?tls=none",
			Config{Host: "::1", Port: 25, TLS: TLSNone, Timeout: DefaultTimeout}, ""},

		{"bad scheme", "http://user:" + secret + "@mail.example.com", Config{}, "scheme"},
		{"no scheme", "mail.example.com:587", Config{}, "SMTP_URL"},
		{"missing host", "smtp://user:" + secret + "@:587", Config{}, "no host"},
		{"bad port", "smtp://mail.example.com:99999", Config{}, "port"},
		{"unknown tls mode", "smtp://mail.example.com?tls=nnone", Config{}, "tls="},
		{"smtps with tls=none", "smtps://mail.example.com?tls=none", Config{}, "smtps"},
		{"unknown parameter", "smtp://mail.example.com?tsl=none", Config{}, "tsl"},
		{"bad timeout", "smtp://mail.example.com?timeout=soon", Config{}, "timeout"},
		{"password without user", "smtp://:" + secret + "@mail.example.com", Config{}, "user name"},
		{"unparseable URL keeps password secret", "smtp://user:" + secret + " x@mail.example.com\x7f", Config{}, "SMTP_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseURL: %v", err)
				}
				if got != tt.want {
					t.Fatalf("ParseURL = %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseURL succeeded (%v), want an error", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, "SMTP_URL") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q should name SMTP_URL and mention %q", msg, tt.wantErr)
			}
			for _, leak := range []string{secret, "Pa55"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q repeats the password", msg)
				}
			}
		})
	}
}

func TestConfig_StringHidesPassword(t *testing.T) {
	cfg, err := ParseURL("smtps://user:hunter2@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q shows the password", s)
		}
	}
}
