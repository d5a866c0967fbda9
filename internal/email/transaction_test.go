package email

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/wneessen/go-mail/smtp"
)

func TestWriteData_WritesWhatTextprotosDotWriterWrites(t *testing.T) {
	// Lines that start with a dot (stuffed), bare LF (made CRLF), a last line without a line
	// break. Not a lone CR: Build never writes one (and DotWriter treats "\r\r\n" oddly).
	pieces := []string{"a", "line", "\r\n", "\n", ".", "..", " ", "é"}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 3000 {
		var b strings.Builder
		for range rng.IntN(40) + 1 {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		raw := []byte(b.String())

		var want bytes.Buffer
		tw := textproto.NewWriter(bufio.NewWriter(&want))
		dw := tw.DotWriter()
		dw.Write(raw)
		dw.Close()

		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		if err := writeData(w, raw); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("case %d: writeData(%q) = %q, DotWriter writes %q", i, raw, got.Bytes(), want.Bytes())
		}
	}
}

func TestSender_LinesStartingWithADotArriveIntact(t *testing.T) {
	snk := newSink(t)
	s := NewSender(snk.config(), nil, 1)
	defer s.Close()
	m := testMessage("customer@example.net")
	m.Text = ".\n..two dots\n.one dot\nlast line"
	for range 2 { // the second on the same connection: the first one's data ended cleanly
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := snk.received()
	if len(got) != 2 {
		t.Fatalf("received %d messages, want 2", len(got))
	}
	for _, msg := range got {
		if body := parts(t, parse(t, msg.Data))["text/plain"]; strings.ReplaceAll(body, "\r\n", "\n") != m.Text {
			t.Errorf("text part = %q, want %q", body, m.Text)
		}
	}
}

// TestTransaction_RelayWithoutPipeliningIsAnsweredInLockStep drives the envelope a relay gets
// when it does not offer PIPELINING (go-smtp's server always offers it, so the sink never
// takes this path): a scripted relay that answers each command only after reading it, and
// fails the test if a command arrives before the reply to the one before it was sent.
func TestTransaction_RelayWithoutPipeliningIsAnsweredInLockStep(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		commands []string
		data     string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() { done <- res }()
		conn, err := ln.Accept()
		if err != nil {
			res.err = err
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		reply := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
		reply("220 lockstep.test ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimRight(line, "\r\n")
			res.commands = append(res.commands, cmd)
			if r.Buffered() > 0 {
				res.err = fmt.Errorf("the client sent more after %q before its reply", cmd)
				return
			}
			switch verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0]); {
			case verb == "EHLO":
				reply("250-lockstep.test\r\n250 8BITMIME")
			case strings.HasPrefix(verb, "MAIL"), strings.HasPrefix(verb, "RCPT"):
				reply("250 ok")
			case verb == "DATA":
				reply("354 go on")
				var data strings.Builder
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						res.err = err
						return
					}
					if l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				res.data = data.String()
				reply("250 queued as LOCK1")
			case verb == "QUIT":
				reply("221 bye")
				return
			default:
				reply("502 not here")
			}
		}
	}()

	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("PIPELINING"); ok {
		t.Fatal("the scripted relay offers PIPELINING; the test would not cover the lock-step path")
	}
	msg := []byte("Subject: lock step\r\n\r\n.a line that starts with a dot\r\nend\r\n")
	if err := Transaction(c, "notices@example.test", "customer@example.test", msg); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	_ = c.Quit()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{"MAIL FROM:<notices@example.test> BODY=8BITMIME", "RCPT TO:<customer@example.test>", "DATA"}
	if len(res.commands) < 4 || !slices.Equal(res.commands[1:4], want) {
		t.Fatalf("commands = %q, want EHLO then %q", res.commands, want)
	}
	if wantData := "Subject: lock step\r\n\r\n..a line that starts with a dot\r\nend\r\n"; res.data != wantData {
		t.Fatalf("data = %q, want %q", res.data, wantData)
	}
}
