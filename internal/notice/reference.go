package notice

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"strings"
	"sync"
	"unicode"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or copied
// by hand cannot be mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// referenceChars is how many characters a reference code has, dashes left out: 10 × 5 = 50 bits.
const referenceChars = 10

// Reference returns a recipient's reference code, e.g. "7KQ2-M9XD-3F": 50 bits of an HMAC of
// the campaign and customer under the server's secret. Anyone can print a code; only the server
// can tell whether it belongs to a customer, which is what the verification page checks, so a
// phisher cannot produce codes that verify.
func Reference(secret []byte, campaignID, customerID string) string {
	return formatReference(referenceBits(hmac.New(sha256.New, secret), campaignID, customerID))
}

// referenceBits is the 50-bit value of a reference code, mac being an HMAC-SHA256 keyed with
// the secret (fresh or Reset).
func referenceBits(mac hash.Hash, campaignID, customerID string) uint64 {
	return (&refMAC{mac: mac}).bits(campaignID, customerID)
}

// refMAC is an HMAC with the buffer it reads from and sums into, reused from code to code:
// the message and the sum, given to the hash.Hash interface, escaped to the heap twice a code.
type refMAC struct {
	mac hash.Hash
	buf []byte
}

// bits is referenceBits; m.mac must be fresh or Reset.
func (m *refMAC) bits(campaignID, customerID string) uint64 {
	m.buf = append(append(append(append(m.buf[:0], "reference\x00"...), campaignID...), 0), customerID...)
	m.mac.Write(m.buf)
	m.buf = m.mac.Sum(m.buf[:0])
	return binary.BigEndian.Uint64(m.buf) >> 14 // top 50 bits
}

// formatReference spells a 50-bit value as a code: ten characters, dashed after 4 and 8.
func formatReference(v uint64) string {
	var b strings.Builder
	for i := range referenceChars {
		if i == 4 || i == 8 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[(v>>(45-5*i))&31])
	}
	return b.String()
}

// maxReferenceInput bounds what parseReference reads: a code with generous spacing fits, a
// paste of a whole message does not.
const maxReferenceInput = 64

// parseReference reads a reference code as a person may type or paste it: case, spaces and
// dashes ignored (any Unicode space or dash, as phones and word processors put them),
// full-width letters and digits (typed with a CJK input method) as their ASCII selves, and
// the letters Crockford reads as digits (O→0, I and L→1). ok is false for anything else.
func parseReference(code string) (v uint64, ok bool) {
	if len(code) > maxReferenceInput {
		return 0, false
	}
	n := 0
	for _, r := range code {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
			continue
		}
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		i := -1
		if r < 128 {
			i = strings.IndexByte(crockford, byte(r))
		}
		if i < 0 || n == referenceChars {
			return 0, false
		}
		v = v<<5 | uint64(i)
		n++
	}
	return v, n == referenceChars
}

// CheckReference reports whether code is the reference of that customer, read as
// parseReference reads it.
func CheckReference(secret []byte, campaignID, customerID, code string) bool {
	v, ok := parseReference(code)
	var got, want [8]byte
	binary.BigEndian.PutUint64(got[:], v)
	binary.BigEndian.PutUint64(want[:], referenceBits(hmac.New(sha256.New, secret), campaignID, customerID))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && ok
}

// lookupLabel derives the lookup key from the secret, so that a lookup key can never be
// mistaken for a reference code, an opt-out token or a proof of notice keyed by the same secret.
const lookupLabel = "breachnotice reference lookup v1"

// malformedReference stands in for a malformed code in ReferenceKeys.OfCode: a value above 50
// bits, which no reference has.
const malformedReference = 1 << 50

// ReferenceKeys gives the lookup key of a reference code: what the database keeps of each
// recipient's code (recipients.ref_key) so that the public verification finds it with one
// index lookup, without keeping the code itself. It is a keyed hash of the code's 50-bit
// value: AES-128 under a key derived from the secret, of one block holding the value, cut to
// 64 bits — a pseudorandom function like HMAC, at a twentieth of its cost (an import keys
// millions of codes). Whoever reads the database learns no code from it, and cannot tell a
// code's key without the secret.
//
// It is safe for concurrent use; build one with NewReferenceKeys.
type ReferenceKeys struct {
	// refs pools refMACs keyed with the secret: keying one costs as much as computing a code.
	refs  sync.Pool
	block cipher.Block
}

// NewReferenceKeys returns the ReferenceKeys of the secret that keys the reference codes.
func NewReferenceKeys(secret []byte) *ReferenceKeys {
	lk := hmac.New(sha256.New, secret)
	lk.Write([]byte(lookupLabel))
	block, err := aes.NewCipher(lk.Sum(nil)[:16])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	secret = append([]byte(nil), secret...)
	return &ReferenceKeys{block: block, refs: sync.Pool{New: func() any { return &refMAC{mac: hmac.New(sha256.New, secret)} }}}
}

// OfRecipient is the lookup key of the reference code of customerID in campaignID (the code
// Reference gives). It is never 0.
func (k *ReferenceKeys) OfRecipient(campaignID, customerID string) int64 {
	m := k.refs.Get().(*refMAC)
	m.mac.Reset()
	v := m.bits(campaignID, customerID)
	key := k.keyIn(m.buf[:aes.BlockSize], v) // m.buf holds the sum, 32 bytes
	k.refs.Put(m)
	return key
}

// OfCode returns the lookup key of a code as a person typed it (read as CheckReference reads
// it) and the code in its printed form. For a malformed code ok is false, reference empty, and
// key the key of a value no code has, computed all the same: a lookup does the same work
// whatever it is given.
func (k *ReferenceKeys) OfCode(code string) (key int64, reference string, ok bool) {
	v, ok := parseReference(code)
	if !ok {
		return k.key(malformedReference), "", false
	}
	return k.key(v), formatReference(v), true
}

// key is the keyed hash of a code's value, never 0 (a recipient without a key has none).
func (k *ReferenceKeys) key(v uint64) int64 {
	var b [aes.BlockSize]byte
	return k.keyIn(b[:], v)
}

// keyIn is key, with b (aes.BlockSize bytes) as its scratch space.
func (k *ReferenceKeys) keyIn(b []byte, v uint64) int64 {
	binary.BigEndian.PutUint64(b[:8], v)
	copy(b[8:], "ref-key\x00")
	k.block.Encrypt(b, b)
	key := int64(binary.BigEndian.Uint64(b[:8]))
	if key == 0 {
		key = 1
	}
	return key
}
