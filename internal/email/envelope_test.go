package email

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wneessen/go-mail/smtp"
)

// scriptRelay is a scripted SMTP relay on 127.0.0.1 offering exts (PIPELINING among them or
// not) that accepts every envelope and message and records each command, noting those that
// arrived with more commands behind them in the same read (pipelined).
type scriptRelay struct {
	addr string

	mu        sync.Mutex
	commands  []string
	pipelined []string // commands read with more already buffered behind them
}

func newScriptRelay(t *testing.T, exts ...string) *scriptRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &scriptRelay{addr: ln.Addr().String()}
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
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				r.serve(conn, exts)
			}()
		}
	}()
	return r
}

func (r *scriptRelay) serve(conn net.Conn, exts []string) {
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
			reply("250 queued")
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
