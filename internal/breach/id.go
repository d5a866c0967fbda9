package breach

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseID checks that s is an ID in the one form breachnotice writes them — a UUID as 36
// lower-case hexadecimal digits and hyphens (8-4-4-4-12) — and returns it, or an EINVALID
// error naming kind ("campaign", "import"). Other spellings of the same UUID ("urn:uuid:…",
// braces, upper case, no hyphens) are refused, not normalized: an ID is compared, logged and
// audited as text, and two spellings of one campaign must never look like two campaigns, nor
// reach the database as text it then refuses (an audit row that cannot be written).
func ParseID(kind, s string) (string, error) {
	if !canonicalUUID(s) {
		return "", Errorf(EINVALID, "%s ID %q is not an ID: IDs are 36 characters such as 0f8fad5b-d9cb-469f-a165-70867728950e", kind, Clip(s))
	}
	return s, nil
}

func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// maxShown is how much of a value an error message quotes.
const maxShown = 64

// Clip is s as an error message may quote it: whole up to maxShown bytes, otherwise its first
// ones (cut between runes) and "…". Whatever a client sends — a query parameter of a megabyte —
// comes back as a short message, and a log line that records the error stays a line.
func Clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	n := maxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// MaxCustomerID is the longest customer_id, in characters: the import refuses a longer one, so
// no longer one names anybody.
const MaxCustomerID = 128

// IsText reports whether s is text a lookup may name: UTF-8 without control characters (a NUL
// reaches PostgreSQL, which refuses it). Identifiers that hold anything else were never stored.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// QuoteText is s clipped and made valid UTF-8, to be quoted back in an error.
func QuoteText(s string) string { return Clip(strings.ToValidUTF8(s, "\uFFFD")) }

// ParseCustomerID checks a customer_id given to look a customer up (a record, a preview, a test
// send) and returns it trimmed, or an EINVALID error. Only text an import could have stored can
// name a customer: empty, not UTF-8, holding a control character (a NUL, which PostgreSQL
// refuses outright: a 500 it was), or longer than MaxCustomerID is refused before any store or
// audit call, and quoted back clipped.
func ParseCustomerID(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(EINVALID, "customer_id: give the customer's ID from the list")
	case !IsText(s):
		return "", Errorf(EINVALID, "customer_id %q is not a customer ID: it holds bytes that are not text", QuoteText(s))
	case utf8.RuneCountInString(s) > MaxCustomerID:
		return "", Errorf(EINVALID, "customer_id %q is not a customer ID: they are at most %d characters", Clip(s), MaxCustomerID)
	}
	return s, nil
}
