package email

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"unicode"

	mail "github.com/wneessen/go-mail"
)

// ErrInvalidMessage is wrapped by every error that comes from a Message's content (a malformed
// address, a header that would let data break out into another header): sending it again can
// never succeed, so Sender.Send reports it as permanent.
var ErrInvalidMessage = errors.New("invalid email message")

// Header names go-mail has no constant for.
const (
	headerAutoSubmitted        mail.Header = "Auto-Submitted"
	headerAutoResponseSuppress mail.Header = "X-Auto-Response-Suppress"
	headerReference            mail.Header = "X-Breachnotice-Reference"
)

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
	raw, _, err := render(m, dkim)
	return raw, err
}

// render builds the message and returns its bytes and its Message-ID (with angle brackets).
func render(m Message, dkim *DKIM) ([]byte, string, error) {
	if dkim != nil {
		if err := dkim.validate(); err != nil {
			return nil, "", err
		}
	}
	msg, id, err := compose(m)
	if err != nil {
		return nil, "", err
	}
	// Sized once for the largest the parts can be encoded (base64, 1.4 ×) and the headers, so
	// that the buffer is not grown and copied again and again as the message is written.
	var buf bytes.Buffer
	buf.Grow((len(m.Text)+len(m.HTML))*3/2 + 2048)
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, "", fmt.Errorf("render email: %w", err)
	}
	if dkim == nil {
		return buf.Bytes(), id, nil
	}
	signed, err := dkim.sign(buf.Bytes())
	if err != nil {
		return nil, "", err
	}
	return signed, id, nil
}

// compose validates m and turns it into a go-mail message.
func compose(m Message) (*mail.Msg, string, error) {
	from, err := bareAddress("From", m.From)
	if err != nil {
		return nil, "", err
	}
	to, err := bareAddress("To", m.To)
	if err != nil {
		return nil, "", err
	}
	if m.Text == "" && m.HTML == "" {
		return nil, "", fmt.Errorf("%w: no body (Text and HTML are both empty)", ErrInvalidMessage)
	}
	subject := singleLine(m.Subject)
	if subject == "" {
		return nil, "", fmt.Errorf("%w: empty Subject", ErrInvalidMessage)
	}

	// No default User-Agent: it would advertise the library and its version to anyone
	// probing for weaknesses, and tells the customer nothing.
	// The header's encoded words are Q or B, whichever is shorter for this subject and name
	// (go-mail encodes them as they are set, so this comes first).
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithEncoding(headerEncoding(subject, m.FromName)))
	if name := singleLine(m.FromName); name != "" {
		err = msg.FromFormat(name, from)
	} else {
		err = msg.From(from)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: From: %v", ErrInvalidMessage, err)
	}
	if err := msg.To(to); err != nil {
		return nil, "", fmt.Errorf("%w: To: %v", ErrInvalidMessage, err)
	}
	if m.ReplyTo != "" {
		replyTo, err := bareAddress("ReplyTo", m.ReplyTo)
		if err != nil {
			return nil, "", err
		}
		if err := msg.ReplyTo(replyTo); err != nil {
			return nil, "", fmt.Errorf("%w: ReplyTo: %v", ErrInvalidMessage, err)
		}
	}
	msg.Subject(subject)

	id, err := messageID(m.MessageID, from)
	if err != nil {
		return nil, "", err
	}
	msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	msg.SetDate()
	msg.SetGenHeader(headerAutoSubmitted, "auto-generated")
	// Exchange and Outlook ignore Auto-Submitted and look at this instead. Only out-of-office
	// and auto-replies are suppressed: bounces (NDR) must still come back, they are how a
	// delivery becomes "bounced".
	msg.SetGenHeader(headerAutoResponseSuppress, "OOF, AutoReply")

	if m.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(m.UnsubscribeURL); err != nil {
			return nil, "", err
		}
		if err := msg.SetListUnsubscribeOneClick(m.UnsubscribeURL); err != nil {
			return nil, "", fmt.Errorf("%w: UnsubscribeURL: %v", ErrInvalidMessage, err)
		}
	}
	if m.Reference != "" {
		if !printableASCII(m.Reference) {
			return nil, "", fmt.Errorf("%w: Reference must be printable ASCII", ErrInvalidMessage)
		}
		msg.SetGenHeader(headerReference, m.Reference)
	}

	// Plain text first, HTML last: in multipart/alternative the last part is the preferred
	// one (RFC 2046 §5.1.4), and clients that cannot show HTML fall back to the text.
	// Each part is quoted-printable or base64, whichever is smaller (see bodyEncoding).
	switch {
	case m.Text != "" && m.HTML != "":
		setBody(msg, mail.TypeTextPlain, m.Text)
		addAlternative(msg, mail.TypeTextHTML, m.HTML)
	case m.Text != "":
		setBody(msg, mail.TypeTextPlain, m.Text)
	default:
		setBody(msg, mail.TypeTextHTML, m.HTML)
	}
	return msg, id, nil
}

// setBody sets msg's body to text of type ct, in its smaller transfer encoding.
func setBody(msg *mail.Msg, ct mail.ContentType, text string) {
	enc, text := bodyEncoding(text)
	msg.SetBodyString(ct, text, mail.WithPartEncoding(enc))
}

// addAlternative adds text of type ct as an alternative body, in its smaller transfer encoding.
func addAlternative(msg *mail.Msg, ct mail.ContentType, text string) {
	enc, text := bodyEncoding(text)
	msg.AddAlternativeString(ct, text, mail.WithPartEncoding(enc))
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
