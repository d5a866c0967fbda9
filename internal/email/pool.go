package email

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNoRelay is the cause of the temporary error Pool.Send returns when every relay is set
// aside (or already being probed): the queue tries the message again later.
var ErrNoRelay = errors.New("every SMTP relay is set aside after repeated failures")

// Defaults of PoolOptions.
const (
	DefaultRelayFaults = 3
	DefaultSetAside    = 30 * time.Second
	DefaultMaxSetAside = 10 * time.Minute
)

// RelayLimiter waits until relay may take one more message at perSecond messages per second
// across every worker (the dispatch's shared Redis buckets).
type RelayLimiter interface {
	Wait(ctx context.Context, relay string, perSecond int) error
}

// PoolOptions tune a Pool. Zero fields take the defaults.
type PoolOptions struct {
	// Conns is the most connections kept open to each relay.
	Conns int
	// Limiter enforces the relays' own rates (Relay.Rate); nil enforces none.
	Limiter RelayLimiter
	// Faults is how many temporary failures in a row (refused or dropped connections,
	// timeouts, 4xx replies) set a relay aside; SetAside is the first cool-down, doubled after
	// each failed probe up to MaxSetAside.
	Faults      int
	SetAside    time.Duration
	MaxSetAside time.Duration
	// Now is the clock of the cool-downs (nil: time.Now).
	Now func() time.Time
}

// TryResult is what became of a message at one relay.
type TryResult string

const (
	// TrySent: the relay accepted the message.
	TrySent TryResult = "sent"
	// TryFailed: the relay failed temporarily (refused or dropped connection, timeout, 4xx).
	TryFailed TryResult = "failed"
	// TryRejected: the relay refused the message or its recipient for good (5xx). The
	// customer's outcome when the relay put it down to the address, or when every relay
	// refused (see Pool); otherwise the next relay is asked.
	TryRejected TryResult = "rejected"
)

// Try is one relay's part in sending a message.
type Try struct {
	Relay  string
	Result TryResult
	// SetAsideUntil is set when this failure set the relay aside: the end of its cool-down.
	SetAsideUntil time.Time
}

// Receipt is what Pool.Deliver did with a message: its Message-ID when a relay accepted it,
// and every relay tried, in order (the last one gave the answer).
type Receipt struct {
	MessageID string
	Tries     []Try
}

// Pool sends over several relays (SMTP_URLS): each message goes to one relay chosen by
// weight, and a relay that fails repeatedly is set aside for a while, its messages going to
// the others.
//
// The choice is a smooth weighted round-robin (nginx's): with weights 3 and 1 every four
// messages go a, a, b, a — spread evenly rather than in runs, and exactly in proportion
// rather than by chance, so a small campaign's split already matches the weights.
//
// No message goes to a second relay after one accepted it: it is tried on another relay, in
// the same Send, only when the first failed before accepting it — a refused connection, a 4xx
// reply, a network failure before the data — or said no at the end of the data. A timeout or
// a dropped connection after the data went out leaves the message possibly delivered: that
// failure is the queue's to retry, exactly as with one relay.
//
// A 5xx reply that the relay puts down to the recipient's address (Error.RecipientFault: no
// such mailbox, mailbox full) is the customer's outcome and is returned as it is. Any other
// 5xx — a policy refusal (5.7.x), "relaying denied", a bare 550 — may be that relay's own
// rules or account (an unverified sender domain, a suspended account answering at the data),
// so the message is tried on the other relays first: a relay that refused every message lost
// its weight's share of the customers for good (an acceptance walk: 300 of 600). A refusal
// delivered nothing, so the next relay cannot make a second copy. A refusal counts toward no
// relay's breaker: the relay is alive and answering, and whether it refuses the notice or the
// customer no code can always tell — servers answer a stale address with a bare "550 User
// unknown" at RCPT TO, or "550 5.1.1" only at the end of the data, and stale addresses in a row
// set healthy relays aside (two reviews).
//
// The answer is permanent only when every relay refused (with one relay, its refusal): when
// one failed temporarily in this attempt, or is set aside after temporary failures, the queue
// tries the message again. Relays that all refuse everything fail each notice for good, and
// the dispatch's failure guard, which counts refusals, pauses the campaign.
//
// Each relay has a circuit breaker: Faults temporary failures in a row set it aside for
// SetAside; after that one message probes it, and either brings it back or sets it aside for
// twice as long (up to MaxSetAside). Each worker process judges the relays on its own
// evidence.
type Pool struct {
	relays  []*poolRelay
	limiter RelayLimiter
	faults  int
	first   time.Duration
	most    time.Duration
	now     func() time.Time

	mu sync.Mutex // guards the poolRelays' choice and breaker fields
}

// poolRelay is one relay with its connections and its breaker.
type poolRelay struct {
	Relay
	sender *Sender

	current  int           // smooth weighted round-robin's running score
	faults   int           // temporary failures in a row
	until    time.Time     // set aside until then (zero: in service)
	coolDown time.Duration // the next set-aside's length
	probing  bool          // a message is probing it after a set-aside
	// aside is closed when the relay is set aside (and replaced): the messages waiting for
	// one of its connections, or dialling it, then go to another relay (Deliver).
	aside chan struct{}
}

// NewPool returns a pool over relays (at least one), signing with dkim when it is not nil. It
// dials nothing yet.
func NewPool(relays []Relay, dkim *DKIM, o PoolOptions) *Pool {
	p := &Pool{limiter: o.Limiter, faults: o.Faults, first: o.SetAside, most: o.MaxSetAside, now: o.Now}
	if p.faults <= 0 {
		p.faults = DefaultRelayFaults
	}
	if p.first <= 0 {
		p.first = DefaultSetAside
	}
	if p.most < p.first {
		p.most = max(DefaultMaxSetAside, p.first)
	}
	if p.now == nil {
		p.now = time.Now
	}
	for _, r := range relays {
		r.Weight = max(r.Weight, 1)
		p.relays = append(p.relays, &poolRelay{Relay: r, sender: NewSender(r.Config, dkim, o.Conns), coolDown: p.first})
	}
	return p
}

// Send delivers m through one of the relays (see Pool): it is Deliver without the receipt.
func (p *Pool) Send(ctx context.Context, m Message) (string, error) {
	rc, err := p.Deliver(ctx, m)
	return rc.MessageID, err
}

// Deliver sends m through the relays and says which relays it went through. It returns an
// *Error as Sender.Send does: that of the last relay tried, or ErrNoRelay's when none could be.
func (p *Pool) Deliver(ctx context.Context, m Message) (Receipt, error) {
	var rc Receipt
	tried := make(map[*poolRelay]bool, len(p.relays))
	var last, temporary *Error // the last failure, and the last temporary one
	for {
		r := p.choose(tried)
		if r == nil {
			return rc, p.verdict(tried, last, temporary)
		}
		tried[r] = true
		if r.Rate > 0 && p.limiter != nil {
			if err := p.limiter.Wait(ctx, r.Name, r.Rate); err != nil {
				p.abandon(r)
				return rc, &Error{Err: err, stage: "wait"}
			}
		}
		wctx, stopWaiting := p.waiting(ctx, r)
		id, err := r.sender.Send(wctx, m)
		setAside := stopWaiting()
		if err != nil && setAside && ctx.Err() == nil && !isAsked(err) {
			// The relay was set aside while this message waited for a connection to it (all
			// of them dialling a relay that never answers): nothing was asked of it, and the
			// next relay is tried — the message waited 30 s a turn behind a black hole, the
			// whole campaign with it.
			p.abandon(r)
			continue
		}
		if err != nil && ctx.Err() != nil && !isAsked(err) {
			p.abandon(r) // the caller stopped waiting: no fault of the relay's
			return rc, &Error{Err: ctx.Err(), stage: "wait"}
		}
		if err == nil {
			p.settle(r)
			rc.MessageID = id
			rc.Tries = append(rc.Tries, Try{Relay: r.Name, Result: TrySent})
			return rc, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Err: err, stage: "relay"}
		}
		switch {
		case e.stage == "message" || e.stage == "wait":
			// The message could not be built, or the wait for a connection ended: nothing
			// was asked of the relay.
			p.abandon(r)
			return rc, e
		case e.Permanent:
			p.settle(r) // it answered: a refusal is no fault of the relay (see Pool)
			rc.Tries = append(rc.Tries, Try{Relay: r.Name, Result: TryRejected})
			if e.RecipientFault() {
				return rc, e // the address's: no other relay is asked
			}
			last = e // whether the refusal is the relay's own, another may say (verdict)
			continue
		}
		until := p.fault(r)
		rc.Tries = append(rc.Tries, Try{Relay: r.Name, Result: TryFailed, SetAsideUntil: until})
		last, temporary = e, e
		if e.MaybeDelivered() {
			return rc, e
		}
	}
}

// waiting returns ctx, ended also when r is set aside, and the function that releases it and
// says whether r was set aside meanwhile.
func (p *Pool) waiting(ctx context.Context, r *poolRelay) (context.Context, func() bool) {
	p.mu.Lock()
	if r.aside == nil {
		r.aside = make(chan struct{})
	}
	aside := r.aside
	p.mu.Unlock()
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case <-aside:
			cancel()
		case <-done:
		}
	}()
	return wctx, func() bool {
		close(done)
		cancel()
		select {
		case <-aside:
			return true
		default:
			return false
		}
	}
}

// isAsked reports whether err, from Sender.Send, came after the relay was asked anything (MAIL
// FROM or later): a wait for a connection or a dial asked nothing.
func isAsked(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true
	}
	return e.stage != "wait" && e.stage != "dial"
}

// verdict is Deliver's answer when no relay is left to try, tried those it tried, last their
// last failure and temporary their last temporary one (see Pool).
func (p *Pool) verdict(tried map[*poolRelay]bool, last, temporary *Error) *Error {
	if temporary != nil {
		return temporary // a relay may yet take it: the queue tries again
	}
	if len(tried) < len(p.relays) || last == nil {
		// A relay set aside after temporary failures (or being probed) may take it once back.
		return &Error{Err: ErrNoRelay, stage: "relay"}
	}
	return last // every relay refused it
}

// choose picks the next relay by smooth weighted round-robin among those in service and not
// tried yet; a relay whose cool-down has ended is chosen as its probe when no other message
// is probing it. nil when none is left.
func (p *Pool) choose(tried map[*poolRelay]bool) *poolRelay {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var best *poolRelay
	total := 0
	for _, r := range p.relays {
		if tried[r] || !r.until.IsZero() && (now.Before(r.until) || r.probing) {
			continue
		}
		r.current += r.Weight
		total += r.Weight
		if best == nil || r.current > best.current {
			best = r
		}
	}
	if best == nil {
		return nil
	}
	best.current -= total
	if !best.until.IsZero() {
		best.probing = true
	}
	return best
}

// settle records that r answered (accepted or refused for good): it is sound, and back in
// service if it was being probed.
func (p *Pool) settle(r *poolRelay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.faults = 0
	if r.probing {
		r.probing, r.until, r.coolDown = false, time.Time{}, p.first
	}
}

// abandon records that r was chosen but not asked anything: a probe is left to the next
// message.
func (p *Pool) abandon(r *poolRelay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.probing = false
}

// fault records a temporary failure of r and returns the end of the cool-down it started, if
// it set r aside: after Faults in a row, or at once when it was a probe.
func (p *Pool) fault(r *poolRelay) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if r.probing {
		r.probing = false
		r.coolDown = min(2*r.coolDown, p.most)
		r.until = now.Add(r.coolDown)
		p.wakeLocked(r)
		return r.until
	}
	if now.Before(r.until) {
		return time.Time{} // a message in flight when r was set aside: already counted
	}
	r.faults++
	if r.faults < p.faults {
		return time.Time{}
	}
	r.faults = 0
	r.until = now.Add(r.coolDown)
	p.wakeLocked(r)
	return r.until
}

// wakeLocked tells the messages waiting for r that it is set aside. p.mu is held.
func (p *Pool) wakeLocked(r *poolRelay) {
	if r.aside != nil {
		close(r.aside)
	}
	r.aside = make(chan struct{})
}

// Conns is how many connections p keeps at most, over its relays.
func (p *Pool) Conns() int {
	n := 0
	for _, r := range p.relays {
		n += r.sender.Conns()
	}
	return n
}

// Close closes every relay's connections.
func (p *Pool) Close() error {
	var errs []error
	for _, r := range p.relays {
		errs = append(errs, r.sender.Close())
	}
	return errors.Join(errs...)
}
