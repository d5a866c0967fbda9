package breach

import (
	"strings"
	"testing"
)

func TestParseEmail_ValidAddressesAreNormalized(t *testing.T) {
	tests := []struct{ in, want string }{
		{"maria.quispe@gmail.com", "maria.quispe@gmail.com"},
		{"Maria.Quispe@Gmail.COM", "Maria.Quispe@gmail.com"}, // local part kept as written
		{"  jose@example.com\t", "jose@example.com"},
		{"a+tag@example.com", "a+tag@example.com"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"x_y-z.w@mail.example.co.uk", "x_y-z.w@mail.example.co.uk"},
		{"!#$%&'*+/=?^_`{|}~-@example.org", "!#$%&'*+/=?^_`{|}~-@example.org"},
		{"jürgen@münchen.de", "jürgen@xn--mnchen-3ya.de"},   // RFC 6531 local part, IDN domain
		{"jose\u0301@example.com", "jos\u00e9@example.com"}, // decomposed (a Mac's): composed
		{"Jose\u0301@EXAMPLE.com", "Jos\u00e9@example.com"},
		{"info@MÜNCHEN.DE", "info@xn--mnchen-3ya.de"},
		{"info@xn--mnchen-3ya.de", "info@xn--mnchen-3ya.de"},
		{"user@example.xn--p1ai", "user@example.xn--p1ai"}, // punycode TLD (.рф)
		{"user@пример.рф", "user@xn--e1afmkfd.xn--p1ai"},
		{"José <jose@example.com>", "jose@example.com"},
		{`"Pérez, Ana" <Ana@Example.COM>`, "Ana@example.com"},
		{"<bare@example.com>", "bare@example.com"},
		{strings.Repeat("l", 64) + "@example.com", strings.Repeat("l", 64) + "@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalization is idempotent: a stored address parses to itself.
			if again, err := ParseEmail(got); err != nil || again != got {
				t.Errorf("ParseEmail(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestParseEmail_InvalidAddressesAreRefused(t *testing.T) {
	longDomain := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + ".example.com"
	tests := []struct {
		name, in string
		want     string // substring of the error
	}{
		{"empty", "", "not an email address"},
		{"no dot in domain", "a@b", "no dot"},
		{"no @", "maria.example.com", "needs a local part"},
		{"nothing before @", "@example.com", "needs a local part"},
		{"nothing after @", "maria@", "needs a local part"},
		{"double dot in local part", "maria..quispe@example.com", "misplaced '.'"},
		{"leading dot", ".maria@example.com", "misplaced '.'"},
		{"trailing dot in local part", "maria.@example.com", "misplaced '.'"},
		{"space in local part", "maria quispe@example.com", "not allowed before '@'"},
		{"space in domain", "maria@exam ple.com", "not allowed in a domain"},
		{"two @", "a@b@example.com", "not allowed before '@'"},
		{"quoted local part", `"maria"@example.com`, "not allowed before '@'"},
		{"local part of 65 characters", strings.Repeat("l", 65) + "@example.com", "longer than 64"},
		{"address longer than 254", strings.Repeat("l", 64) + "@" + longDomain, "more than the 254"},
		{"domain longer than 253", "a@" + strings.Repeat("abcdefghi.", 26) + "com", "longer than 253"},
		{"label longer than 63", "a@" + strings.Repeat("x", 64) + ".com", "longer than 63"},
		{"double dot in domain", "a@example..com", "empty label"},
		{"label starting with a hyphen", "a@-example.com", "starts or ends with '-'"},
		{"one-letter TLD", "a@example.c", "top-level domain"},
		{"numeric TLD", "a@example.123", "top-level domain"},
		{"IP literal", "a@[192.168.0.1]", "not allowed in a domain"},
		{"underscore in domain", "a@ex_ample.com", "not allowed in a domain"},
		{"display name without an address", "José <not an address>", "not an email address"},
		{"markup", "<script>@example.com", "not an email address"},
		{"invalid IDN", "a@mün chen.de", "not a valid internationalized domain name"},
		{"a megabyte of local part", strings.Repeat("l", 1<<20) + "@example.com", "longer than 64"},
		{"a megabyte of accented domain", "a@" + strings.Repeat("ü", 1<<19) + " x.de", "longer than 253"},
		{"an accented domain not quite long enough to refuse at once", "a@" + strings.Repeat("ü", 500) + " x.de", "not a valid internationalized domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			if err == nil {
				t.Fatalf("ParseEmail(%q) = %q, want an error", tt.in, got)
			}
			if got != "" {
				t.Errorf("ParseEmail(%q) returned %q with its error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseEmail(%.80q) error %.300q does not mention %q", tt.in, err, tt.want)
			}
			// The person's typo, said as such (400, not 500), and short whatever was typed.
			if ErrorCode(err) != EINVALID || len(err.Error()) > 400 {
				t.Errorf("ParseEmail(%.80q): code %s, %d bytes of message; want EINVALID, short", tt.in, ErrorCode(err), len(err.Error()))
			}
		})
	}
}

func TestParseDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AndinaTel.com.PE", "andinatel.com.pe"},
		{" andinatel.com.pe. ", "andinatel.com.pe"},
		{"münchen.de", "xn--mnchen-3ya.de"},
	}
	for _, tt := range tests {
		if got, err := ParseDomain(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "localhost", "andinatel..com", "https://andinatel.com.pe", "andinatel.com.pe/x"} {
		if got, err := ParseDomain(in); err == nil {
			t.Errorf("ParseDomain(%q) = %q, want an error", in, got)
		}
	}
}

func TestIsUnderDomain(t *testing.T) {
	tests := []struct {
		host, domain string
		want         bool
	}{
		{"andinatel.com.pe", "andinatel.com.pe", true},
		{"www.andinatel.com.pe", "andinatel.com.pe", true},
		{"WWW.AndinaTel.com.pe.", "andinatel.com.pe", true},
		{"a.b.andinatel.com.pe", "andinatel.com.pe", true},
		{"evilandinatel.com.pe", "andinatel.com.pe", false},
		{"andinatel.com.pe.evil.com", "andinatel.com.pe", false},
		{"com.pe", "andinatel.com.pe", false},
	}
	for _, tt := range tests {
		if got := IsUnderDomain(tt.host, tt.domain); got != tt.want {
			t.Errorf("IsUnderDomain(%q, %q) = %v, want %v", tt.host, tt.domain, got, tt.want)
		}
	}
}

// TestParseEmail_LocalPartAllowsLettersNotInvisibles: RFC 6531 admits UTF-8 letters before the
// '@' ("jürgen", "用户"); spaces, controls and invisible format characters are not letters. A
// no-break space pasted from a document makes an address that looks right and bounces; a bidi
// override makes one that reads differently from what it is.
func TestParseEmail_LocalPartAllowsLettersNotInvisibles(t *testing.T) {
	for _, in := range []string{"josé@example.com", "用户@example.com", "Ωμέγα@example.gr"} {
		if _, err := ParseEmail(in); err != nil {
			t.Errorf("ParseEmail(%q): %v", in, err)
		}
	}
	for _, in := range []string{
		"maria\u00a0quispe@example.com",               // no-break space
		"maria\u3000quispe@example.com",               // ideographic space
		"maria\u2003quispe@example.com",               // em space
		"maria\u202equispe@example.com",               // right-to-left override
		"maria\u200bquispe@example.com",               // zero-width space
		"maria\u0085quispe@example.com",               // next line (C1 control)
		"a=\u0338b@example.com",                       // composes to ≠, which a stored address may not hold
		strings.Repeat("\u0958", 21) + "@example.com", // 63 bytes, 126 composed: over 64
	} {
		if got, err := ParseEmail(in); err == nil {
			t.Errorf("ParseEmail(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseEmail_ADomainsTrailingDotIsDropped(t *testing.T) {
	if got, err := ParseEmail("ana@Example.com."); err != nil || got != "ana@example.com" {
		t.Errorf("ParseEmail(ana@Example.com.) = %q, %v; want ana@example.com", got, err)
	}
	if _, err := ParseEmail("ana@example.com.."); err == nil {
		t.Error("ana@example.com.. was accepted")
	}
}
