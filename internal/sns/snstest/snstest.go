// Package snstest signs Amazon SNS messages as SNS does, with a self-signed certificate of its
// own, for the tests of code that verifies them (package sns and the webhooks built on it).
package snstest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/breachnotice/breachnotice/internal/sns"
)

// CertURL is where messages say the certificate is: https on an SNS host, as the verifier
// demands. Serve it with Signer.Fetch.
const CertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-snstest.pem"

// TopicArn is the topic the messages of Notification and Confirmation come from.
const TopicArn = "arn:aws:sns:us-east-1:123456789012:breachnotice-ses"

// Signer holds a key and its self-signed certificate.
type Signer struct {
	key     *rsa.PrivateKey
	certPEM []byte
}

// NewSigner makes a fresh RSA key and a certificate for it, valid for a day.
func NewSigner() (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("snstest: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("snstest: %w", err)
	}
	return &Signer{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// CertPEM returns the certificate, PEM-encoded, as SNS serves its own.
func (s *Signer) CertPEM() []byte { return s.certPEM }

// Fetch serves the certificate at CertURL, as a sns.Verifier's Fetch: any other URL is an
// error.
func (s *Signer) Fetch(_ context.Context, url string) ([]byte, error) {
	if url != CertURL {
		return nil, errors.New("snstest: nothing served at " + url)
	}
	return s.certPEM, nil
}

// Sign sets m's SigningCertURL (to CertURL, unless set), SignatureVersion ("1" for SHA1withRSA,
// "2" for SHA256withRSA) and Signature.
func (s *Signer) Sign(m *sns.Message, version string) error {
	if m.SigningCertURL == "" {
		m.SigningCertURL = CertURL
	}
	m.SignatureVersion = version
	canonical, err := sns.StringToSign(m)
	if err != nil {
		return err
	}
	var (
		hash crypto.Hash
		sum  []byte
	)
	switch version {
	case "1":
		h := sha1.Sum([]byte(canonical))
		hash, sum = crypto.SHA1, h[:]
	case "2":
		h := sha256.Sum256([]byte(canonical))
		hash, sum = crypto.SHA256, h[:]
	default:
		return fmt.Errorf("snstest: unknown SignatureVersion %q", version)
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, sum)
	if err != nil {
		return fmt.Errorf("snstest: %w", err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// Notification returns an unsigned Notification from TopicArn carrying message, timestamped
// now.
func Notification(id, message string) *sns.Message {
	return &sns.Message{Type: sns.TypeNotification, MessageID: id, TopicArn: TopicArn, Message: message,
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
}

// Confirmation returns an unsigned SubscriptionConfirmation from TopicArn asking to GET
// subscribeURL, timestamped now.
func Confirmation(id, subscribeURL string) *sns.Message {
	return &sns.Message{Type: sns.TypeSubscriptionConfirmation, MessageID: id, TopicArn: TopicArn, Token: "token-" + id,
		Message:      "You have chosen to subscribe to the topic " + TopicArn + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL: subscribeURL, Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
}
