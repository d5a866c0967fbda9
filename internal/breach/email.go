package breach

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// maxEmailLength is RFC 5321's limit on a forward path, the longest address an SMTP server
// must accept.
const maxEmailLength = 254

// ParseEmail validates an email address and returns its normalized form: the domain lower-cased
// and, if internationalized, converted to its ASCII (punycode) form; the local part kept as
// written, since RFC 5321 lets servers treat its case as significant, but composed (NFC, as
// RFC 6532 asks of internationalized addresses): josé typed on a Mac (e and a combining accent)
// and on Windows is one mailbox, which must get one notice and match one opt-out. A display-name form such
// as `José <jose@example.com>`, common in CRM exports, is accepted and reduced to the address.
//
// It is deliberately stricter than net/mail: the address must be deliverable on the public
// internet, so the domain needs a dot and a plausible top-level label (`a@b` is refused), and
// quoted local parts and IP-literal domains, legal but never seen in customer lists, are refused.
//
// Its errors are EINVALID and quote the address (clipped): they tell the person who typed it —
// an import's reject reason, a reviewer's typo — and are never logged.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "<>") {
		addr, err := mail.ParseAddress(s)
		if err != nil {
			return "", Errorf(EINVALID, "%q is not an email address", Clip(s))
		}
		s = addr.Address
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", Errorf(EINVALID, "%q is not an email address: it needs a local part, '@' and a domain", Clip(s))
	}
	// Composed before it is checked: composing may make a character the check refuses (= and a
	// combining long solidus are ≠) or lengthen the part past its limit.
	local, domain := norm.NFC.String(s[:at]), s[at+1:]
	if err := checkLocalPart(local); err != nil {
		return "", Errorf(EINVALID, "%q is not an email address: %v", Clip(s), err)
	}
	// A domain ending in a dot is its fully qualified form ("example.com.", or a sentence's full
	// stop typed after the address): the same mailbox, refused before as an "empty label".
	ascii, err := normalizeDomain(strings.TrimSuffix(domain, "."))
	if err != nil {
		return "", Errorf(EINVALID, "%q is not an email address: %v", Clip(s), err)
	}
	out := s // nearly every address is already in its normal form: no copy
	if local != s[:at] || ascii != domain {
		out = local + "@" + ascii
	}
	if len(out) > maxEmailLength {
		return "", Errorf(EINVALID, "email address is %d characters long, more than the %d allowed", len(out), maxEmailLength)
	}
	return out, nil
}

// checkLocalPart accepts RFC 5322 dot-atoms and, per RFC 6531, letters, digits and marks of
// any script — but no invisible or space characters, which would make two addresses look alike.
func checkLocalPart(local string) error {
	if len(local) > 64 {
		return fmt.Errorf("the part before '@' is longer than 64 characters")
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return fmt.Errorf("misplaced '.' before '@'")
	}
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
		case strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r):
		default:
			return fmt.Errorf("character %q is not allowed before '@'", r)
		}
	}
	return nil
}

// normalizeDomain returns the lower-case ASCII form of a public DNS domain name.
//
// Its errors quote the domain clipped; one of over 1 KiB is too long whatever its script (every
// character takes one ASCII character at least once encoded), and is refused before it is
// encoded.
func normalizeDomain(domain string) (string, error) {
	if len(domain) > 1<<10 {
		return "", fmt.Errorf("domain is longer than 253 characters")
	}
	ascii := strings.ToLower(domain)
	if !isASCII(ascii) {
		var err error
		if ascii, err = idna.Lookup.ToASCII(domain); err != nil {
			return "", fmt.Errorf("domain %q is not a valid internationalized domain name", Clip(domain))
		}
	}
	if len(ascii) > 253 {
		return "", fmt.Errorf("domain is longer than 253 characters")
	}
	if !strings.Contains(ascii, ".") {
		return "", fmt.Errorf("domain %q has no dot", Clip(domain))
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if err := checkDomainLabel(label); err != nil {
			return "", fmt.Errorf("domain %q: %w", Clip(domain), err)
		}
	}
	tld := ascii[strings.LastIndexByte(ascii, '.')+1:]
	if len(tld) < 2 || (!strings.HasPrefix(tld, "xn--") && strings.IndexFunc(tld, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0) {
		return "", fmt.Errorf("domain %q does not end in a top-level domain", Clip(domain))
	}
	return ascii, nil
}

func checkDomainLabel(label string) error {
	if label == "" {
		return fmt.Errorf("empty label")
	}
	if len(label) > 63 {
		return fmt.Errorf("label longer than 63 characters")
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return fmt.Errorf("label %q starts or ends with '-'", label)
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("character %q is not allowed in a domain", c)
		}
	}
	return nil
}

// ParseDomain validates and normalizes a bare domain name (a campaign's official domain).
func ParseDomain(s string) (string, error) {
	return normalizeDomain(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

// IsUnderDomain reports whether host is domain itself or one of its subdomains.
func IsUnderDomain(host, domain string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
