package sns_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/sns"
	"github.com/breachnotice/breachnotice/internal/sns/snstest"
)

func signer(t *testing.T) *snstest.Signer {
	t.Helper()
	s, err := snstest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signed(t *testing.T, s *snstest.Signer, m *sns.Message, version string) *sns.Message {
	t.Helper()
	if err := s.Sign(m, version); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerify_AcceptsBothSignatureVersionsAndFetchesTheCertificateOnce(t *testing.T) {
	s := signer(t)
	var fetches atomic.Int32
	v := &sns.Verifier{Fetch: func(ctx context.Context, url string) ([]byte, error) {
		fetches.Add(1)
		return s.Fetch(ctx, url)
	}}
	for _, version := range []string{"1", "2"} {
		for _, subject := range []string{"", "Amazon SES Email Event Notification"} {
			m := snstest.Notification("id-"+version, `{"notificationType":"Delivery"}`)
			m.Subject = subject
			if err := v.Verify(t.Context(), signed(t, s, m, version)); err != nil {
				t.Errorf("version %s, subject %q: %v", version, subject, err)
			}
		}
	}
	c := signed(t, s, snstest.Confirmation("c1", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"), "2")
	if err := v.Verify(t.Context(), c); err != nil {
		t.Errorf("subscription confirmation: %v", err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the certificate was fetched %d times, want once (cached)", n)
	}
}

func TestVerify_RejectsAlteredForgedStaleAndForeignMessages(t *testing.T) {
	s, other := signer(t), signer(t)
	tests := map[string]func(m *sns.Message){
		"altered message": func(m *sns.Message) { m.Message = strings.Replace(m.Message, "Delivery", "Bounce", 1) },
		"subject added":   func(m *sns.Message) { m.Subject = "added after signing" },
		"other key":       func(m *sns.Message) { other.Sign(m, "2") },
		"no signature":    func(m *sns.Message) { m.Signature = "" },
		"unknown version": func(m *sns.Message) { m.SignatureVersion = "3" },
		"stale": func(m *sns.Message) {
			m.Timestamp = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
			s.Sign(m, "2")
		},
		"from the future": func(m *sns.Message) {
			m.Timestamp = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			s.Sign(m, "2")
		},
		"bad timestamp": func(m *sns.Message) { m.Timestamp = "yesterday"; s.Sign(m, "2") },
		"http cert URL": func(m *sns.Message) { m.SigningCertURL = "http://sns.us-east-1.amazonaws.com/c.pem"; s.Sign(m, "2") },
		"foreign cert host": func(m *sns.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com.evil.example/c.pem"
			s.Sign(m, "2")
		},
		"look-alike host": func(m *sns.Message) { m.SigningCertURL = "https://sns-us-east-1.amazonaws.com/c.pem"; s.Sign(m, "2") },
		"cert URL with port": func(m *sns.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com:8443/c.pem"
			s.Sign(m, "2")
		},
		"cert URL with user": func(m *sns.Message) {
			m.SigningCertURL = "https://evil.example@sns.us-east-1.amazonaws.com/c.pem"
			s.Sign(m, "2")
		},
	}
	fetched := ""
	v := &sns.Verifier{Fetch: func(ctx context.Context, url string) ([]byte, error) {
		fetched = url
		return s.Fetch(ctx, url)
	}}
	for name, alter := range tests {
		t.Run(name, func(t *testing.T) {
			fetched = ""
			m := signed(t, s, snstest.Notification("n1", `{"notificationType":"Delivery"}`), "2")
			alter(m)
			err := v.Verify(t.Context(), m)
			if !errors.Is(err, sns.ErrRejected) {
				t.Errorf("Verify = %v, want ErrRejected", err)
			}
			if fetched != "" && fetched != snstest.CertURL {
				t.Errorf("fetched %s: a certificate from outside SNS", fetched)
			}
		})
	}
}

func TestVerify_TopicAllowList(t *testing.T) {
	s := signer(t)
	m := signed(t, s, snstest.Notification("n1", "{}"), "1")
	if err := (&sns.Verifier{Fetch: s.Fetch, TopicARNs: []string{snstest.TopicArn}}).Verify(t.Context(), m); err != nil {
		t.Errorf("listed topic: %v", err)
	}
	err := (&sns.Verifier{Fetch: s.Fetch, TopicARNs: []string{"arn:aws:sns:eu-west-1:123456789012:other"}}).Verify(t.Context(), m)
	if !errors.Is(err, sns.ErrRejected) {
		t.Errorf("unlisted topic: %v, want ErrRejected", err)
	}
}

func TestVerify_CertificateFetchFailureIsNotARejection(t *testing.T) {
	s := signer(t)
	v := &sns.Verifier{Fetch: func(context.Context, string) ([]byte, error) { return nil, errors.New("network down") }}
	err := v.Verify(t.Context(), signed(t, s, snstest.Notification("n1", "{}"), "2"))
	if err == nil || errors.Is(err, sns.ErrRejected) {
		t.Errorf("Verify = %v, want an error worth retrying, not a rejection", err)
	}
}

func TestParse_UnknownTypesAndIncompleteMessages(t *testing.T) {
	if _, err := sns.Parse(strings.NewReader(`{"Type":"Surprise","MessageId":"x"}`)); !errors.Is(err, sns.ErrUnknownType) {
		t.Errorf("unknown type: %v, want ErrUnknownType", err)
	}
	for name, body := range map[string]string{
		"not JSON":             "Type=Notification",
		"no type":              `{"MessageId":"x"}`,
		"unsigned":             `{"Type":"Notification","MessageId":"x","TopicArn":"t","Timestamp":"2026-01-01T00:00:00Z","Message":"{}"}`,
		"confirmation without": `{"Type":"SubscriptionConfirmation","MessageId":"x","TopicArn":"t","Timestamp":"2026-01-01T00:00:00Z","SignatureVersion":"1","Signature":"AA==","SigningCertURL":"https://sns.us-east-1.amazonaws.com/c.pem"}`,
	} {
		if _, err := sns.Parse(strings.NewReader(body)); err == nil || errors.Is(err, sns.ErrUnknownType) {
			t.Errorf("%s: Parse = %v, want an error saying what is wrong", name, err)
		}
	}
}

func TestConfirm_GetsTheSubscribeURLOnlyOnAnSNSHost(t *testing.T) {
	s := signer(t)
	var got string
	v := &sns.Verifier{Fetch: func(_ context.Context, url string) ([]byte, error) {
		got = url
		return []byte("<ConfirmSubscriptionResponse/>"), nil
	}}
	ok := "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=y"
	if err := v.Confirm(t.Context(), signed(t, s, snstest.Confirmation("c1", ok), "2")); err != nil || got != ok {
		t.Errorf("Confirm = %v, fetched %q; want %q", err, got, ok)
	}
	got = ""
	err := v.Confirm(t.Context(), signed(t, s, snstest.Confirmation("c2", "https://attacker.example/?Action=ConfirmSubscription"), "2"))
	if !errors.Is(err, sns.ErrRejected) || got != "" {
		t.Errorf("Confirm of a foreign URL = %v, fetched %q; want ErrRejected and no request", err, got)
	}
}
