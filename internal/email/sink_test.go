package email

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Credentials the test sink accepts.
const (
	sinkUser     = "relay-user"
	sinkPassword = "s3cret-pa55"
)

// received is one message as the sink's backend saw it.
type received struct {
	From string
	To   []string
	Data []byte
}

// sink is a real SMTP server (emersion/go-smtp) in the test process. It records every message,
// counts sessions (one per connection), and fails commands on demand.
type sink struct {
	Addr string
	Port int

	// discard makes the sink read and drop message data instead of keeping it (benchmarks).
	discard bool

	sessions atomic.Int64

	mu       sync.Mutex
	messages []received
	conns    []*smtp.Conn
	faults   map[string][]*smtp.SMTPError // by command ("RCPT", "DATA"): replies to give, in order
}

// newSink starts a sink on 127.0.0.1 and stops it when the test ends.
func newSink(tb testing.TB) *sink {
	tb.Helper()
	s := &sink{faults: map[string][]*smtp.SMTPError{}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s.Addr = l.Addr().String()
	s.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return s
}

// config returns a Config that reaches the sink with its credentials.
func (s *sink) config() Config {
	return Config{
		Host: "127.0.0.1", Port: s.Port,
		Username: sinkUser, Password: sinkPassword,
		TLS: TLSNone, Timeout: 5 * time.Second,
	}
}

// fail makes the sink answer the next use of command ("RCPT" or "DATA") with code.
func (s *sink) fail(command string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	enh := smtp.EnhancedCode{code / 100, 0, 0}
	s.faults[command] = append(s.faults[command], &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "injected failure"})
}

// refuse makes the sink answer command's next n uses with code and the enhanced code enh
// ("5.7.1"), as a relay's policy or a mailbox's absence is answered.
func (s *sink) refuse(command string, n, code int, enh smtp.EnhancedCode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[command] = append(s.faults[command], &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "injected refusal"})
	}
}

func (s *sink) fault(command string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults[command]) == 0 {
		return nil
	}
	err := s.faults[command][0]
	s.faults[command] = s.faults[command][1:]
	return err
}

// dropConnections closes every connection from the server's side, as a relay does with
// idle clients.
func (s *sink) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *sink) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

func (s *sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.sessions.Add(1)
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return &sinkSession{sink: s}, nil
}

type sinkSession struct {
	sink   *sink
	authed bool
	msg    received
}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != sinkUser || password != sinkPassword {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	if err := ss.sink.fault("MAIL"); err != nil {
		return err
	}
	ss.msg = received{From: from}
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.fault("RCPT"); err != nil {
		return err
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	if ss.sink.discard {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	if err := ss.sink.fault("DATA"); err != nil {
		return err
	}
	ss.msg.Data = buf.Bytes()
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, ss.msg)
	ss.sink.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset()        { ss.msg = received{} }
func (ss *sinkSession) Logout() error { return nil }
