package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// parse reads raw as a message, failing the test if it does not parse.
func parse(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, raw)
	}
	return msg
}

// parts returns the media types and decoded bodies of a multipart/alternative message.
func parts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	got := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("%s part charset %q, want UTF-8", ct, ctParams["charset"])
		}
		got[ct] = string(body)
	}
	return got
}

func TestBuild_HasNoticeHeadersAndBothParts(t *testing.T) {
	m := testMessage("customer@example.net")
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := parse(t, raw)
	h := msg.Header

	exact := map[string]string{
		"List-Unsubscribe":         "<https://notice.example.com/u/tok_abc.def>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"Auto-Submitted":           "auto-generated",
		"X-Breachnotice-Reference": "BN-7Q2K-9XH4",
		"To":                       "<customer@example.net>",
		"Reply-To":                 "<privacy@example.com>",
		"MIME-Version":             "1.0",
	}
	for name, want := range exact {
		if got := h[textproto.CanonicalMIMEHeaderKey(name)]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly [%q]", name, got, want)
		}
	}
	for _, absent := range []string{"Precedence", "User-Agent", "X-Mailer", "Bcc"} {
		if v, ok := h[absent]; ok {
			t.Errorf("%s is set (%q), want absent", absent, v)
		}
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q is not on the sender's domain", id)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subj, err, m.Subject)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != m.FromName || from[0].Address != m.From {
		t.Errorf("From = %v (%v), want %s <%s>", from, err, m.FromName, m.From)
	}

	body := parts(t, msg)
	// Line ends travel as CRLF, as RFC 5322 wants them.
	if strings.ReplaceAll(body["text/plain"], "\r\n", "\n") != m.Text {
		t.Errorf("text part = %q, want %q", body["text/plain"], m.Text)
	}
	if strings.TrimSpace(body["text/html"]) != strings.TrimSpace(m.HTML) {
		t.Errorf("html part = %q, want %q", body["text/html"], m.HTML)
	}
}

func TestBuild_GeneratesUniqueMessageIDsAndKeepsGivenOne(t *testing.T) {
	m := testMessage("a@example.net")
	ids := map[string]bool{}
	for range 100 {
		raw, err := Build(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[parse(t, raw).Header.Get("Message-ID")] = true
	}
	if len(ids) != 100 {
		t.Errorf("100 builds gave %d distinct Message-IDs", len(ids))
	}

	m.MessageID = "<delivery-42.campaign-7@example.com>"
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, raw).Header.Get("Message-ID"); got != m.MessageID {
		t.Errorf("Message-ID = %q, want %q", got, m.MessageID)
	}
}

func TestBuild_WithoutUnsubscribeURLHasNoListHeaders(t *testing.T) {
	m := testMessage("a@example.net")
	m.UnsubscribeURL = ""
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := parse(t, raw).Header
	if _, ok := h["List-Unsubscribe"]; ok {
		t.Error("List-Unsubscribe set without an UnsubscribeURL")
	}
	if _, ok := h["List-Unsubscribe-Post"]; ok {
		t.Error("List-Unsubscribe-Post set without an UnsubscribeURL")
	}
}

func TestSender_HeaderInjectionInSubjectAddsNoHeader(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 1)
	defer s.Close()

	m := testMessage("customer@example.net")
	m.Subject = "Hello\r\nBcc: victim@example.com"
	m.FromName = "Example\r\nBcc: victim2@example.com"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := snk.received()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "customer@example.net" {
		t.Fatalf("envelope recipients = %+v, want only the customer", got)
	}
	msg := parse(t, got[0].Data)
	if v, ok := msg.Header["Bcc"]; ok {
		t.Fatalf("injected Bcc header arrived: %q", v)
	}
	if n := len(msg.Header["Subject"]); n != 1 {
		t.Fatalf("%d Subject headers, want 1", n)
	}
	if strings.Contains(string(got[0].Data), "\r\nBcc:") {
		t.Fatal("a line starting with Bcc: is in the message")
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(msg.Header.Get("Subject")); subj != "Hello Bcc: victim@example.com" {
		t.Errorf("Subject = %q, want the line break folded into a space", subj)
	}
}

func TestBuild_RejectsLineBreaksInMachineFields(t *testing.T) {
	tests := map[string]func(*Message){
		"To":             func(m *Message) { m.To = "a@example.net\r\nBcc: victim@example.com" },
		"From":           func(m *Message) { m.From = "notice@example.com\nBcc: victim@example.com" },
		"ReplyTo":        func(m *Message) { m.ReplyTo = "privacy@example.com\rBcc: x@example.com" },
		"Reference":      func(m *Message) { m.Reference = "BN-1\r\nBcc: victim@example.com" },
		"MessageID":      func(m *Message) { m.MessageID = "<a@example.com>\r\nBcc: victim@example.com" },
		"UnsubscribeURL": func(m *Message) { m.UnsubscribeURL = "https://notice.example.com/u/x\r\nBcc: v@example.com" },
		"To display":     func(m *Message) { m.To = "Victim <a@example.net>" },
		"two To":         func(m *Message) { m.To = "a@example.net, b@example.net" },
		"http unsub":     func(m *Message) { m.UnsubscribeURL = "http://notice.example.com/u/x" },
		"unsub comma":    func(m *Message) { m.UnsubscribeURL = "https://notice.example.com/u/x,<mailto:x@evil.example>" },
		"bad MessageID":  func(m *Message) { m.MessageID = "no-brackets@example.com" },
		"no body":        func(m *Message) { m.Text, m.HTML = "", "" },
		"empty Subject":  func(m *Message) { m.Subject = "\r\n" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			m := testMessage("a@example.net")
			mutate(&m)
			raw, err := Build(m, nil)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Build error = %v, want ErrInvalidMessage; message:\n%s", err, raw)
			}
			if strings.Contains(err.Error(), "victim") {
				t.Errorf("error quotes the field's value: %v", err)
			}
		})
	}
}

func TestBuild_SinglePartWhenOnlyOneBody(t *testing.T) {
	m := testMessage("a@example.net")
	m.HTML = ""
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ct := parse(t, raw).Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
}
