package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// testMessage is a plausible notice to the address to.
func testMessage(to string) Message {
	return Message{
		From:           "notice@example.com",
		FromName:       "Example Télécom",
		ReplyTo:        "privacy@example.com",
		To:             to,
		Subject:        "Avis de violation de données",
		Text:           "Bonjour,\n\nNous vous informons d'une violation de données.\n",
		HTML:           "<p>Bonjour,</p><p>Nous vous informons d'une violation de données.</p>",
		UnsubscribeURL: "https://notice.example.com/u/tok_abc.def",
		Reference:      "BN-7Q2K-9XH4",
	}
}

func TestSender_ConcurrentSendsShareAtMostConnsConnections(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 4)
	defer s.Close()

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			to := fmt.Sprintf("customer%03d@example.net", i)
			if _, err := s.Send(context.Background(), testMessage(to)); err != nil {
				errs <- fmt.Errorf("send to %s: %w", to, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	seen := map[string]int{}
	for _, r := range snk.received() {
		if len(r.To) != 1 {
			t.Fatalf("envelope recipients = %v, want one", r.To)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatalf("received message does not parse: %v", err)
		}
		if got := msg.Header.Get("To"); got != "<"+r.To[0]+">" {
			t.Errorf("To header %q does not match envelope recipient %q", got, r.To[0])
		}
		seen[r.To[0]]++
	}
	for i := range n {
		to := fmt.Sprintf("customer%03d@example.net", i)
		if seen[to] != 1 {
			t.Errorf("%s received %d times, want exactly once", to, seen[to])
		}
	}
	if len(seen) != n {
		t.Errorf("received for %d distinct recipients, want %d", len(seen), n)
	}
	if got := snk.sessions.Load(); got > 4 || got < 1 {
		t.Errorf("server saw %d connections, want 1..4", got)
	}
}

func TestSender_ReturnsMessageIDTheServerReceived(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 1)
	defer s.Close()

	id, err := s.Send(context.Background(), testMessage("a@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	got := snk.received()
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if h := msg.Header.Get("Message-ID"); h != id {
		t.Errorf("Message-ID header %q, Send returned %q", h, id)
	}
}

func TestSender_ClassifiesSMTPReplies(t *testing.T) {
	tests := []struct {
		name      string
		command   string
		code      int
		permanent bool
	}{
		// A refusal of our sender is the relay's (authentication wanted, sender not verified,
		// account suspended), never the customer's: retried, not failed.
		{"sender refused", "MAIL", 550, false},
		{"sender refused, authentication required", "MAIL", 530, false},
		{"transient recipient failure", "RCPT", 451, false},
		{"mailbox unavailable", "RCPT", 550, true},
		{"message refused after data", "DATA", 554, true},
		{"transient failure after data", "DATA", 452, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snk := newSink(t)
			s := NewSender(snk.config(), nil, 1)
			defer s.Close()

			snk.fail(tt.command, tt.code)
			_, err := s.Send(context.Background(), testMessage("victim-of-breach@example.net"))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Send error = %v (%T), want *Error", err, err)
			}
			if e.Permanent != tt.permanent || e.Code != tt.code {
				t.Errorf("got Permanent=%v Code=%d, want Permanent=%v Code=%d", e.Permanent, e.Code, tt.permanent, tt.code)
			}
			if bytes.Contains([]byte(e.Error()), []byte("victim-of-breach")) {
				t.Errorf("error text names the recipient: %q", e.Error())
			}

			// The connection survives an ordinary reply: the next message goes through on it.
			if _, err := s.Send(context.Background(), testMessage("next@example.net")); err != nil {
				t.Fatalf("Send after a %d: %v", tt.code, err)
			}
			if got := len(snk.received()); got != 1 {
				t.Errorf("received %d messages, want 1", got)
			}
			if got := snk.sessions.Load(); got != 1 {
				t.Errorf("server saw %d connections, want the first one reused", got)
			}
		})
	}
}

func TestSender_HangingServerTimesOutAsTemporary(t *testing.T) {
	port := smtpsink.HangingTB(t)
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: 300 * time.Millisecond}
	s := NewSender(cfg, nil, 1)
	defer s.Close()

	start := time.Now()
	_, err := s.Send(context.Background(), testMessage("a@example.net"))
	elapsed := time.Since(start)

	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Send error = %v, want *Error", err)
	}
	if e.Permanent {
		t.Errorf("a hanging server gave a permanent error: %v", e)
	}
	if elapsed > 300*time.Millisecond+200*time.Millisecond {
		t.Errorf("Send took %v, want about the 300ms timeout", elapsed)
	}
}

func TestSender_RedialsAfterRelayDropsIdleConnection(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 1)
	defer s.Close()

	if _, err := s.Send(context.Background(), testMessage("first@example.net")); err != nil {
		t.Fatal(err)
	}
	snk.dropConnections()
	time.Sleep(20 * time.Millisecond) // let the close reach our side
	if _, err := s.Send(context.Background(), testMessage("second@example.net")); err != nil {
		t.Fatalf("Send after the relay closed the connection: %v", err)
	}
	if got := len(snk.received()); got != 2 {
		t.Errorf("received %d messages, want 2", got)
	}
	if got := snk.sessions.Load(); got != 2 {
		t.Errorf("server saw %d connections, want 2 (one redial)", got)
	}
}

func TestSender_RefusedConnectionIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nobody listens there any more
	s := NewSender(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: time.Second}, nil, 1)
	defer s.Close()

	_, err = s.Send(context.Background(), testMessage("a@example.net"))
	var e *Error
	if !errors.As(err, &e) || e.Permanent || e.Stage() != "dial" {
		t.Fatalf("Send error = %v, want a temporary dial *Error", err)
	}
}

func TestSender_WrongPasswordIsTemporaryAndNotEchoed(t *testing.T) {
	snk := newSink(t)
	cfg := snk.config()
	cfg.Password = "wrong-password-xyz"
	s := NewSender(cfg, nil, 1)
	defer s.Close()

	_, err := s.Send(context.Background(), testMessage("a@example.net"))
	var e *Error
	if !errors.As(err, &e) || e.Permanent {
		t.Fatalf("Send error = %v, want a temporary *Error", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("wrong-password-xyz")) {
		t.Errorf("error text contains the password: %q", err)
	}
}

func TestSender_InvalidMessageIsPermanentAndSendsNothing(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 1)
	defer s.Close()

	m := testMessage("not an address")
	_, err := s.Send(context.Background(), m)
	var e *Error
	if !errors.As(err, &e) || !e.Permanent || !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("Send error = %v, want a permanent *Error wrapping ErrInvalidMessage", err)
	}
	if snk.sessions.Load() != 0 {
		t.Errorf("an invalid message opened a connection")
	}
}

func TestSender_WaitForConnectionHonoursContext(t *testing.T) {
	port := smtpsink.HangingTB(t)
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: 2 * time.Second}
	s := NewSender(cfg, nil, 1)
	defer s.Close()

	go s.Send(context.Background(), testMessage("a@example.net")) // holds the only connection
	time.Sleep(50 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, testMessage("b@example.net"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Send waited %v past its context", d)
	}
}

func TestSender_SendAfterCloseFails(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 2)
	if _, err := s.Send(context.Background(), testMessage("a@example.net")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Send(context.Background(), testMessage("b@example.net")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close = %v, want ErrClosed", err)
	}
}
