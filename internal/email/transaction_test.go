package email

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"net/textproto"
	"strings"
	"testing"
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
