package email

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimRecord is the DNS TXT record that publishes signer's public key.
func dkimRecord(t testing.TB, signer crypto.Signer) string {
	t.Helper()
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		t.Fatalf("unexpected key type %T", pub)
		return ""
	}
}

// verifyDKIM checks raw's DKIM signatures against a DNS holding record at
// sel._domainkey.example.com and returns the one verification.
func verifyDKIM(t *testing.T, raw []byte, record string) *dkim.Verification {
	t.Helper()
	lookup := func(domain string) ([]string, error) {
		if domain != "sel._domainkey.example.com" {
			return nil, fmt.Errorf("no TXT record for %s", domain)
		}
		return []string{record}, nil
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("found %d DKIM signatures, want 1", len(vs))
	}
	return vs[0]
}

func testKeys(t testing.TB) map[string]crypto.Signer {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"rsa-2048": rsaKey, "ed25519": edKey}
}

func TestSender_DKIMSignatureVerifiesAtTheReceiver(t *testing.T) {
	for name, key := range testKeys(t) {
		t.Run(name, func(t *testing.T) {
			snk := newSink(t)
			d := &DKIM{Domain: "example.com", Selector: "sel", Signer: key}
			s := NewSender(snk.config(), d, 1)
			defer s.Close()

			m := testMessage("customer@example.net")
			m.Subject = "Notice of Data Breach — votre référence BN-7Q2K-9XH4, a subject long enough to be folded over several lines"
			if _, err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := snk.received()
			if len(got) != 1 {
				t.Fatalf("received %d messages, want 1", len(got))
			}

			v := verifyDKIM(t, got[0].Data, dkimRecord(t, key))
			if v.Err != nil {
				t.Fatalf("DKIM verification failed: %v\n%s", v.Err, got[0].Data)
			}
			if v.Domain != "example.com" {
				t.Errorf("d= %q, want example.com", v.Domain)
			}
			keys := make([]string, len(v.HeaderKeys))
			for i, k := range v.HeaderKeys {
				keys[i] = strings.ToLower(k)
			}
			for _, h := range []string{"from", "to", "subject", "date", "message-id",
				"list-unsubscribe", "list-unsubscribe-post", "mime-version", "content-type"} {
				if !slices.Contains(keys, h) {
					t.Errorf("signature does not cover %s (h=%v)", h, v.HeaderKeys)
				}
			}
		})
	}
}

func TestBuild_DKIMSignatureBreaksWhenUnsubscribeHeaderIsTamperedWith(t *testing.T) {
	key := testKeys(t)["ed25519"]
	raw, err := Build(testMessage("customer@example.net"), &DKIM{Domain: "example.com", Selector: "sel", Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(raw, []byte("https://notice.example.com/u/tok_abc.def"), []byte("https://evil.example/u/x"), 1)
	if bytes.Equal(tampered, raw) {
		t.Fatal("test did not find the List-Unsubscribe URL to tamper with")
	}
	if v := verifyDKIM(t, tampered, dkimRecord(t, key)); v.Err == nil {
		t.Fatal("a message with a changed List-Unsubscribe still verifies")
	}
}

func TestLoadDKIM_ReadsRSAAndEd25519PEM(t *testing.T) {
	keys := testKeys(t)
	rsaKey := keys["rsa-2048"].(*rsa.PrivateKey)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	// Go refuses to make RSA keys under 1024 bits unless told otherwise.
	t.Setenv("GODEBUG", "rsa1024min=0")
	smallRSA, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     []byte
		wantErr string
	}{
		{"rsa pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), ""},
		{"rsa pkcs8", pkcs8(rsaKey), ""},
		{"ed25519 pkcs8", pkcs8(keys["ed25519"]), ""},
		{"not pem", []byte("hello"), "no PEM block"},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "not a private key"},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		{"short rsa", pkcs8(smallRSA), "512 bits"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".pem")
			if err := os.WriteFile(file, tt.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := LoadDKIM("example.com", "sel", file)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadDKIM: %v", err)
				}
				if _, err := Build(testMessage("a@example.net"), d); err != nil {
					t.Fatalf("Build with the loaded key: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "DKIM_KEY_FILE") {
				t.Fatalf("LoadDKIM error = %v, want one naming DKIM_KEY_FILE and containing %q", err, tt.wantErr)
			}
		})
	}

	if _, err := LoadDKIM("example.com", "sel", filepath.Join(dir, "missing.pem")); err == nil || !strings.Contains(err.Error(), "DKIM_KEY_FILE") {
		t.Errorf("missing file: error = %v, want one naming DKIM_KEY_FILE", err)
	}
	file := filepath.Join(dir, "ok.pem")
	os.WriteFile(file, pkcs8(keys["ed25519"]), 0o600)
	if _, err := LoadDKIM("", "sel", file); err == nil || !strings.Contains(err.Error(), "DKIM_DOMAIN") {
		t.Errorf("no domain: error = %v, want one naming DKIM_DOMAIN", err)
	}
	if _, err := LoadDKIM("example.com", "sel; x=1", file); err == nil {
		t.Error("a selector with ';' was accepted")
	}
}

func TestBuild_RSAAndEd25519SignaturesBothVerify(t *testing.T) {
	keys := testKeys(t)
	d := &DKIM{Domain: "example.com", Selector: "rsa2026", Signer: keys["rsa-2048"],
		Ed25519Selector: "ed2026", Ed25519: keys["ed25519"]}
	raw, err := Build(testMessage("customer@example.net"), d)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]string{
		"rsa2026._domainkey.example.com": dkimRecord(t, keys["rsa-2048"]),
		"ed2026._domainkey.example.com":  dkimRecord(t, keys["ed25519"]),
	}
	lookup := func(domain string) ([]string, error) {
		if r, ok := records[domain]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no TXT record for %s", domain)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("found %d DKIM signatures, want 2", len(vs))
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("a signature fails: %v", v.Err)
		}
	}
	// Each signature names its own algorithm and selector.
	for _, want := range []string{"a=ed25519-sha256", "s=ed2026", "a=rsa-sha256", "s=rsa2026"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %s in the signatures", want)
		}
	}
	// The ed25519 signature alone still verifies when the RSA key is withdrawn from DNS.
	delete(records, "rsa2026._domainkey.example.com")
	vs, _ = dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	passed := 0
	for _, v := range vs {
		if v.Err == nil {
			passed++
		}
	}
	if passed != 1 {
		t.Errorf("%d signatures pass without the RSA record, want the ed25519 one", passed)
	}
}

func TestLoadEd25519_RefusesWhatWouldNotMakeASecondSignature(t *testing.T) {
	keys := testKeys(t)
	dir := t.TempDir()
	write := func(name string, key any) string {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	rsaFile, edFile := write("rsa.pem", keys["rsa-2048"]), write("ed.pem", keys["ed25519"])
	tests := []struct {
		name, primary, selector, file, wantErr string
	}{
		{"ok", rsaFile, "ed2026", edFile, ""},
		{"rsa as the ed25519 key", rsaFile, "ed2026", rsaFile, "not ed25519"},
		{"same selector", rsaFile, "sel", edFile, "selector of its own"},
		{"no selector", rsaFile, "", edFile, "DKIM_ED25519_SELECTOR"},
		{"no file", rsaFile, "ed2026", "", "DKIM_ED25519_KEY_FILE"},
		{"ed25519 twice", edFile, "ed2026", edFile, "must be an RSA key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := LoadDKIM("example.com", "sel", tt.primary)
			if err != nil {
				t.Fatal(err)
			}
			err = d.LoadEd25519(tt.selector, tt.file)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadEd25519: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadEd25519 error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
