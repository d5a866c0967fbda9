package email

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ErrInvalidMessage is wrapped by every error that comes from a Message's content (a malformed
// address, a header that would let data break out into another header): sending it again can
// never succeed, so Sender.Send reports it as permanent.
var ErrInvalidMessage = errors.New("invalid email message")

// Message is one notice to send.
type Message struct {
	From     string // the sender's address, bare: notice@example.com
	FromName string
	ReplyTo  string // optional
	To       string // the customer's address, bare

	Subject string
	HTML    string
	Text    string

	// MessageID is "<id@sender-domain>". If empty, Build makes one from a random token and the
	// domain of From, so that replies and bounces refer to an ID the sender's domain owns.
	MessageID string
	// UnsubscribeURL is an https URL carrying a signed opt-out token. When set, the message
	// gets List-Unsubscribe and List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058),
	// which large mailbox providers require of bulk senders.
	UnsubscribeURL string
	// Reference is the notice's verification code, set as X-Breachnotice-Reference so that
	// support staff can find the notice a customer forwards them.
	Reference string
}

// Build renders the message as RFC 5322 bytes: multipart/alternative (plain text, then HTML)
// in UTF-8, with Date, Message-ID and Auto-Submitted: auto-generated — a notice is not a reply
// and must not set off vacation auto-replies (RFC 3834). Precedence: bulk is deliberately not
// set: it marks mail as unimportant to filters and this mail is the opposite.
//
// When dkim is not nil the message carries a DKIM-Signature covering the headers in
// signedHeaders.
//
// Header values cannot smuggle in another header: line breaks in Subject and FromName (display
// text) are folded into spaces; in any other field (addresses, MessageID, UnsubscribeURL,
// Reference, all machine-made) they are an error wrapping ErrInvalidMessage.
func Build(m Message, dkim *DKIM) ([]byte, error) {
	raw, sig, _, err := render(nil, m, dkim)
	if err != nil || sig == "" {
		return raw, err
	}
	return append([]byte(sig), raw...), nil
}

// render appends the message to buf and returns it, with its DKIM-Signature header field(s)
// (empty without dkim), which go before it on the wire, and its Message-ID (with angle
// brackets). The signature is kept apart so that a sender can write it and then the message
// from the buffer it reuses, without copying the message behind it.
func render(buf []byte, m Message, dkim *DKIM) (raw []byte, sig, id string, err error) {
	if dkim != nil {
		if err := dkim.validate(); err != nil {
			return nil, "", "", err
		}
	}
	if raw, id, err = appendMessage(buf, m); err != nil {
		return nil, "", "", err
	}
	if dkim != nil {
		if sig, err = dkim.sign(raw); err != nil {
			return nil, "", "", err
		}
	}
	return raw, sig, id, nil
}

// appendMessage validates m and appends it to buf as RFC 5322 bytes.
//
// It writes the MIME itself rather than through go-mail's message writer, which copied each
// part through three buffers of its own (about 100 KB allocated for a 16 KB notice) and was a
// fifth of the worker's CPU at sending speed. The bytes are those go-mail wrote — its header
// order and folding, its part layout — as TestBuild_MatchesGoMailsWriter checks against
// go-mail itself; go-mail still makes the SMTP connections.
func appendMessage(buf []byte, m Message) ([]byte, string, error) {
	from, err := bareAddress("From", m.From)
	if err != nil {
		return nil, "", err
	}
	to, err := bareAddress("To", m.To)
	if err != nil {
		return nil, "", err
	}
	replyTo := ""
	if m.ReplyTo != "" {
		if replyTo, err = bareAddress("ReplyTo", m.ReplyTo); err != nil {
			return nil, "", err
		}
	}
	if m.Text == "" && m.HTML == "" {
		return nil, "", fmt.Errorf("%w: no body (Text and HTML are both empty)", ErrInvalidMessage)
	}
	subject := singleLine(m.Subject)
	if subject == "" {
		return nil, "", fmt.Errorf("%w: empty Subject", ErrInvalidMessage)
	}
	id, err := messageID(m.MessageID, from)
	if err != nil {
		return nil, "", err
	}
	if m.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(m.UnsubscribeURL); err != nil {
			return nil, "", err
		}
	}
	if m.Reference != "" && !printableASCII(m.Reference) {
		return nil, "", fmt.Errorf("%w: Reference must be printable ASCII", ErrInvalidMessage)
	}

	// Sized for the largest the parts can be encoded (base64, 1.4 ×) and the headers, so that
	// the buffer is not grown and copied again and again as the message is written.
	buf = slices.Grow(buf, (len(m.Text)+len(m.HTML))*3/2+2048)

	// The headers in go-mail's order: its generic headers sorted by name, the opt-out, then the
	// addresses. No User-Agent: it would advertise the library and its version to anyone
	// probing for weaknesses, and tells the customer nothing. The subject's encoded words are
	// Q or B, whichever is shorter for this subject and name.
	buf = appendHeader(buf, "Auto-Submitted", "auto-generated")
	buf = append(buf, "Date: "...)
	buf = append(time.Now().AppendFormat(buf, time.RFC1123Z), '\r', '\n')
	buf = appendHeader(buf, "MIME-Version", "1.0")
	buf = appendHeader(buf, "Message-ID", id)
	buf = appendHeader(buf, "Subject", headerWords(subject, m.FromName).Encode("UTF-8", subject))
	// Exchange and Outlook ignore Auto-Submitted and look at this instead. Only out-of-office
	// and auto-replies are suppressed: bounces (NDR) must still come back, they are how a
	// delivery becomes "bounced".
	buf = appendHeader(buf, "X-Auto-Response-Suppress", "OOF, AutoReply")
	if m.Reference != "" {
		buf = appendHeader(buf, "X-Breachnotice-Reference", m.Reference)
	}
	if m.UnsubscribeURL != "" {
		// RFC 8058's one-click opt-out, as one line each (go-mail wrote them unfolded).
		buf = append(buf, "List-Unsubscribe: <"...)
		buf = append(buf, m.UnsubscribeURL...)
		buf = append(buf, ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"...)
	}
	sender := netmail.Address{Address: from}
	if name := singleLine(m.FromName); name != "" {
		sender.Name = name
	}
	buf = appendHeader(buf, "From", sender.String())
	buf = appendHeader(buf, "To", (&netmail.Address{Address: to}).String())
	if replyTo != "" {
		buf = appendHeader(buf, "Reply-To", (&netmail.Address{Address: replyTo}).String())
	}

	// Plain text first, HTML last: in multipart/alternative the last part is the preferred
	// one (RFC 2046 §5.1.4), and clients that cannot show HTML fall back to the text.
	// Each part is quoted-printable or base64, whichever is smaller (see bodyEncoding).
	if m.Text == "" || m.HTML == "" {
		ct, text := "text/plain", m.Text
		if text == "" {
			ct, text = "text/html", m.HTML
		}
		return appendPart(buf, ct, text), id, nil
	}
	var random [30]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails
	var boundary [2 * len(random)]byte
	hex.Encode(boundary[:], random[:])
	buf = append(buf, "Content-Type: multipart/alternative;\r\n boundary="...)
	buf = append(buf, boundary[:]...)
	buf = append(buf, "\r\n\r\n--"...)
	buf = append(buf, boundary[:]...)
	buf = append(buf, "\r\n"...)
	buf = appendPart(buf, "text/plain", m.Text)
	buf = append(buf, "\r\n--"...)
	buf = append(buf, boundary[:]...)
	buf = append(buf, "\r\n"...)
	buf = appendPart(buf, "text/html", m.HTML)
	buf = append(buf, "\r\n--"...)
	buf = append(buf, boundary[:]...)
	buf = append(buf, "--\r\n"...)
	return buf, id, nil
}

// appendPart appends a UTF-8 text part of media type ct — its Content-Transfer-Encoding and
// Content-Type headers, a blank line and text in its smaller encoding — to buf.
func appendPart(buf []byte, ct, text string) []byte {
	enc := bodyEncoding(text)
	buf = append(buf, "Content-Transfer-Encoding: "...)
	buf = append(buf, enc...)
	buf = append(buf, "\r\nContent-Type: "...)
	buf = append(buf, ct...)
	buf = append(buf, "; charset=UTF-8\r\n\r\n"...)
	if enc == base64Transfer {
		return appendBase64(buf, text)
	}
	return appendQP(buf, text)
}

// maxHeaderLine is the length to which header fields are folded (RFC 2047 §2 keeps encoded
// words' lines to 76 characters).
const maxHeaderLine = 76

// appendHeader appends the header field "name: value" to buf, folded as go-mail folds: at the
// spaces of value, before a word that would bring the line to 75 characters.
func appendHeader(buf []byte, name, value string) []byte {
	buf = append(buf, name...)
	buf = append(buf, ':', ' ')
	room := maxHeaderLine - 2 - len(name) - 2
	for more := true; more; {
		var word string
		word, value, more = strings.Cut(value, " ")
		if room-len(word) <= 1 {
			if buf[len(buf)-1] == ' ' { // no space left trailing before the fold
				buf = buf[:len(buf)-1]
			}
			buf = append(buf, '\r', '\n', ' ')
			room = maxHeaderLine - 3
		}
		buf = append(buf, word...)
		if more {
			buf = append(buf, ' ')
			room--
		}
		room -= len(word)
	}
	return append(buf, '\r', '\n')
}

// bareAddress checks that s is a single bare address (no display name, no line break) and
// returns it. Display names travel separately (FromName), so a name can never be mistaken
// for, or smuggle in, an address.
func bareAddress(field, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrInvalidMessage, field)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%w: %s contains a line break", ErrInvalidMessage, field)
	}
	addr, err := netmail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		// The address itself is personal data: the error says which field, not what it held.
		return "", fmt.Errorf("%w: %s is not a bare email address", ErrInvalidMessage, field)
	}
	return s, nil
}

// messageID returns id if it is a well-formed "<left@right>", or a new one on the sender's
// domain when id is empty. A random token (128 bits) makes IDs unique across workers
// without coordination.
func messageID(id, from string) (string, error) {
	if id == "" {
		domain := from[strings.LastIndexByte(from, '@')+1:]
		return "<" + rand.Text() + "@" + domain + ">", nil
	}
	inner, ok := strings.CutPrefix(id, "<")
	if ok {
		inner, ok = strings.CutSuffix(inner, ">")
	}
	left, right, hasAt := strings.Cut(inner, "@")
	if !ok || !hasAt || left == "" || right == "" || strings.Contains(right, "@") ||
		!printableASCII(inner) || strings.ContainsAny(inner, " <>()[],;:\\\"") {
		return "", fmt.Errorf("%w: MessageID is not of the form <id@domain>", ErrInvalidMessage)
	}
	return id, nil
}

// checkUnsubscribeURL insists on an absolute https URL that fits inside List-Unsubscribe's
// angle brackets: RFC 8058 requires https, and '<', '>' or ',' would end the URL early and let
// the rest be read as another URI.
func checkUnsubscribeURL(s string) error {
	if !printableASCII(s) || strings.ContainsAny(s, "<>, ") {
		return fmt.Errorf("%w: UnsubscribeURL must be a single URL of printable ASCII without spaces, commas or angle brackets", ErrInvalidMessage)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: UnsubscribeURL must be an absolute https URL (RFC 8058)", ErrInvalidMessage)
	}
	return nil
}

// singleLine makes display text fit in one header: any run of line breaks and other control
// characters becomes one space. A subject or a sender name has no business spanning lines,
// and failing a legally mandated notice over a stray newline in a template would be worse
// than showing it on one line.
func singleLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
