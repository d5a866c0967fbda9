package email

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// ErrClosed is the cause of the error Send returns once Close has been called.
var ErrClosed = errors.New("email sender is closed")

// quitTimeout bounds the polite QUIT on Close: a relay that does not answer it must not hold
// up a worker's shutdown.
const quitTimeout = 5 * time.Second

// Sender sends messages over persistent SMTP connections.
//
// A new connection costs a TCP and TLS handshake, EHLO and AUTH — several round trips and far
// more CPU than a message on a warm connection — so a Sender keeps up to conns connections
// open and gives each Send one of them. Connections are dialled lazily, on the first Send that
// needs one, and dropped after any failure that may have left them in an unknown state; the
// next Send on that slot dials again.
//
// Each message is rendered (and DKIM-signed) before a connection is taken, so signing, which
// is CPU-bound, runs in parallel and never holds a connection idle.
type Sender struct {
	cfg  Config
	dkim *DKIM

	// dialer is go-mail's Client, used only to open connections (TCP, TLS, EHLO, AUTH):
	// DialToSMTPClientWithContext is safe for concurrent use. dialErr is set instead when the
	// configuration cannot make one, and returned by every Send.
	dialer  *mail.Client
	dialErr error

	// slots holds one entry per allowed connection; taking one is the right to use (or
	// dial) its connection, so no more than cap(slots) connections ever exist.
	slots chan *slot
	done  chan struct{}

	// buffers holds *[]byte the messages are rendered into, reused once sent: a notice is
	// tens of kilobytes, and allocating each anew was much of the worker's garbage.
	buffers sync.Pool

	closeOnce sync.Once
	closeErr  error
}

// maxPooledBuffer is the largest buffer kept for reuse: a rare huge message is not held on to.
const maxPooledBuffer = 1 << 20

// slot is one connection, nil until dialled and after it was dropped.
type slot struct {
	client *smtp.Client
}

// NewSender returns a Sender that keeps at most conns connections to the relay cfg describes
// (at least one). It dials nothing yet; a bad configuration shows as an error from Send.
func NewSender(cfg Config, dkim *DKIM, conns int) *Sender {
	if conns < 1 {
		conns = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Sender{
		cfg:   cfg,
		dkim:  dkim,
		slots: make(chan *slot, conns),
		done:  make(chan struct{}),
	}
	s.dialer, s.dialErr = newDialer(cfg)
	for range conns {
		s.slots <- &slot{}
	}
	return s
}

// newDialer configures go-mail's client for cfg.
func newDialer(cfg Config) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case TLSStartTLS, "":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("SMTP TLS mode %q is not one of starttls, tls, none", cfg.TLS)
	}
	if cfg.Username != "" {
		// Over TLS, let go-mail pick the strongest mechanism the relay offers. Without TLS
		// only PLAIN is allowed, and only because tls=none was asked for explicitly (a local
		// sink); go-mail would otherwise refuse to send a password in clear.
		auth := mail.SMTPAuthAutoDiscover
		if cfg.TLS == TLSNone {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("configure SMTP client for %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return c, nil
}

// Send delivers one message, reusing one of the Sender's connections; it is safe for
// concurrent use. It returns the message's Message-ID on success, or an *Error.
//
// ctx bounds the wait for a free connection and the dial; once a transaction has started it
// is bounded by cfg.Timeout or ctx's deadline, whichever is sooner, but not interrupted by a
// cancellation without a deadline (go-mail's SMTP client cannot be interrupted mid-command).
//
// A connection that the relay closed while idle is noticed at MAIL FROM, before the relay has
// accepted anything, and the message is tried once more on a fresh connection. No other
// failure is retried here: once the message's data has been sent, only the queue may decide to
// try again, knowing that a lost final reply means the message may have been delivered.
func (s *Sender) Send(ctx context.Context, m Message) (messageID string, err error) {
	buf, _ := s.buffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	raw, sig, id, err := render((*buf)[:0], m, s.dkim)
	if err != nil {
		s.buffers.Put(buf)
		return "", messageError(err)
	}
	defer func() {
		if cap(raw) <= maxPooledBuffer {
			*buf = raw[:0]
			s.buffers.Put(buf)
		}
	}()

	sl, e := s.acquire(ctx)
	if e != nil {
		return "", e
	}
	defer s.release(sl)

	reused := sl.client != nil
	e = s.deliver(ctx, sl, m.From, m.To, []byte(sig), raw)
	if e != nil && reused && staleConnection(e) {
		e = s.deliver(ctx, sl, m.From, m.To, []byte(sig), raw)
	}
	if e != nil {
		return "", e
	}
	return id, nil
}

// Conns is how many connections s keeps at most.
func (s *Sender) Conns() int { return cap(s.slots) }

// acquire waits for a free connection slot.
func (s *Sender) acquire(ctx context.Context) (*slot, *Error) {
	select {
	case <-s.done:
		return nil, &Error{Err: ErrClosed, stage: "wait"}
	case <-ctx.Done():
		return nil, &Error{Err: ctx.Err(), stage: "wait"}
	case sl := <-s.slots:
		select {
		case <-s.done: // Close raced with us; let it have the slot.
			s.release(sl)
			return nil, &Error{Err: ErrClosed, stage: "wait"}
		default:
			return sl, nil
		}
	}
}

func (s *Sender) release(sl *slot) { s.slots <- sl }

// deliver runs one SMTP transaction on sl's connection, dialling it first if needed.
// The message's data is sig (its DKIM-Signature, possibly empty) then raw.
func (s *Sender) deliver(ctx context.Context, sl *slot, from, to string, sig, raw []byte) *Error {
	if err := ctx.Err(); err != nil {
		return &Error{Err: err, stage: "wait"}
	}
	if sl.client == nil {
		if s.dialErr != nil {
			return dialError(s.dialErr)
		}
		c, err := s.dial(ctx)
		if err != nil {
			return dialError(fmt.Errorf("connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err))
		}
		sl.client = c
	}
	c := sl.client

	if err := c.UpdateDeadline(s.transactionTimeout(ctx)); err != nil {
		s.drop(sl)
		return &Error{Err: err, stage: stageMail}
	}
	stage, err := transaction(c, from, to, sig, raw)
	switch {
	case err == nil:
		return nil
	case stage == stageBody:
		s.drop(sl)
		return smtpError(stage, err)
	default:
		return s.fail(sl, stage, err)
	}
}

// dial connects to the relay and reads its greeting, giving up when ctx ends. go-mail's dial
// waits for the greeting until its own timeout whatever the context says: a relay that accepts
// connections and never speaks held a cancelled campaign's notices, and a relay's set-aside,
// for the whole timeout. A dial given up goes on in the background until that timeout, and
// closes what it got.
func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	type dialed struct {
		c   *smtp.Client
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		c, err := s.dialer.DialToSMTPClientWithContext(context.WithoutCancel(ctx))
		done <- dialed{c, err}
	}()
	select {
	case d := <-done:
		return d.c, d.err
	case <-ctx.Done():
		go func() {
			if d := <-done; d.c != nil {
				_ = d.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// transactionTimeout is how long one transaction may take: cfg.Timeout, or less if ctx's
// deadline comes sooner.
func (s *Sender) transactionTimeout(ctx context.Context) time.Duration {
	d := s.cfg.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); left < d {
			d = max(left, time.Millisecond)
		}
	}
	return d
}

// fail classifies err and decides what becomes of the connection. After an ordinary reply
// (4xx or 5xx other than 421) the connection is sound: the transaction is reset, or already
// over after the end of data, and the connection kept. After anything else — 421 (the relay is
// closing), a timeout, a reset, or a positive reply where it was not due (a 250 for DATA: the
// relay's replies and the commands are out of step, and an RSET could be answered by a reply
// still due to another command) — the connection's state is unknown and it is dropped.
func (s *Sender) fail(sl *slot, stage string, err error) *Error {
	e := smtpError(stage, err)
	if e.Code < 400 || e.Code == 421 {
		s.drop(sl)
		return e
	}
	if stage != stageEnd {
		if rerr := sl.client.Reset(); rerr != nil {
			s.drop(sl)
		}
	}
	return e
}

// drop closes sl's connection without a QUIT: the connection is presumed broken, and waiting
// for a reply on it would only add a timeout.
func (s *Sender) drop(sl *slot) {
	if sl.client != nil {
		_ = sl.client.Close()
		sl.client = nil
	}
}

// staleConnection reports whether e is how a connection the relay closed while idle fails:
// at MAIL FROM, with a network error or 421, and not a timeout (a relay that hangs would only
// hang again). Nothing was accepted, so trying again cannot send the message twice.
func staleConnection(e *Error) bool {
	if e.stage != stageMail || (e.Code != 0 && e.Code != 421) {
		return false
	}
	return !errors.Is(e.Err, os.ErrDeadlineExceeded) &&
		!errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded)
}

// messageError classifies a failure to build the message: permanent when the message itself
// is at fault, temporary when the configuration is (a bad DKIM key must not fail a campaign).
func messageError(err error) *Error {
	return &Error{Permanent: errors.Is(err, ErrInvalidMessage), Err: err, stage: "message"}
}

// Close waits for the Sends in progress, then says QUIT on every open connection. Sends
// after Close fail with ErrClosed. Calling Close again does nothing.
func (s *Sender) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		var errs []error
		for range cap(s.slots) {
			sl := <-s.slots
			if sl.client == nil {
				continue
			}
			if err := quit(sl.client); err != nil {
				errs = append(errs, err)
			}
			sl.client = nil
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func quit(c *smtp.Client) error {
	_ = c.UpdateDeadline(quitTimeout)
	err := c.Quit()
	_ = c.Close() // Quit does not close the connection when the relay fails to answer.
	if err != nil {
		return fmt.Errorf("close SMTP connection: %w", err)
	}
	return nil
}
