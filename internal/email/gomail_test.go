package email

import (
	"bytes"
	"fmt"
	"mime"
	"slices"
	"strings"
	"testing"

	mail "github.com/wneessen/go-mail"
)

// goMailBuild is the builder this package used before it wrote MIME itself: the message
// composed as a go-mail Msg and written by go-mail's message writer, without DKIM. It stays
// here as the reference that Build's bytes are held to (TestBuild_MatchesGoMailsWriter); msgID
// and date are fixed so that the two can be compared.
func goMailBuild(m Message, msgID string) ([]byte, error) {
	from, to := m.From, m.To
	subject := singleLine(m.Subject)
	enc := mail.EncodingQP
	if headerWords(subject, m.FromName) == mime.BEncoding {
		enc = mail.EncodingB64
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithEncoding(enc))
	var err error
	if name := singleLine(m.FromName); name != "" {
		err = msg.FromFormat(name, from)
	} else {
		err = msg.From(from)
	}
	if err != nil {
		return nil, err
	}
	if err := msg.To(to); err != nil {
		return nil, err
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, err
		}
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(strings.Trim(msgID, "<>"))
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "OOF, AutoReply")
	if m.UnsubscribeURL != "" {
		if err := msg.SetListUnsubscribeOneClick(m.UnsubscribeURL); err != nil {
			return nil, err
		}
	}
	if m.Reference != "" {
		msg.SetGenHeader("X-Breachnotice-Reference", m.Reference)
	}
	body := func(text string) (mail.ContentType, string, mail.PartOption) {
		if bodyEncoding(text) == base64Transfer {
			return "", strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n"), mail.WithPartEncoding(mail.EncodingB64)
		}
		return "", text, mail.WithPartEncoding(mail.EncodingQP)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		_, t, o := body(m.Text)
		msg.SetBodyString(mail.TypeTextPlain, t, o)
		_, h, o := body(m.HTML)
		msg.AddAlternativeString(mail.TypeTextHTML, h, o)
	case m.Text != "":
		_, t, o := body(m.Text)
		msg.SetBodyString(mail.TypeTextPlain, t, o)
	default:
		_, h, o := body(m.HTML)
		msg.SetBodyString(mail.TypeTextHTML, h, o)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("go-mail: %w", err)
	}
	return buf.Bytes(), nil
}

func TestBuild_MatchesGoMailsWriter(t *testing.T) {
	messages := map[string]Message{"test": testMessage("customer@example.net")}
	for _, locale := range []string{"es-PE", "en-US", "fr-FR", "ko-KR"} {
		m := exampleNotice(t, locale)
		m.ReplyTo = "privacy@example.com"
		messages[locale] = m
	}
	textOnly := testMessage("customer@example.net")
	textOnly.HTML = ""
	messages["text only"] = textOnly
	htmlOnly := testMessage("customer@example.net")
	htmlOnly.Text, htmlOnly.FromName, htmlOnly.ReplyTo, htmlOnly.UnsubscribeURL, htmlOnly.Reference = "", "", "", "", ""
	messages["html only, no name, no opt-out"] = htmlOnly
	tricky := testMessage("customer@example.net")
	tricky.Subject = "A subject long enough to be folded at a space, twice over: " + strings.Repeat("word ", 20) + "end"
	tricky.FromName = "Example Telecom, Inc. (Perú)"
	tricky.Text = "trailing space \nand tab\t\r\nlone CR\rline " + strings.Repeat("x", 200) + "\n=equals= \n"
	tricky.HTML = strings.Repeat("한국어 본문 ", 40) + "\n.dot\n"
	messages["tricky"] = tricky

	for name, m := range messages {
		t.Run(name, func(t *testing.T) {
			m.MessageID = "<fixed.id@example.com>"
			got, err := Build(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := goMailBuild(m, m.MessageID)
			if err != nil {
				t.Fatal(err)
			}
			gotHead, gotBody := splitMessage(t, got)
			wantHead, wantBody := splitMessage(t, want)
			// The boundaries are random, the Date the second each was built in.
			if b := boundaryOf(gotHead); b != "" {
				wantBody = strings.ReplaceAll(wantBody, boundaryOf(wantHead), b)
				wantHead = strings.ReplaceAll(wantHead, boundaryOf(wantHead), b)
			}
			if g, w := fields(gotHead), fields(wantHead); strings.Join(g, "") != strings.Join(w, "") {
				t.Errorf("header fields differ:\ngot:\n%s\nwant (go-mail):\n%s", strings.Join(g, ""), strings.Join(w, ""))
			}
			if gotBody != wantBody {
				t.Errorf("bodies differ:\ngot:\n%q\nwant (go-mail):\n%q", gotBody, wantBody)
			}
		})
	}
}

// splitMessage cuts raw at its blank line.
func splitMessage(t *testing.T, raw []byte) (head, body string) {
	t.Helper()
	head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		t.Fatalf("no blank line after the header in %q", raw)
	}
	return head + "\r\n", body
}

// boundaryOf is the multipart boundary in head ("" if none).
func boundaryOf(head string) string {
	_, b, ok := strings.Cut(head, "boundary=")
	if !ok {
		return ""
	}
	b, _, _ = strings.Cut(b, "\r\n")
	return b
}

// fields are head's header fields (folded lines kept as they are), sorted — go-mail writes
// List-Unsubscribe and List-Unsubscribe-Post in a random order — with Date's value left out.
func fields(head string) []string {
	var fs []string
	for _, line := range strings.SplitAfter(head, "\r\n") {
		switch {
		case line == "":
		case line[0] == ' ' && len(fs) > 0:
			fs[len(fs)-1] += line
		case strings.HasPrefix(line, "Date: "):
			fs = append(fs, "Date: …\r\n")
		default:
			fs = append(fs, line)
		}
	}
	slices.Sort(fs)
	return fs
}

func TestBuild_FromNameWithQuotesReadsBackAsIs(t *testing.T) {
	// go-mail turned the quotes into spaces; the name is now quoted as RFC 5322 says.
	m := testMessage("customer@example.net")
	m.FromName = `Example "Telecom", Inc.`
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	from, err := parse(t, raw).Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != m.FromName || from[0].Address != m.From {
		t.Errorf("From = %v (%v), want %q <%s>", from, err, m.FromName, m.From)
	}
}
