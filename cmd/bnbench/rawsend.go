package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/breachnotice/breachnotice/internal/email"
)

// The raw send limit: go-mail alone, from this process to the same sink process the worker
// sends to, over as many connections as the worker keeps (SMTP_CONNECTIONS, 8 by default),
// with the same notice. Nothing else is done per message: no database, no queue, no template.

// rawConns is the number of SMTP connections of the raw limits, the worker's default.
const rawConns = 8

// rawGoMailRate sends n notices taken in turn from ms (each to its own address, built as its
// own go-mail message, as the product builds each notice) over conns connections, each
// dialled once, and
// returns messages per second. go-mail's Send is used as documented, except that its NOOP
// before every batch is turned off (WithoutNoop); it still resets the transaction (RSET) after
// every message, which the product's own SMTP client does not.
func rawGoMailRate(ctx context.Context, addr string, ms []email.Message, n, conns int) (float64, error) {
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	clients := make([]*mail.Client, conns)
	for i := range clients {
		c, err := mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithoutNoop())
		if err != nil {
			return 0, err
		}
		if err := c.DialWithContext(ctx); err != nil {
			return 0, fmt.Errorf("raw go-mail: dial %s: %w", addr, err)
		}
		defer c.Close()
		clients[i] = c
	}
	return parallelRate(n, conns, func(i int, worker int) error {
		msg, err := goMailMessage(ms[i%len(ms)], fmt.Sprintf("raw%d@example%d.com", i, i%97))
		if err != nil {
			return err
		}
		return clients[worker].Send(msg)
	})
}

// senderRate is the product's own SMTP layer alone (email.Sender: persistent connections,
// one MAIL/RCPT/DATA per message) sending n notices taken in turn from ms: not a limit of the
// target, but where the SMTP side of the worker stands on its own.
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
		msg.To = fmt.Sprintf("sender%d@example%d.com", i, i%97)
		_, err := s.Send(ctx, msg)
		return err
	})
}

// goMailMessage builds m for to as a go-mail message: the headers and the two alternative
// bodies of a notice.
func goMailMessage(m email.Message, to string) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	err := errors.Join(msg.FromFormat(m.FromName, m.From), msg.To(to), msg.ReplyTo(m.ReplyTo),
		msg.SetListUnsubscribeOneClick(m.UnsubscribeURL))
	if err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	msg.SetMessageID()
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Breachnotice-Reference", m.Reference)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return msg, nil
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
