package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/optout"
	"github.com/breachnotice/breachnotice/internal/sms"
)

// TwilioStatusPath is where, under PUBLIC_URL, Twilio posts an SMS's delivery reports: each
// SMS's StatusCallback is this path and the delivery's report token.
const TwilioStatusPath = "/webhooks/twilio/status"

// send renders and sends one claimed notice and says what became of it: every failure is an
// outcome (retry, fail, suppress) for the record, and so is an address suppressed since the
// claim (lateSuppressions). When the rate limiter fails, or halt says so
// after its wait (the campaign was paused, the worker is stopping), or no journal slot comes
// (see journal.reserve), nothing is sent and ok is false: the claim is to be released. slot says
// the notice was handed to the provider under a journal slot, which the outcome's write gives
// back.
//
// stop ends when the task must stop sending (halt): it ends an email's wait for a connection
// to its relay and the dial — never a transaction, nor an SMS's request, which may have been
// taken already. A notice whose wait it ended, or that failed for the moment while the
// campaign was being stopped, is not sent and not retried: its claim is released, and a
// cancellation records it failed, never sent (a review: notices queued behind a stuck relay
// went out 40 s after a cancel).
func (e *Engine) send(ctx, stop context.Context, cc *campaignCache, ch breach.Channel, cl breach.Claim, halt func() bool) (o breach.Outcome, ok, slot bool) {
	r := &cl.Recipient
	o = breach.Outcome{RecipientID: r.ID}
	n, err := cc.render.RenderFor(r, notice.Channel(ch))
	if err != nil {
		o.State, o.Error, o.Refused = breach.DeliveryFailed, "the notice could not be rendered: "+err.Error(), true
		return o, true, false
	}
	// A rate-limit failure (Redis unreachable) is not an attempt at the notice: it goes back to
	// the queue untried, like one the worker had no time for.
	if err := e.limits.wait(ctx, ch, r.Address(ch)); err != nil || halt() {
		return o, false, false
	}
	// The wait may have run into the recipient's quiet hours: released, the next claim holds it.
	if ch == breach.ChannelSMS && cc.quiet != nil {
		if now := e.now(); e.quietUntil(cc, r, now).After(now) {
			return o, false, false
		}
	}
	// Suppressed since the claim checked it (an opt-out from an earlier notice, a complaint, a
	// STOP) while the notice waited: not sent.
	if e.late.has(ch, r.Address(ch)) {
		o.State, o.Error = breach.DeliverySuppressed, "the address was put on the suppression list after the notice was claimed"
		return o, true, false
	}
	if !e.journal.reserve(ctx, lineKey{cc.c.ID, ch}, halt) {
		return o, false, false
	}
	// Once handed over, the send is bounded by its provider's own timeouts (the SMTP
	// transaction's, Twilio's), not cut short by the task's deadline: a transaction cut after
	// its data went out may have been delivered, and its retry would be a duplicate.
	dctx := context.WithoutCancel(ctx)
	if ch == breach.ChannelEmail {
		dctx = stop // its end cuts the wait for a connection only (email.Sender.Send)
	}
	o = e.deliver(dctx, cc, ch, cl, n)
	if o.State == breach.DeliveryQueued && !o.PossiblySent && (stop.Err() != nil || halt()) {
		e.journal.unreserve()
		return breach.Outcome{RecipientID: r.ID}, false, false
	}
	return o, true, true
}

// deliver hands rendered notice n of claim cl to its provider and says what became of it.
func (e *Engine) deliver(ctx context.Context, cc *campaignCache, ch breach.Channel, cl breach.Claim, n *notice.Notice) breach.Outcome {
	r := &cl.Recipient
	o := breach.Outcome{RecipientID: r.ID}
	var err error
	start := time.Now()
	switch ch {
	case breach.ChannelEmail:
		o.ProviderID, o.Relays, err = e.sendEmail(ctx, e.customerEmail(cc.c, n, r))
	case breach.ChannelSMS:
		o.ProviderID, err = e.sms.Send(ctx, smsMessage(n, r.Phone, e.statusCallback(cc.c.ID, r.ID)))
	}
	e.cfg.Metrics.SendDuration(string(ch), time.Since(start))
	if err == nil {
		o.State = breach.DeliverySent
		return o
	}
	var (
		mailErr *email.Error
		smsErr  *sms.Error
	)
	isMail, isSMS := errors.As(err, &mailErr), errors.As(err, &smsErr)
	switch {
	case isSMS && smsErr.OptedOut:
		o.State, o.Error, o.Suppress = breach.DeliverySuppressed, err.Error(), true
	case isSMS && smsErr.Permanent, isMail && mailErr.Permanent:
		o.State, o.Error = breach.DeliveryFailed, err.Error()
		o.Refused = !(isSMS && smsErr.RecipientFault || isMail && mailErr.RecipientFault())
	default:
		o.PossiblySent = isMail && mailErr.MaybeDelivered() || isSMS && smsErr.MaybeSent
		if isMail && mailErr.VerdictLost() && cl.PossiblySent > 0 {
			// Twice the relay may have taken it without a word: the whole message went, and
			// its verdict was lost again (a review: a relay answering after the timeout was
			// sent the same notice at each of the 8 attempts). A third try is a third copy as
			// likely as a first delivery: failed, the customer's other channel follows, and
			// the record says why. Only that case: an SMS provider's 5xx or a connection lost
			// mid-data, also "possibly sent", most likely delivered nothing, and a short outage
			// of either failed every notice for good at its second try (the review of this
			// change).
			o.State = breach.DeliveryFailed
			o.Error = fmt.Sprintf("may have been delivered by %d attempts already, none confirmed: not tried again (%v)", cl.PossiblySent+1, err)
			return o
		}
		return e.retry(o, cl.Attempt, err)
	}
	return o
}

// emailMessage is notice n as an email to address, from the campaign's sender.
func emailMessage(c *breach.Campaign, n *notice.Notice, address, unsubscribeURL string) email.Message {
	return email.Message{
		From: c.Sender.Email, FromName: c.Sender.Name, ReplyTo: c.Sender.ReplyTo, To: address,
		Subject: n.Subject, HTML: n.HTML, Text: n.Text, Reference: n.Reference, UnsubscribeURL: unsubscribeURL,
	}
}

// customerEmail is notice n as the email to recipient r: with its opt-out link, and its
// delivery's report token in the Message-ID, which bounce and complaint reports quote.
func (e *Engine) customerEmail(c *breach.Campaign, n *notice.Notice, r *breach.Recipient) email.Message {
	m := emailMessage(c, n, r.Email, e.unsubscribeURL(c.ID, r.ID, breach.ChannelEmail))
	if tok := e.reportToken(c.ID, r.ID, breach.ChannelEmail); tok != "" {
		m.MessageID = email.MessageIDFor(tok, m.From)
	}
	return m
}

// smsMessage is notice n as an SMS to phone, its delivery reports going to statusCallback
// (empty: none).
func smsMessage(n *notice.Notice, phone, statusCallback string) sms.Message {
	return sms.Message{To: phone, Body: n.SMS.Body, StatusCallback: statusCallback}
}

// retry puts a notice that failed transiently back in the queue after a backoff, or fails it
// once it has had MaxAttempts tries.
func (e *Engine) retry(o breach.Outcome, attempt int, err error) breach.Outcome {
	if attempt >= e.cfg.MaxAttempts {
		o.State, o.Error = breach.DeliveryFailed, fmt.Sprintf("gave up after %d attempts: %v", attempt, err)
		return o
	}
	o.State, o.Error = breach.DeliveryQueued, err.Error()
	o.NextAttempt = time.Now().Add(backoff(e.cfg.RetryBase, e.cfg.RetryMax, attempt))
	return o
}

// backoff is the wait before attempt+1: base doubled per attempt, capped at most, with "equal
// jitter" (half fixed, half random) so that a relay's hiccup does not bring every retry back
// in the same second.
func backoff(base, most time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > most {
		d = most
	}
	return d/2 + rand.N(d/2+1)
}

// unsubscribeURL is the one-click opt-out link of a delivery (RFC 8058 wants https; without
// an https PUBLIC_URL the header is left out).
func (e *Engine) unsubscribeURL(campaignID string, recipientID int64, ch breach.Channel) string {
	if len(e.cfg.PublicURL) < 8 || e.cfg.PublicURL[:8] != "https://" {
		return ""
	}
	tok, err := optout.Token(e.cfg.Secret, optout.Target{CampaignID: campaignID, RecipientID: recipientID, Channel: ch})
	if err != nil {
		return ""
	}
	return e.cfg.PublicURL + "/u/" + tok
}

// reportToken is the signed token naming a delivery in its provider's reports: the SMS status
// callback URL and the email Message-ID carry it, so that a report finds its delivery by
// primary key and cannot be forged for another ("" if it cannot be made; the message then goes
// without, and its reports are ignored).
func (e *Engine) reportToken(campaignID string, recipientID int64, ch breach.Channel) string {
	tok, err := optout.ReportToken(e.cfg.Secret, optout.Target{CampaignID: campaignID, RecipientID: recipientID, Channel: ch})
	if err != nil {
		return ""
	}
	return tok
}

// statusCallback is the URL Twilio posts an SMS delivery's reports to, or "" without a
// PUBLIC_URL (Twilio could not reach us).
func (e *Engine) statusCallback(campaignID string, recipientID int64) string {
	tok := e.reportToken(campaignID, recipientID, breach.ChannelSMS)
	if e.cfg.PublicURL == "" || tok == "" {
		return ""
	}
	return e.cfg.PublicURL + TwilioStatusPath + "/" + tok
}
