package email

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

func TestParseRelays(t *testing.T) {
	relays, err := ParseRelays(" smtp://u:p%2Cw@relay1.example:587?tls=starttls&weight=3&rate=100 ,smtps://relay2.example?weight=1&timeout=5s, smtp://relay3.example:25?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, pass   string
		weight, rate int
		tls          TLSMode
		timeout      time.Duration
	}{
		{"relay1.example:587", "p,w", 3, 100, TLSStartTLS, DefaultTimeout},
		{"relay2.example:465", "", 1, 0, TLSImplicit, 5 * time.Second},
		{"relay3.example:25", "", 1, 0, TLSNone, DefaultTimeout},
	}
	if len(relays) != len(want) {
		t.Fatalf("parsed %d relays, want %d", len(relays), len(want))
	}
	for i, w := range want {
		r := relays[i]
		if r.Name != w.name || r.Password != w.pass || r.Weight != w.weight || r.Rate != w.rate || r.TLS != w.tls || r.Timeout != w.timeout {
			t.Errorf("relay %d = %s weight=%d rate=%d, want %+v", i+1, r.Config, r.Weight, r.Rate, w)
		}
	}

	for _, tc := range []struct{ raw, want string }{
		{"smtp://a:587, smtp://b:587?weight=x", `SMTP_URLS relay 2 (b:587): weight="x" is not a positive whole number`},
		{"smtp://a:587?weight=0", `SMTP_URLS relay 1 (a:587): weight="0"`},
		{"smtp://a:587?rate=-1", `SMTP_URLS relay 1 (a:587): rate="-1"`},
		{"smtp://a:587?tls=nnone", `SMTP_URLS relay 1 tls="nnone" is not one of`},
		{"smtp://a:587?wieght=2", `SMTP_URLS relay 1 (a:587): parameter "wieght" is not known`},
		{"smtp://a:587, smtp://a:587?weight=2", "SMTP_URLS relay 2 (a:587) has the same host and port as relay 1"},
		{"smtp://user:hunter,2@a:587", "SMTP_URLS relay 2 needs a scheme"},
		{"smtp://a:587,", "SMTP_URLS relay 2 is empty"},
		{"smtp://a:99999", `SMTP_URLS relay 1 port "99999"`},
	} {
		_, err := ParseRelays(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRelays(%q) error = %v, want %q", tc.raw, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter") {
			t.Errorf("ParseRelays error %q repeats the password", err)
		}
	}
}

// relayFor is a relay of sink s with weight w.
func relayFor(s *sink, w int) Relay {
	cfg := s.config()
	return Relay{Config: cfg, Name: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), Weight: w}
}

// refusingRelay is a relay whose port nobody listens on: every connection is refused.
func refusingRelay(t *testing.T, w int) Relay {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return Relay{Config: Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: time.Second},
		Name: "127.0.0.1:" + strconv.Itoa(port), Weight: w}
}

// tally counts a pool's tries by relay and result.
func tally(tries []Try, into map[string]map[TryResult]int) {
	for _, tr := range tries {
		if into[tr.Relay] == nil {
			into[tr.Relay] = map[TryResult]int{}
		}
		into[tr.Relay][tr.Result]++
	}
}

func TestPool_SpreadsByWeight(t *testing.T) {
	a, b := newSink(t), newSink(t)
	p := NewPool([]Relay{relayFor(a, 3), relayFor(b, 1)}, nil, PoolOptions{Conns: 2})
	defer p.Close()

	counts := map[string]map[TryResult]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("c%d@example.net", i)))
			if err != nil {
				t.Error(err)
				return
			}
			if len(rc.Tries) != 1 || rc.MessageID == "" {
				t.Errorf("receipt %+v, want one try and a Message-ID", rc)
			}
			mu.Lock()
			tally(rc.Tries, counts)
			mu.Unlock()
		})
	}
	wg.Wait()
	// The smooth weighted round-robin is exact: 3 of every 4 choices go to a.
	if got, want := len(a.received()), 30; got != want {
		t.Errorf("relay a (weight 3) received %d of 40, want %d", got, want)
	}
	if got, want := len(b.received()), 10; got != want {
		t.Errorf("relay b (weight 1) received %d of 40, want %d", got, want)
	}
	if got := counts[relayFor(a, 3).Name][TrySent]; got != 30 {
		t.Errorf("receipts say a sent %d, want 30", got)
	}
}

// TestPool_SetsAsideAFailingRelay: a relay refusing connections and one answering 421 are
// set aside after three failures each; every message reaches exactly one relay, once; after
// the cool-down one message probes each, and a failed probe sets the relay aside for longer.
func TestPool_SetsAsideAFailingRelay(t *testing.T) {
	good, busy := newSink(t), newSink(t)
	for range 100 {
		busy.fail("RCPT", 421)
	}
	refusing := refusingRelay(t, 3)
	clock := &fakeClock{t: time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)}
	p := NewPool([]Relay{refusing, relayFor(busy, 2), relayFor(good, 1)}, nil,
		PoolOptions{Conns: 1, Faults: 3, SetAside: time.Minute, Now: clock.now})
	defer p.Close()

	counts := map[string]map[TryResult]int{}
	asideUntil := map[string]time.Time{}
	send := func(n int, prefix string) {
		for i := range n {
			rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("%s%d@example.net", prefix, i)))
			if err != nil {
				t.Fatalf("message %d: %v (tries %+v)", i, err, rc.Tries)
			}
			if last := rc.Tries[len(rc.Tries)-1]; last.Relay != relayFor(good, 1).Name || last.Result != TrySent {
				t.Fatalf("message %d: last try %+v, want sent by the good relay", i, last)
			}
			for _, tr := range rc.Tries {
				if !tr.SetAsideUntil.IsZero() {
					asideUntil[tr.Relay] = tr.SetAsideUntil
				}
			}
			tally(rc.Tries, counts)
		}
	}
	send(20, "c")

	if got := len(good.received()); got != 20 {
		t.Fatalf("the good relay received %d messages, want all 20", got)
	}
	if got := len(busy.received()); got != 0 {
		t.Errorf("the 421 relay received %d messages, want 0", got)
	}
	seen := map[string]bool{}
	for _, m := range good.received() {
		if seen[m.To[0]] {
			t.Errorf("a customer got two messages")
		}
		seen[m.To[0]] = true
	}
	for _, r := range []string{refusing.Name, relayFor(busy, 2).Name} {
		if got := counts[r][TryFailed]; got != 3 {
			t.Errorf("relay %s failed %d times, want 3 (then set aside)", r, got)
		}
		if want := clock.now().Add(time.Minute); !asideUntil[r].Equal(want) {
			t.Errorf("relay %s set aside until %v, want %v", r, asideUntil[r], want)
		}
	}

	// After the cool-down, one message probes each failing relay, which fails and is set
	// aside for twice as long; the other messages are not held up.
	clock.advance(time.Minute + time.Second)
	clear(counts)
	send(5, "d")
	for _, r := range []string{refusing.Name, relayFor(busy, 2).Name} {
		if got := counts[r][TryFailed]; got != 1 {
			t.Errorf("after the cool-down relay %s was tried %d times, want one probe", r, got)
		}
		if want := clock.now().Add(2 * time.Minute); !asideUntil[r].Equal(want) {
			t.Errorf("after a failed probe relay %s set aside until %v, want %v", r, asideUntil[r], want)
		}
	}

	// Once the 421s stop, the probe brings the busy relay back.
	busy.mu.Lock()
	busy.faults["RCPT"] = nil
	busy.mu.Unlock()
	clock.advance(2*time.Minute + time.Second)
	clear(counts)
	for i := range 6 {
		if _, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("e%d@example.net", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(busy.received()); got == 0 {
		t.Errorf("the relay that recovered got no message after its probe")
	}
}

// A refusal the relay puts down to the address (5.1.1: no such mailbox) is the customer's
// outcome: no other relay is asked.
func TestPool_RecipientsRefusalIsNotTriedElsewhere(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.refuse("RCPT", 1, 550, smtp.EnhancedCode{5, 1, 1})
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1})
	defer p.Close()

	rc, err := p.Deliver(context.Background(), testMessage("gone@example.net"))
	var e *Error
	if !errors.As(err, &e) || !e.Permanent || e.Code != 550 {
		t.Fatalf("Deliver error = %v, want the permanent 550", err)
	}
	if len(rc.Tries) != 1 || rc.Tries[0].Result != TryRejected {
		t.Errorf("tries = %+v, want one rejected", rc.Tries)
	}
	if got := len(b.received()); got != 0 {
		t.Errorf("the other relay received %d messages after a 5xx, want 0", got)
	}
}

// A relay that refuses every message with a policy code (an unverified sender domain, a
// suspended account answering at the end of the data) loses no customer: each notice it
// refuses goes to the other relay. It is not set aside (it answers; a refusal may be the
// customer's), and its refusals show in its count. The acceptance walk's campaign had that
// relay's 300 of 600 customers failed for good.
func TestPool_RelayRefusingEverythingLosesNoCustomer(t *testing.T) {
	bad, good := newSink(t), newSink(t)
	bad.refuse("DATA", 100, 550, smtp.EnhancedCode{5, 7, 1})
	p := NewPool([]Relay{relayFor(bad, 1), relayFor(good, 1)}, nil, PoolOptions{Conns: 1, Faults: 3})
	defer p.Close()

	counts := map[string]map[TryResult]int{}
	for i := range 20 {
		rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("c%d@example.net", i)))
		if err != nil {
			t.Fatalf("notice %d: %v, want the other relay to take it", i, err)
		}
		tally(rc.Tries, counts)
		for _, tr := range rc.Tries {
			if !tr.SetAsideUntil.IsZero() {
				t.Errorf("notice %d set %s aside for refusing", i, tr.Relay)
			}
		}
	}
	badName := relayFor(bad, 1).Name
	if len(good.received()) != 20 || len(bad.received()) != 0 || counts[badName][TryRejected] != 10 {
		t.Errorf("good received %d, bad %d; bad's refusals %d; want 20, 0, 10 (its weight's share of the first tries)",
			len(good.received()), len(bad.received()), counts[badName][TryRejected])
	}
}

// When every relay refuses a notice for a reason not of its address, the refusal stands (the
// notice itself is refused: a permanent failure); when another relay failed only for now, the
// queue tries again.
func TestPool_RefusedByEveryRelayIsPermanentUnlessOneFailedForNow(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.refuse("DATA", 1, 550, smtp.EnhancedCode{5, 7, 1})
	b.refuse("DATA", 1, 554, smtp.EnhancedCode{5, 7, 1})
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1})
	defer p.Close()
	rc, err := p.Deliver(context.Background(), testMessage("x@example.net"))
	var e *Error
	if !errors.As(err, &e) || !e.Permanent || len(rc.Tries) != 2 {
		t.Errorf("refused by both: %v after %+v, want a permanent failure after two tries", err, rc.Tries)
	}

	a.refuse("DATA", 1, 550, smtp.EnhancedCode{5, 7, 1})
	b.refuse("DATA", 1, 451, smtp.EnhancedCode{4, 3, 0})
	rc, err = p.Deliver(context.Background(), testMessage("y@example.net"))
	if !errors.As(err, &e) || e.Permanent || len(rc.Tries) != 2 {
		t.Errorf("refused by one, deferred by the other: %v after %+v, want a temporary failure", err, rc.Tries)
	}
}

// Two relays that both refuse every message (one account behind two endpoints): every notice
// is refused by both, for good, so that the failure guard counts it and pauses the campaign;
// neither relay is set aside — set aside for refusing, "no relay for now" was the answer and
// every notice was retried until it gave up (review), or, answering with the last refusal, a
// healthy relay's stale addresses failed live customers (second review). One relay set aside
// after temporary failures instead: the queue tries again.
func TestPool_EveryRelayRefusingIsARefusalOfEachNotice(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.refuse("DATA", 100, 554, smtp.EnhancedCode{5, 7, 1})
	b.refuse("DATA", 100, 554, smtp.EnhancedCode{5, 7, 1})
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1, Faults: 3})
	defer p.Close()
	for i := range 10 {
		rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("c%d@example.net", i)))
		var e *Error
		if !errors.As(err, &e) || !e.Permanent || e.Code != 554 || len(rc.Tries) != 2 {
			t.Fatalf("notice %d: %v after %+v, want the 554 refusal of both, permanent", i, err, rc.Tries)
		}
	}
	c, d := newSink(t), newSink(t)
	c.refuse("DATA", 100, 554, smtp.EnhancedCode{5, 7, 1})
	d.refuse("DATA", 100, 451, smtp.EnhancedCode{4, 3, 0})
	q := NewPool([]Relay{relayFor(c, 1), relayFor(d, 1)}, nil, PoolOptions{Conns: 1, Faults: 3})
	defer q.Close()
	for i := range 6 {
		_, err := q.Deliver(context.Background(), testMessage(fmt.Sprintf("d%d@example.net", i)))
		var e *Error
		if !errors.As(err, &e) || e.Permanent {
			t.Errorf("notice %d: %v, want a temporary failure: one relay only failed for now", i, err)
		}
	}
}

// Stale addresses that relays refuse only at the end of the data ("550 5.1.1", no RCPT TO
// check) set no relay aside: the customers after them are sent, not failed with another's
// refusal (second review: 18 live customers failed "no such mailbox").
func TestPool_StaleAddressesAtTheEndOfDataSetNoRelayAside(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.refuse("DATA", 9, 550, smtp.EnhancedCode{5, 1, 1})
	b.refuse("DATA", 9, 550, smtp.EnhancedCode{5, 1, 1})
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1, Faults: 3})
	defer p.Close()
	for i := range 9 {
		if _, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("gone%d@example.net", i))); err == nil {
			t.Fatalf("stale address %d was taken", i)
		}
	}
	for i := range 5 {
		if _, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("live%d@example.net", i))); err != nil {
			t.Errorf("live customer %d: %v, want sent", i, err)
		}
	}
}

// A refusal of the recipient at RCPT TO — "550 User unknown", without an enhanced code — is
// offered to the other relay, but sets neither aside: a list's stale addresses in a row set
// both healthy relays aside, and the customers after them waited (review).
func TestPool_RecipientRefusalsSetNoRelayAside(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.refuse("RCPT", 3, 550, smtp.EnhancedCode{})
	b.refuse("RCPT", 3, 550, smtp.EnhancedCode{})
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1, Faults: 3})
	defer p.Close()
	for i := range 3 {
		rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("gone%d@example.net", i)))
		var e *Error
		if !errors.As(err, &e) || !e.Permanent || len(rc.Tries) != 2 {
			t.Fatalf("stale address %d: %v after %+v, want refused by both", i, err, rc.Tries)
		}
	}
	for i := range 5 {
		if _, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("live%d@example.net", i))); err != nil {
			t.Errorf("live customer %d: %v, want sent", i, err)
		}
	}
}

func TestPool_AllRelaysSetAsideIsTemporary(t *testing.T) {
	p := NewPool([]Relay{refusingRelay(t, 1)}, nil, PoolOptions{Conns: 1, Faults: 1})
	defer p.Close()

	if _, err := p.Deliver(context.Background(), testMessage("a@example.net")); err == nil {
		t.Fatal("a refusing relay accepted a message")
	}
	rc, err := p.Deliver(context.Background(), testMessage("b@example.net"))
	var e *Error
	if !errors.As(err, &e) || e.Permanent || !errors.Is(err, ErrNoRelay) {
		t.Fatalf("Deliver error = %v, want a temporary ErrNoRelay", err)
	}
	if len(rc.Tries) != 0 {
		t.Errorf("tries = %+v, want none", rc.Tries)
	}
}

func TestMaybeDelivered(t *testing.T) {
	for _, tc := range []struct {
		stage string
		code  int
		want  bool
	}{
		{"dial", 0, true}, {"MAIL FROM", 421, true}, {"RCPT TO", 451, true}, {"DATA", 0, true},
		{"end of data", 451, true},
		// The data went out and the reply is unknown: possibly delivered.
		{"end of data", 0, false}, {"message body", 0, false},
		// Not a refusal, whatever it is: possibly delivered.
		{"end of data", 354, false},
	} {
		if got := !(&Error{stage: tc.stage, Code: tc.code}).MaybeDelivered(); got != tc.want {
			t.Errorf("MaybeDelivered(%s, %d) = %v, want %v", tc.stage, tc.code, !got, !tc.want)
		}
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A relay that refuses our sender (530, 550 at MAIL FROM: not authenticated, sender not
// verified, account suspended) is at fault, not the customer: the notice goes to another relay.
func TestPool_RefusedSenderGoesToAnotherRelay(t *testing.T) {
	a, b := newSink(t), newSink(t)
	a.fail("MAIL", 550)
	p := NewPool([]Relay{relayFor(a, 1), relayFor(b, 1)}, nil, PoolOptions{Conns: 1})
	defer p.Close()

	refused := 0
	for i := range 2 { // round robin: one of the two is offered to a first
		rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("c%d@example.net", i)))
		if err != nil {
			t.Fatalf("Deliver: %v, want the other relay to take it", err)
		}
		for _, try := range rc.Tries {
			if try.Result == TryFailed {
				refused++
			}
		}
	}
	if refused != 1 || len(b.received()) != 2 || len(a.received()) != 0 {
		t.Errorf("refused tries %d, received: a %d, b %d; want a's refusal and b taking both", refused, len(a.received()), len(b.received()))
	}
}

func TestRecipientFault(t *testing.T) {
	for _, tc := range []struct {
		stage, enh string
		permanent  bool
		want       bool
	}{
		{"RCPT TO", "5.1.1", true, true},  // no such mailbox
		{"RCPT TO", "5.2.2", true, true},  // mailbox full
		{"RCPT TO", "5.7.1", true, false}, // relaying denied, or the relay's policy
		{"RCPT TO", "", true, false},      // a bare 550: may be the relay's refusal to relay
		{"end of data", "5.1.1", true, false},
		{"MAIL FROM", "5.1.8", false, false},
		{"RCPT TO", "4.2.2", false, false},
	} {
		e := &Error{Permanent: tc.permanent, stage: tc.stage, enhcode: tc.enh}
		if got := e.RecipientFault(); got != tc.want {
			t.Errorf("RecipientFault(%s, %s) = %v, want %v", tc.stage, tc.enh, got, tc.want)
		}
	}
}

// blackHoleRelay is a relay that accepts connections and never says a word: every dial waits
// for its greeting until the relay's timeout.
func blackHoleRelay(t *testing.T, w int, timeout time.Duration) Relay {
	port := smtpsink.HangingTB(t)
	return Relay{Config: Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: timeout},
		Name: "127.0.0.1:" + strconv.Itoa(port), Weight: w}
}

// A relay that accepts connections and never answers is set aside after its first failures,
// and the messages waiting for one of its connections then go to the other relay at once —
// they waited for its dials' timeouts a connection at a time, and with them the campaign (a
// review: 18 notices a second instead of 150). Only the messages whose dial was under way when
// it was set aside are counted failed there.
func TestPool_MessagesWaitingForARelaySetAsideGoToAnother(t *testing.T) {
	good := newSink(t)
	hole := blackHoleRelay(t, 1, 2*time.Second)
	p := NewPool([]Relay{hole, relayFor(good, 1)}, nil, PoolOptions{Conns: 2, Faults: 2})
	defer p.Close()

	const n = 40
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[string]map[TryResult]int{}
	)
	for i := range n {
		wg.Go(func() {
			rc, err := p.Deliver(context.Background(), testMessage(fmt.Sprintf("c%d@example.net", i)))
			if err != nil {
				t.Errorf("notice %d: %v, want the good relay to take it", i, err)
			}
			mu.Lock()
			tally(rc.Tries, counts)
			mu.Unlock()
		})
	}
	wg.Wait()
	if got := len(good.received()); got != n {
		t.Errorf("good relay received %d, want %d", got, n)
	}
	// The hole's 2 connections dial twice before it is set aside (Faults 2), and the
	// messages queued behind them never reach it: without the wake-up, each waited its turn
	// and failed there (about 20).
	if failed := counts[hole.Name][TryFailed]; failed > 2*2 {
		t.Errorf("%d messages failed at the black hole, want at most 4 (the dials under way when it was set aside)", failed)
	}
}
