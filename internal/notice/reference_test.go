package notice

import (
	"strings"
	"testing"
)

func TestReferenceKeys_TypedFormsOfACodeFindTheSameKey(t *testing.T) {
	secret := []byte("reference-keys-test")
	keys := NewReferenceKeys(secret)
	code := Reference(secret, "c1", "AT-100001")
	want := keys.OfRecipient("c1", "AT-100001")
	plain := strings.ReplaceAll(code, "-", "")
	fullWidth := strings.Map(func(r rune) rune { return r + 0xFEE0 }, plain) // "７ＫＱ２…"
	for _, typed := range []string{
		code,
		strings.ToLower(code),
		plain,
		" " + plain[:4] + " " + plain[4:8] + " " + plain[8:] + " ",
		plain[:4] + "\u2013" + plain[4:8] + "\u2010" + plain[8:], // en dash, hyphen from a word processor
		fullWidth,
		strings.NewReplacer("0", "O", "1", "l").Replace(code), // read aloud, typed as letters
	} {
		key, ref, ok := keys.OfCode(typed)
		if !ok || key != want || ref != code {
			t.Errorf("OfCode(%q) = %d, %q, %v; want %d, %q, true", typed, key, ref, ok, want, code)
		}
		if !CheckReference(secret, "c1", "AT-100001", typed) {
			t.Errorf("CheckReference(%q) = false", typed)
		}
	}
}

func TestReferenceKeys_MalformedCodesAreNoCode(t *testing.T) {
	keys := NewReferenceKeys([]byte("reference-keys-test"))
	_, _, ok := keys.OfCode("7KQ2-M9XD-3F")
	if !ok {
		t.Fatal("a well-formed code is refused")
	}
	malformedKey, _, _ := keys.OfCode("")
	for _, typed := range []string{
		"", "7KQ2-M9XD-3", "7KQ2-M9XD-3FF", "7KQ2-M9XD-3U", // U is not Crockford
		"7KQ2-M9XD-3F\u0000", "7KQ2-M9XD-3\u0131", // a dotless i upper-cases to I: not taken
		"ＡＢＣ", "<script>alert(1)</script>", strings.Repeat("7", 10000), "7KQ2-M9XD-3F" + strings.Repeat(" ", 60),
		"\xff\xfe7KQ2M9XD3F",
	} {
		key, ref, ok := keys.OfCode(typed)
		if ok || ref != "" || key != malformedKey {
			t.Errorf("OfCode(%q) = %d, %q, %v; want the malformed key, \"\", false", typed, key, ref, ok)
		}
	}
}

func TestReferenceKeys_DependOnTheSecret(t *testing.T) {
	a := NewReferenceKeys([]byte("secret-a")).OfRecipient("c1", "AT-1")
	b := NewReferenceKeys([]byte("secret-b")).OfRecipient("c1", "AT-1")
	if a == b {
		t.Error("two secrets give the same lookup key")
	}
	code := Reference([]byte("secret-a"), "c1", "AT-1")
	if key, _, _ := NewReferenceKeys([]byte("secret-b")).OfCode(code); key == a {
		t.Error("a code keyed under another secret finds the recipient")
	}
}

// BenchmarkReferenceKeys_OfRecipient is what an import pays per row for verifiable references.
func BenchmarkReferenceKeys_OfRecipient(b *testing.B) {
	keys := NewReferenceKeys([]byte("bench"))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			keys.OfRecipient("6b0c3c5e-5a1e-4c8e-9f55-0d1f3a7b9e21", "AT-100001")
		}
	})
}
