// Package sns checks the messages Amazon SNS posts to an HTTP(S) subscription — how Amazon SES
// reports bounces, complaints and deliveries — and confirms subscriptions.
//
// A message is accepted only when it is signed by SNS: the signature (SignatureVersion 1,
// SHA1withRSA, or 2, SHA256withRSA) over the canonical string of its type verifies with the
// certificate its SigningCertURL names, and that URL is https on an SNS host
// (sns.<region>.amazonaws.com, or .com.cn), so nobody can point us at a certificate of their
// own. Certificates are cached. On top of that a message must be recent (replays of old
// messages are refused) and, when an allow-list is configured, come from a listed topic: SNS
// signs any topic's messages, including those of a stranger's topic subscribed to our URL.
package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Message types SNS posts.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// DefaultMaxAge is how old a message may be, by its Timestamp, before it is taken for a replay.
// SNS retries a failed delivery for at most about an hour under its default HTTP policy.
const DefaultMaxAge = time.Hour

// maxSkew is how far in the future a Timestamp may be: clocks differ a little.
const maxSkew = 5 * time.Minute

// maxCerts bounds the certificate cache: SNS uses a handful at a time, and URLs are only
// fetched from SNS hosts, so the bound is only against a flood of distinct valid ones.
const maxCerts = 32

// maxFetch bounds what a fetch reads: a certificate is a couple of kilobytes.
const maxFetch = 64 << 10

// ErrRejected is wrapped by every reason a well-formed message is refused: a signature that
// does not verify, a certificate from anywhere but SNS, a topic not on the allow-list, a stale
// timestamp. A webhook answers 403 and changes nothing.
var ErrRejected = errors.New("sns: message rejected")

// ErrUnknownType is returned by Parse for a message whose Type is none of SNS's: it has no
// canonical form to verify, and a webhook answers 400.
var ErrUnknownType = errors.New("sns: unknown message type")

// certHost is the form of an SNS host name: sns.<region>.amazonaws.com, and in China
// sns.<region>.amazonaws.com.cn.
var certHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// Message is one message SNS posts. Field names are SNS's.
type Message struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// Parse reads one message and checks that it has what verifying it needs. A message of a type
// SNS does not send is ErrUnknownType; any other problem is an error saying what is missing.
func Parse(r io.Reader) (*Message, error) {
	var m Message
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sns: the body is not an SNS message (JSON): %w", err)
	}
	switch m.Type {
	case TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
	case "":
		return nil, errors.New("sns: the message has no Type")
	default:
		return nil, fmt.Errorf("%w %q (known: Notification, SubscriptionConfirmation, UnsubscribeConfirmation)", ErrUnknownType, m.Type)
	}
	var missing []string
	for name, v := range map[string]string{
		"MessageId": m.MessageID, "TopicArn": m.TopicArn, "Timestamp": m.Timestamp,
		"SignatureVersion": m.SignatureVersion, "Signature": m.Signature, "SigningCertURL": m.SigningCertURL,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if m.Type != TypeNotification && (m.SubscribeURL == "" || m.Token == "") {
		missing = append(missing, "SubscribeURL and Token")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("sns: the %s message lacks %s", m.Type, strings.Join(missing, ", "))
	}
	return &m, nil
}

// StringToSign returns the canonical string SNS signs for m: the type's fields in byte order
// of their names, each as "name\nvalue\n" (a Notification's Subject only when it has one).
func StringToSign(m *Message) (string, error) {
	type field struct{ name, value string }
	var fields []field
	switch m.Type {
	case TypeNotification:
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			fields = append(fields, field{"Subject", m.Subject})
		}
		fields = append(fields, field{"Timestamp", m.Timestamp}, field{"TopicArn", m.TopicArn}, field{"Type", m.Type})
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	default:
		return "", fmt.Errorf("%w %q", ErrUnknownType, m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.name)
		b.WriteByte('\n')
		b.WriteString(f.value)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// Verifier checks messages. Its zero value is usable: any topic, DefaultMaxAge, certificates
// fetched over HTTPS. Safe for concurrent use.
type Verifier struct {
	// TopicARNs, when not empty, are the only topics whose messages are accepted
	// (SNS_TOPIC_ARNS).
	TopicARNs []string
	// Fetch GETs an https URL on an SNS host and returns its body: a signing certificate, or
	// the answer to a subscription confirmation. An answer other than 200 is an error wrapping
	// ErrRejected (the message named a bad URL); a network error is worth a retry. nil:
	// net/http with a 10-second timeout, no redirects. Tests point it at a server of their own.
	Fetch func(ctx context.Context, url string) ([]byte, error)
	// MaxAge is how old a message may be (0: DefaultMaxAge).
	MaxAge time.Duration

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// Verify accepts m if SNS signed it, it is recent and its topic is allowed; otherwise it
// returns an error wrapping ErrRejected, or another error when the certificate could not be
// fetched (worth retrying later).
func (v *Verifier) Verify(ctx context.Context, m *Message) error {
	if len(v.TopicARNs) > 0 && !slices.Contains(v.TopicARNs, m.TopicArn) {
		return fmt.Errorf("%w: topic not on the allow-list (SNS_TOPIC_ARNS)", ErrRejected)
	}
	at, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: Timestamp is not an ISO 8601 time", ErrRejected)
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if age := time.Since(at); age > maxAge || age < -maxSkew {
		return fmt.Errorf("%w: Timestamp %s is outside the accepted window (a replay?)", ErrRejected, m.Timestamp)
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: unknown SignatureVersion %q", ErrRejected, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrRejected)
	}
	canonical, err := StringToSign(m)
	if err != nil {
		return err
	}
	if err := checkSNSURL(m.SigningCertURL); err != nil {
		return fmt.Errorf("%w: SigningCertURL: %v", ErrRejected, err)
	}
	cert, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("%w: the signing certificate is not valid now", ErrRejected)
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the signing certificate's key is not RSA", ErrRejected)
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest(hash, canonical), sig); err != nil {
		return fmt.Errorf("%w: the signature does not verify", ErrRejected)
	}
	return nil
}

// Confirm confirms the subscription a verified SubscriptionConfirmation asks for, by getting
// its SubscribeURL — only from an SNS host over https, like the certificates.
func (v *Verifier) Confirm(ctx context.Context, m *Message) error {
	if m.Type != TypeSubscriptionConfirmation {
		return fmt.Errorf("sns: confirm: a %s is not a subscription confirmation", m.Type)
	}
	if err := checkSNSURL(m.SubscribeURL); err != nil {
		return fmt.Errorf("%w: SubscribeURL: %v", ErrRejected, err)
	}
	if _, err := v.fetch(ctx, m.SubscribeURL); err != nil {
		return fmt.Errorf("sns: confirm subscription: %w", err)
	}
	return nil
}

func digest(hash crypto.Hash, s string) []byte {
	if hash == crypto.SHA1 {
		sum := sha1.Sum([]byte(s))
		return sum[:]
	}
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// checkSNSURL accepts an https URL on an SNS host, on the default port, without credentials.
func checkSNSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !certHost.MatchString(u.Hostname()) {
		return errors.New("not an https URL on an SNS host (sns.<region>.amazonaws.com)")
	}
	return nil
}

// cert returns the certificate at url, from the cache or fetched.
func (v *Verifier) cert(ctx context.Context, url string) (*x509.Certificate, error) {
	v.mu.Lock()
	c := v.certs[url]
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	body, err := v.fetch(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("sns: fetch signing certificate: %w", err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: SigningCertURL does not serve a PEM certificate", ErrRejected)
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: SigningCertURL does not serve a valid certificate", ErrRejected)
	}
	v.mu.Lock()
	if v.certs == nil || len(v.certs) >= maxCerts {
		v.certs = map[string]*x509.Certificate{}
	}
	v.certs[url] = c
	v.mu.Unlock()
	return c, nil
}

func (v *Verifier) fetch(ctx context.Context, url string) ([]byte, error) {
	if v.Fetch != nil {
		return v.Fetch(ctx, url)
	}
	return fetch(ctx, url)
}

// fetchClient does not follow redirects: the host rule holds for the URL SNS named, and a
// redirect could lead anywhere.
var fetchClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := fetchClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The URL is the message's: a 404 is its fault, not a reason to try again.
		return nil, fmt.Errorf("%w: GET %s answered HTTP %d", ErrRejected, req.URL.Host, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxFetch))
}
