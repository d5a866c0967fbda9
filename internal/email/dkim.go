package email

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// minRSABits is RFC 8301's floor for DKIM RSA keys: receivers ignore signatures made with
// shorter ones, so a weaker key would sign every notice for nothing.
const minRSABits = 1024

// signedHeaders are the headers the DKIM signature covers: everything a customer relies on to
// trust the notice (who sent it, to whom, about what, when), the one-click opt-out that mailbox
// providers act on, and the MIME structure. A header listed but absent (List-Unsubscribe when a
// message has none) is signed as empty, so it cannot be added in transit either.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "Reply-To",
	"List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted",
	"MIME-Version", "Content-Type",
}

// oversignedHeaders are listed once more in the signature so that a second copy (a forged
// From or Subject prepended to a genuine signed message) breaks it (RFC 6376 §8.15).
var oversignedHeaders = []string{"From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"}

// headerKeys is the h= list: signedHeaders, then oversignedHeaders once more. go-msgauth only
// reads it.
var headerKeys = append(slices.Clone(signedHeaders), oversignedHeaders...)

// DKIM signs outgoing mail.
type DKIM struct {
	Domain   string // the d= domain; its DNS publishes the public key
	Selector string // the s= selector: the key lives at <selector>._domainkey.<domain>
	Signer   crypto.Signer

	// Ed25519Selector and Ed25519, when set, add a second signature, ed25519-sha256 (RFC 8463),
	// beside the RSA one of Signer: receivers that know ed25519 check the short, modern one, the
	// others the RSA one (RFC 8463 §4 expects both for that reason), and one passing signature is
	// enough for DMARC. Its key is published at <Ed25519Selector>._domainkey.<Domain>.
	Ed25519Selector string
	Ed25519         crypto.Signer
}

// LoadDKIM reads the private key at keyFile (DKIM_KEY_FILE): PEM, RSA in PKCS#1 or PKCS#8, or
// ed25519 in PKCS#8.
func LoadDKIM(domain, selector, keyFile string) (*DKIM, error) {
	if keyFile == "" {
		return nil, errors.New("DKIM_KEY_FILE is not set")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("DKIM_KEY_FILE: %w", err)
	}
	signer, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("DKIM_KEY_FILE %s: %w", keyFile, err)
	}
	d := &DKIM{Domain: strings.TrimSpace(domain), Selector: strings.TrimSpace(selector), Signer: signer}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// LoadEd25519 adds the ed25519 key at keyFile (DKIM_ED25519_KEY_FILE, PEM PKCS#8), published
// under selector (DKIM_ED25519_SELECTOR), as d's second signature (see DKIM.Ed25519). d's own
// key must then be RSA: two ed25519 signatures would leave receivers that only know RSA with
// none they can check.
func (d *DKIM) LoadEd25519(selector, keyFile string) error {
	if keyFile == "" {
		return errors.New("DKIM_ED25519_KEY_FILE is not set")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("DKIM_ED25519_KEY_FILE: %w", err)
	}
	signer, err := parsePrivateKey(data)
	if err != nil {
		return fmt.Errorf("DKIM_ED25519_KEY_FILE %s: %w", keyFile, err)
	}
	d.Ed25519Selector, d.Ed25519 = strings.TrimSpace(selector), signer
	return d.validate()
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (want \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE KEY-----\")")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#1 RSA key: %w", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
		}
		switch key := key.(type) {
		case *rsa.PrivateKey:
			return key, nil
		case ed25519.PrivateKey:
			return key, nil
		default:
			return nil, fmt.Errorf("%T keys cannot sign DKIM: use RSA or ed25519", key)
		}
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the key is encrypted: store it unencrypted, readable only by breachnotice")
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
}

// validate checks a DKIM built by hand as well as by LoadDKIM: the domain and selector end
// up inside the DKIM-Signature header, and the key must be one receivers accept.
func (d *DKIM) validate() error {
	if d.Domain == "" {
		return errors.New("DKIM_DOMAIN is not set")
	}
	if d.Selector == "" {
		return errors.New("DKIM_SELECTOR is not set")
	}
	for _, v := range []string{d.Domain, d.Selector, d.Ed25519Selector} {
		if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == ';' || r > '~' }) {
			return fmt.Errorf("DKIM domain or selector %q: spaces, ';' and non-ASCII characters are not allowed (use the punycode form)", v)
		}
	}
	switch key := d.Signer.(type) {
	case nil:
		return errors.New("DKIM has no private key (DKIM_KEY_FILE)")
	case *rsa.PrivateKey:
		if bits := key.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("DKIM_KEY_FILE: RSA key has %d bits; receivers ignore signatures from keys under %d (use 2048)", bits, minRSABits)
		}
	case ed25519.PrivateKey:
	default:
		return fmt.Errorf("DKIM_KEY_FILE: %T keys cannot sign DKIM: use RSA or ed25519", key)
	}
	if d.Ed25519 == nil && d.Ed25519Selector == "" {
		return nil
	}
	switch {
	case d.Ed25519 == nil:
		return errors.New("DKIM_ED25519_SELECTOR is set without a key (DKIM_ED25519_KEY_FILE)")
	case d.Ed25519Selector == "":
		return errors.New("DKIM_ED25519_SELECTOR is not set: the ed25519 key needs a selector of its own")
	case d.Ed25519Selector == d.Selector:
		return errors.New("DKIM_ED25519_SELECTOR is DKIM_SELECTOR: each key needs a selector of its own (one DNS record each)")
	}
	if _, ok := d.Ed25519.(ed25519.PrivateKey); !ok {
		return fmt.Errorf("DKIM_ED25519_KEY_FILE: the key is %T, not ed25519", d.Ed25519)
	}
	if _, ok := d.Signer.(*rsa.PrivateKey); !ok {
		return errors.New("DKIM_KEY_FILE must be an RSA key when DKIM_ED25519_KEY_FILE is set: the second signature is the ed25519 one, the first is for receivers that only know RSA")
	}
	return nil
}

// sign returns raw's DKIM-Signature header field, or two of them (ed25519 first) with an
// Ed25519 key, to be written before raw. Neither signature covers the other: each is computed
// over raw alone.
//
// Signing uses emersion/go-msgauth rather than go-mail's built-in signer: go-mail v0.8.1 folds
// the DKIM-Signature header in the middle of the h= list once it is longer than a line, which
// the headers above always make it, while hashing the unfolded form — so receivers reject the
// signature. go-msgauth folds only where the canonical form allows it.
func (d *DKIM) sign(raw []byte) (string, error) {
	sig, err := d.signature(raw, d.Selector, d.Signer)
	if err != nil {
		return "", err
	}
	if d.Ed25519 == nil {
		return sig, nil
	}
	edSig, err := d.signature(raw, d.Ed25519Selector, d.Ed25519)
	if err != nil {
		return "", err
	}
	return edSig + sig, nil
}

// signature is the DKIM-Signature header field (with its CRLF) of raw by key, published under
// selector.
//
// Both canonicalizations are relaxed: relays re-fold long headers and trim trailing spaces,
// and a notice whose signature breaks in transit lands in spam.
func (d *DKIM) signature(raw []byte, selector string, key crypto.Signer) (string, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               selector,
		Signer:                 key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             headerKeys,
	})
	if err != nil {
		return "", fmt.Errorf("DKIM sign: %w", err)
	}
	if _, err := s.Write(raw); err != nil {
		s.Close()
		return "", fmt.Errorf("DKIM sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return "", fmt.Errorf("DKIM sign: %w", err)
	}
	return s.Signature(), nil
}
