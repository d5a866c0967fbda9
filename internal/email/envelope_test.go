package email

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// scriptRelay is a scripted SMTP relay on 127.0.0.1 offering exts (PIPELINING among them or
// not) that accepts every envelope and message and records each command, noting those that
// arrived with more commands behind them in the same read (pipelined).
type scriptRelay struct {
	addr string
	// hook, if set, answers cmd on the conn-th connection (from 0) in place of the script when
	// it says handled; hangup closes the connection after.
	hook func(conn int, cmd string, reply func(string)) (handled, hangup bool)
	// endReply answers the end of each message's data.
	endReply string

	mu        sync.Mutex
	conns     int
	commands  []string
	pipelined []string // commands read with more already buffered behind them
	messages  int      // messages whose end of data was answered 250
}

func newScriptRelay(t *testing.T, exts ...string) *scriptRelay {
	return newHookedRelay(t, nil, exts...)
}

func newHookedRelay(t *testing.T, hook func(conn int, cmd string, reply func(string)) (handled, hangup bool), exts ...string) *scriptRelay {
	t.Helper()
	return startRelay(t, &scriptRelay{hook: hook, endReply: "250 queued"}, exts...)
}

// startRelay starts r (hook and endReply set) on 127.0.0.1.
func startRelay(t *testing.T, r *scriptRelay, exts ...string) *scriptRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			n := r.conns
			r.conns++
			r.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				r.serve(n, conn, exts)
			}()
		}
	}()
	return r
}

func (r *scriptRelay) serve(n int, conn net.Conn, exts []string) {
	br := bufio.NewReader(conn)
	reply := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
	reply("220 script.test ESMTP")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		r.mu.Lock()
		r.commands = append(r.commands, cmd)
		if br.Buffered() > 0 {
			r.pipelined = append(r.pipelined, cmd)
		}
		r.mu.Unlock()
		if r.hook != nil {
			if handled, hangup := r.hook(n, cmd, reply); hangup {
				return
			} else if handled {
				continue
			}
		}
		switch verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0]); {
		case verb == "EHLO":
			lines := append([]string{"script.test"}, exts...)
			var b strings.Builder
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				fmt.Fprintf(&b, "250%s%s\r\n", sep, l)
			}
			_, _ = conn.Write([]byte(b.String()))
		case strings.HasPrefix(verb, "MAIL"), strings.HasPrefix(verb, "RCPT"), verb == "RSET", verb == "NOOP":
			reply("250 ok")
		case verb == "DATA":
			reply("354 go on")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			r.mu.Lock()
			r.messages++
			r.mu.Unlock()
			reply(r.endReply)
		case verb == "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not here")
		}
	}
}

// envelopes returns the MAIL FROM and RCPT TO commands recorded, in order.
func (r *scriptRelay) envelopes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.commands {
		if u := strings.ToUpper(c); strings.HasPrefix(u, "MAIL") || strings.HasPrefix(u, "RCPT") {
			out = append(out, c)
		}
	}
	return out
}

// The pipelined envelope's MAIL FROM and RCPT TO carry the parameters go-mail's own Mail and
// Rcpt give them on the same client (the lock-step path, taken for a relay without
// PIPELINING): for every set of 8BITMIME, SMTPUTF8 and DSN the relay offers, and the client's
// SMTPUTF8 and DSN options.
func TestPipelinedEnvelope_SendsWhatGoMailSends(t *testing.T) {
	if !clientOptions.known {
		t.Fatal("go-mail's smtp.Client has none of the option fields envelopeParams reads: every envelope goes in lock step")
	}
	optional := []string{"8BITMIME", "SMTPUTF8", "DSN"}
	msg := []byte("Subject: params\r\n\r\nbody\r\n")
	for set := range 1 << len(optional) {
		var exts []string
		for i, e := range optional {
			if set&(1<<i) != 0 {
				exts = append(exts, e)
			}
		}
		t.Run(strings.Join(append([]string{"ext"}, exts...), "+"), func(t *testing.T) {
			piped := newScriptRelay(t, append([]string{"PIPELINING"}, exts...)...)
			lockstep := newScriptRelay(t, exts...)
			var clients []*smtp.Client
			for _, r := range []*scriptRelay{piped, lockstep} {
				c, err := smtp.Dial(r.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			n := 0
			for _, skipUTF8 := range []bool{false, true} {
				for _, ret := range []string{"", "HDRS", "FULL"} {
					for _, notify := range []string{"", "NEVER", "SUCCESS,FAILURE,DELAY"} {
						for _, c := range clients {
							c.SkipSMTPUTF8(skipUTF8)
							c.SetDSNMailReturnOption(ret)
							c.SetDSNRcptNotifyOption(notify)
							if err := Transaction(c, "notices@example.test", "customer@example.test", msg); err != nil {
								t.Fatalf("skipUTF8=%v ret=%q notify=%q: %v", skipUTF8, ret, notify, err)
							}
						}
						n++
						got, want := piped.envelopes(), lockstep.envelopes()
						if len(got) != 2*n || !slices.Equal(got, want) {
							t.Fatalf("skipUTF8=%v ret=%q notify=%q: pipelined %q, go-mail's %q", skipUTF8, ret, notify,
								got[max(len(got)-2, 0):], want[max(len(want)-2, 0):])
						}
					}
				}
			}
			// The pipelined relay got MAIL and RCPT with more behind them: the path was pipelined.
			piped.mu.Lock()
			defer piped.mu.Unlock()
			if len(piped.pipelined) != 2*n {
				t.Errorf("%d commands pipelined, want MAIL and RCPT of %d transactions", len(piped.pipelined), n)
			}
			lockstep.mu.Lock()
			defer lockstep.mu.Unlock()
			if len(lockstep.pipelined) != 0 {
				t.Errorf("lock-step relay got %q with more behind them", lockstep.pipelined)
			}
		})
	}
}

// A DSN option with a line break in it is refused before anything is written (go-mail's Mail
// would send it as two commands).
func TestPipelinedEnvelope_RefusesALineBreakInADSNOption(t *testing.T) {
	r := newScriptRelay(t, "PIPELINING", "DSN")
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDSNRcptNotifyOption("NEVER\r\nRCPT TO:<other@example.test>")
	if err := Transaction(c, "notices@example.test", "customer@example.test", []byte("x\r\n")); err == nil {
		t.Fatal("no error")
	}
	if got := r.envelopes(); len(got) != 0 {
		t.Fatalf("relay got %q", got)
	}
}

// relaySender is a Sender of one connection to r, without TLS or login.
func relaySender(t *testing.T, r *scriptRelay) *Sender {
	t.Helper()
	host, port, err := net.SplitHostPort(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSender(Config{Host: host, Port: p, TLS: TLSNone, Timeout: 2 * time.Second}, nil, 1)
	t.Cleanup(func() { s.Close() })
	return s
}

func (r *scriptRelay) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.messages
}

func (r *scriptRelay) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// Multi-line replies to pipelined commands keep the connection in step: two messages go
// through one connection.
func TestPipelinedEnvelope_MultiLineRepliesKeepInStep(t *testing.T) {
	r := newHookedRelay(t, func(_ int, cmd string, reply func(string)) (bool, bool) {
		switch verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0]); {
		case strings.HasPrefix(verb, "MAIL"), strings.HasPrefix(verb, "RCPT"):
			reply("250-first line\r\n250-second line\r\n250 ok")
			return true, false
		}
		return false, false
	}, "PIPELINING")
	s := relaySender(t, r)
	for _, to := range []string{"one@example.test", "two@example.test"} {
		if _, err := s.Send(t.Context(), testMessage(to)); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	if got := r.delivered(); got != 2 {
		t.Errorf("relay accepted %d messages, want 2", got)
	}
	if r.connections() != 1 {
		t.Errorf("%d connections, want 1", r.connections())
	}
}

// A relay that drops the connection in the middle of the pipelined envelope (after answering
// MAIL FROM) fails that send, temporarily, with no message accepted and no second try on the
// same Send (the RCPT may have been taken); the next send dials afresh.
func TestPipelinedEnvelope_RelayDroppingMidPipeline(t *testing.T) {
	r := newHookedRelay(t, func(conn int, cmd string, reply func(string)) (bool, bool) {
		if conn == 0 && strings.HasPrefix(strings.ToUpper(cmd), "RCPT") {
			return true, true // MAIL was answered; RCPT and DATA never are
		}
		return false, false
	}, "PIPELINING")
	s := relaySender(t, r)
	_, err := s.Send(t.Context(), testMessage("one@example.test"))
	var e *Error
	if !errors.As(err, &e) || e.Permanent || e.stage != stageRcpt {
		t.Fatalf("send: %v, want a temporary failure at RCPT TO", err)
	}
	if r.delivered() != 0 || r.connections() != 1 {
		t.Fatalf("relay accepted %d messages over %d connections, want none over 1", r.delivered(), r.connections())
	}
	if _, err := s.Send(t.Context(), testMessage("two@example.test")); err != nil {
		t.Fatalf("next send: %v", err)
	}
	if r.delivered() != 1 || r.connections() != 2 {
		t.Errorf("relay accepted %d messages over %d connections, want 1 over 2", r.delivered(), r.connections())
	}
}

// A relay answering out of step (two stray replies ahead of its answer to MAIL FROM) never
// makes a message look accepted: the send fails at DATA (a 250 where 354 was due), and the
// connection is not used again, though the RSET that would have reset it is answered (by the
// 250 due to RCPT TO). Kept, the next message on it failed after the transaction's timeout
// (its MAIL FROM read the relay's 354, and the relay took its commands as message data).
func TestPipelinedEnvelope_RelayOutOfStep(t *testing.T) {
	r := newHookedRelay(t, func(conn int, cmd string, reply func(string)) (bool, bool) {
		if conn == 0 && strings.HasPrefix(strings.ToUpper(cmd), "MAIL") {
			reply("250 stray\r\n250 stray\r\n250 ok")
			return true, false
		}
		return false, false
	}, "PIPELINING")
	s := relaySender(t, r)
	_, err := s.Send(t.Context(), testMessage("one@example.test"))
	var e *Error
	if !errors.As(err, &e) || e.Permanent || e.stage != stageData {
		t.Fatalf("send: %v, want a temporary failure at DATA", err)
	}
	if _, err := s.Send(t.Context(), testMessage("two@example.test")); err != nil {
		t.Fatalf("next send: %v", err)
	}
	if r.delivered() != 1 {
		t.Errorf("relay accepted %d messages, want only the second", r.delivered())
	}
	if n := r.connections(); n != 2 {
		t.Errorf("%d connections, want 2 (the one out of step dropped)", n)
	}
}

// A relay that answers the end of a message's data with a positive reply other than 250 (251)
// has taken it: the message is sent, and not handed to another relay of the pool as well.
// Before, the 251 was a temporary failure: the pool sent the message again through the next
// relay (two copies), and a single relay's queue would have retried it later.
func TestPool_APositiveReplyOtherThan250AtTheEndOfDataIsATaking(t *testing.T) {
	odd := startRelay(t, &scriptRelay{endReply: "251 2.0.0 accepted, will forward"}, "PIPELINING")
	sound := newScriptRelay(t, "PIPELINING")
	var relays []Relay
	for i, r := range []*scriptRelay{odd, sound} {
		host, port, _ := net.SplitHostPort(r.addr)
		p, _ := strconv.Atoi(port)
		weight := 1
		if i == 0 {
			weight = 100 // chosen first
		}
		relays = append(relays, Relay{Config: Config{Host: host, Port: p, TLS: TLSNone, Timeout: 2 * time.Second}, Name: r.addr, Weight: weight})
	}
	p := NewPool(relays, nil, PoolOptions{Conns: 1})
	defer p.Close()
	rc, err := p.Deliver(t.Context(), testMessage("one@example.test"))
	if err != nil {
		t.Fatalf("deliver: %v (tries %+v)", err, rc.Tries)
	}
	if odd.delivered() != 1 || sound.delivered() != 0 {
		t.Errorf("relays got %d and %d copies, want 1 and 0 (tries %+v)", odd.delivered(), sound.delivered(), rc.Tries)
	}
	if len(rc.Tries) != 1 || rc.Tries[0].Result != TrySent {
		t.Errorf("tries %+v, want one, sent", rc.Tries)
	}
}
