package notice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strings"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or copied
// by hand cannot be mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Reference returns a recipient's reference code, e.g. "7KQ2-M9XD-3F": 50 bits of an HMAC of
// the campaign and customer under the server's secret. Anyone can print a code; only the server
// can tell whether it belongs to a customer, which is what the verification page checks, so a
// phisher cannot produce codes that verify.
func Reference(secret []byte, campaignID, customerID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("reference\x00" + campaignID + "\x00" + customerID))
	v := binary.BigEndian.Uint64(mac.Sum(nil)) >> 14 // top 50 bits
	var b strings.Builder
	for i := range 10 {
		if i == 4 || i == 8 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[(v>>(45-5*i))&31])
	}
	return b.String()
}

// CheckReference reports whether code is the reference of that customer, ignoring case,
// dashes and the letters Crockford reads as digits (O→0, I/L→1).
func CheckReference(secret []byte, campaignID, customerID, code string) bool {
	norm := strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(code))
	want := strings.ReplaceAll(Reference(secret, campaignID, customerID), "-", "")
	return hmac.Equal([]byte(norm), []byte(want))
}
