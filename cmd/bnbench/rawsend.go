package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/breachnotice/breachnotice/internal/email"
)

// The raw send limit: the leanest client of the same SMTP library the worker uses (go-mail's
// smtp.Client, with the product's lean transaction, email.Transaction), from this process to the same sink process the worker sends to, over as many
// connections as the worker keeps (SMTP_CONNECTIONS, 8 by default), with the same notices.
// Nothing is done per message beyond what SMTP itself needs: the notices are built once, before
// the clock starts (the product's own bytes, email.Build, so the sizes match to the byte), and
// each message is MAIL FROM, RCPT TO, DATA and its bytes on a connection dialled once — no
// RSET, no NOOP, no per-message message building, no database, no queue, no template. Each
// message has its own envelope recipient. For reference the benchmark also measures the same
// client fed by builders on every core (email.Build per message, as the worker must build
// each customer's notice): what building costs on top of sending.
//
// With DKIM the limit is the same client fed by builders (dkim.go): a notice cannot be signed
// before it exists, so there the limit is build + sign + send, with building and signing on
// every core while the connections wait on the sink.

// defaultConns is the worker's default SMTP_CONNECTIONS.
const defaultConns = 8

// rawConns is the number of SMTP connections of the raw limits: the worker's, from
// SMTP_CONNECTIONS when the benchmark is run with it set (it passes to the worker too).
func rawConns() int {
	if n, err := strconv.Atoi(os.Getenv("SMTP_CONNECTIONS")); err == nil && n > 0 {
		return n
	}
	return defaultConns
}

// rawClient is one connection of the raw client.
type rawClient struct{ c *smtp.Client }

// dialRaw opens conns plain connections to the sink at addr, each greeted (EHLO) once.
func dialRaw(ctx context.Context, addr string, conns int) ([]rawClient, func(), error) {
	clients := make([]rawClient, 0, conns)
	closeAll := func() {
		for _, c := range clients {
			c.c.Quit()
			c.c.Close()
		}
	}
	var d net.Dialer
	for range conns {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("raw client: dial %s: %w", addr, err)
		}
		c, err := smtp.NewClient(conn, "127.0.0.1")
		if err == nil {
			err = c.Hello("localhost")
		}
		if err != nil {
			conn.Close()
			closeAll()
			return nil, nil, fmt.Errorf("raw client: greet %s: %w", addr, err)
		}
		clients = append(clients, rawClient{c})
	}
	return clients, closeAll, nil
}

// send is one SMTP transaction of raw, from from to to: the product's own lean transaction
// (email.Transaction: MAIL FROM, RCPT TO, DATA, the data written a line at a time), the
// leanest this SMTP library allows.
func (rc rawClient) send(from, to string, raw []byte) error {
	return email.Transaction(rc.c, from, to, raw)
}

// envelope is the raw client's sender and n recipients, made before the clock starts.
type envelope struct {
	from string
	to   []string
}

func newEnvelope(from string, n int) envelope {
	e := envelope{from: from, to: make([]string, n)}
	for i := range e.to {
		e.to[i] = "raw" + strconv.Itoa(i) + "@example" + strconv.Itoa(i%97) + ".com"
	}
	return e
}

// buildAll builds each of ms once, as the worker would (email.Build, no DKIM).
func buildAll(ms []email.Message) ([][]byte, error) {
	raws := make([][]byte, len(ms))
	for i, m := range ms {
		raw, err := email.Build(m, nil)
		if err != nil {
			return nil, err
		}
		raws[i] = raw
	}
	return raws, nil
}

// rawRate sends n messages taken in turn from the pre-built raws, each to its own recipient,
// over conns connections (one goroutine each), and returns messages per second.
func rawRate(ctx context.Context, addr, from string, raws [][]byte, n, conns int) (float64, error) {
	clients, closeAll, err := dialRaw(ctx, addr, conns)
	if err != nil {
		return 0, err
	}
	defer closeAll()
	env := newEnvelope(from, n)
	return parallelRate(n, conns, func(i, worker int) error {
		return clients[worker].send(env.from, env.to[i], raws[i%len(raws)])
	})
}

// pipelineRate is the raw client fed by builders: GOMAXPROCS goroutines run build(i) for
// i in [0, n) and hand the bytes to conns sending goroutines, so that building (signing) runs on
// every core while the connections wait on the sink. It returns messages per second.
func pipelineRate(ctx context.Context, addr, from string, n, conns int, build func(i int) ([]byte, error)) (float64, error) {
	clients, closeAll, err := dialRaw(ctx, addr, conns)
	if err != nil {
		return 0, err
	}
	defer closeAll()
	env := newEnvelope(from, n)

	type built struct {
		i   int
		raw []byte
	}
	ready := make(chan built, conns)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		errMu    sync.Mutex
		errs     []error
		builders sync.WaitGroup
		senders  sync.WaitGroup
	)
	fail := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
		failed.Store(true)
	}
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		builders.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				raw, err := build(i)
				if err != nil {
					fail(err)
					return
				}
				ready <- built{i, raw}
			}
		})
	}
	for w := range conns {
		senders.Go(func() {
			for b := range ready {
				if failed.Load() {
					continue // drain, so that no builder blocks
				}
				if err := clients[w].send(env.from, env.to[b.i], b.raw); err != nil {
					fail(err)
				}
			}
		})
	}
	builders.Wait()
	close(ready)
	senders.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// senderRate is the product's own SMTP layer alone (email.Sender: persistent connections,
// one MAIL/RCPT/DATA per message, each message built as it is sent) sending n notices taken in
// turn from ms: not a limit of the target, but where the SMTP side of the worker stands on its
// own.
func senderRate(ctx context.Context, addr string, ms []email.Message, n, conns int) (float64, error) {
	cfg, err := email.ParseURL("smtp://" + addr + "?tls=none")
	if err != nil {
		return 0, err
	}
	s := email.NewSender(cfg, nil, conns)
	defer s.Close()
	// Twice as many goroutines as connections, as the worker has more notices in flight than
	// connections: each renders its next message while another one sends.
	return parallelRate(n, 2*conns, func(i int, _ int) error {
		msg := ms[i%len(ms)]
		msg.To = "sender" + strconv.Itoa(i) + "@example" + strconv.Itoa(i%97) + ".com"
		_, err := s.Send(ctx, msg)
		return err
	})
}

// parallelRate runs do(i, worker) for i in [0, n) on the given number of goroutines and
// returns calls per second; it stops at the first error.
func parallelRate(n, workers int, do func(i, worker int) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i, w); err != nil {
					errs[w] = err
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// tinyMessage is a notice reduced to a couple of lines, as in internal/email's
// BenchmarkSendToSink, which DESIGN's ≈ 6,000 msgs/s comes from: it shows how much of the raw
// limit is the cost of the connection round trips and how much that of a notice's size.
func tinyMessage(m email.Message) email.Message {
	m.Subject = "Avis de violation de données"
	m.Text = tinyText
	m.HTML = tinyHTML
	return m
}

const (
	tinyText = "Bonjour,\n\nNous vous informons d'une violation de données.\n"
	tinyHTML = "<p>Bonjour,</p><p>Nous vous informons d'une violation de données.</p>"
	tinySize = len(tinyText) + len(tinyHTML)
)
