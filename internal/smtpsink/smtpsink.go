// Package smtpsink is a real SMTP server (emersion/go-smtp) that accepts mail and keeps it in
// memory: the relay of the sending engine's tests and of `make bench`, with the faults a real
// relay has (4xx and 5xx replies, hangs) injected on demand.
package smtpsink

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message as the sink received it.
type Message struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Sink is a running server.
type Sink struct {
	// Addr is host:port.
	Addr string
	// Username and Password, when set, are required (AUTH PLAIN over the plain connection).
	Username, Password string
	// Discard makes the sink count messages without keeping them (benchmarks).
	Discard bool
	// Fault, when set, is asked about each message after its data arrived; a non-nil error
	// (an *smtp.SMTPError for a given reply code) is the server's reply instead of 250.
	// Hang, when it returns true, makes the server never answer that message's data.
	Fault func(to string, data []byte) error
	Hang  func(to string) bool

	srv      *smtp.Server
	count    atomic.Int64
	first    atomic.Int64 // unix nanoseconds of the first accepted message
	last     atomic.Int64
	mu       sync.Mutex
	messages []Message
	hung     chan struct{}
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves until Close.
func Start(addr string) (*Sink, error) {
	s := &Sink{hung: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.Addr = l.Addr().String()
	go s.srv.Serve(l)
	return s, nil
}

// TB is the part of testing.TB that StartTB needs (this package serves the benchmark too, which
// should not link the testing package).
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// HangingTB listens on a free loopback port for a test and accepts connections without ever
// saying a word, like a relay whose process is wedged behind a live TCP stack; it returns the
// port. Its connections are closed when the test ends.
func HangingTB(tb TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// StartTB starts a sink on a free loopback port for a test, closed when the test ends.
func StartTB(tb TB) *Sink {
	tb.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Port is the port the sink listens on.
func (s *Sink) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the server and releases hung sessions.
func (s *Sink) Close() error {
	close(s.hung)
	return s.srv.Close()
}

// Count is the number of messages accepted.
func (s *Sink) Count() int64 { return s.count.Load() }

// First and Last are when the first and the latest message were accepted (zero before any).
func (s *Sink) First() time.Time { return unixNano(s.first.Load()) }
func (s *Sink) Last() time.Time  { return unixNano(s.last.Load()) }

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Messages returns a copy of the messages kept.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Sink) accept(m Message) {
	now := time.Now()
	m.At = now
	s.first.CompareAndSwap(0, now.UnixNano())
	s.last.Store(now.UnixNano())
	s.count.Add(1)
	if s.Discard {
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
}

type session struct {
	sink   *Sink
	authed bool
	msg    Message
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.sink.Username || password != ss.sink.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	to := ""
	if len(ss.msg.To) > 0 {
		to = ss.msg.To[0]
	}
	if ss.sink.Hang != nil && ss.sink.Hang(to) {
		<-ss.sink.hung
		return errors.New("sink closed")
	}
	if ss.sink.Fault != nil {
		if err := ss.sink.Fault(to, buf.Bytes()); err != nil {
			return err
		}
	}
	if !ss.sink.Discard {
		ss.msg.Data = buf.Bytes()
	}
	ss.sink.accept(ss.msg)
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

// Reply returns the SMTP error for a reply code, e.g. Reply(451) or Reply(550).
func Reply(code int) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "injected by the test sink"}
}
