package breach

import (
	"slices"
	"strings"
	"time"
)

// DeliveryRecord is one notice to one customer on one channel as the record holds it: a line of
// the delivery listing and of the proof-of-notice export. Name and Address are personal data:
// for the operators who asked, never for a log.
type DeliveryRecord struct {
	RecipientID int64   `json:"-"`
	CustomerID  string  `json:"customer_id"`
	Name        string  `json:"name"`
	Channel     Channel `json:"channel"`
	// Address is the email address or E.164 number notified; empty once the campaign's
	// personal data is purged.
	Address string `json:"address"`
	// Locale is the locale the notice is (or was, or would have been) written in.
	Locale   string        `json:"locale"`
	State    DeliveryState `json:"state"`
	Attempts int           `json:"attempts"`
	// ProviderID is the relay's or SMS provider's message ID, once sent.
	ProviderID string `json:"provider_id"`
	// Error is the last failure as the provider reported it.
	Error string `json:"error"`
	// Fallback says the notice replaces one that failed or was suppressed on the other channel.
	Fallback bool `json:"fallback"`
	// PossibleDuplicate says the notice was sent again after a worker died holding it with its
	// outcome unrecorded: the customer may have received it twice. The timeline shows the
	// release (source reconciler) that led to the resend.
	PossibleDuplicate bool `json:"possible_duplicate"`
	// SentAt is when the notice was first accepted by the relay or provider; nil if never.
	SentAt    *time.Time `json:"sent_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// ToldWith, in the proof-of-notice export, is the customer_id whose notice at the same
	// address told this customer (one notice per address): the record's state and times are
	// that notice's. Empty: the customer's own notice.
	ToldWith string `json:"told_with,omitempty"`
}

// DeliveryEvent is one transition of a delivery: the proof that a notice was queued, sent,
// delivered or failed, when, and on whose report.
type DeliveryEvent struct {
	At      time.Time     `json:"at"`
	Channel Channel       `json:"channel"`
	State   DeliveryState `json:"state"`
	// Source is who made the transition: planner, worker, reconciler, operator or webhook.
	Source     string `json:"source"`
	Attempt    int    `json:"attempt"`
	ProviderID string `json:"provider_id"`
	Error      string `json:"error"`
}

// RecipientRecord is everything the record says about one customer of a campaign: who they
// are, their deliveries per channel, and the timeline of every transition in order.
type RecipientRecord struct {
	Recipient  *Recipient       `json:"recipient"`
	Deliveries []DeliveryRecord `json:"deliveries"`
	Events     []DeliveryEvent  `json:"events"`
	// Suppressions are the entries of the suppression list for the customer's email address
	// and phone number (an opt-out, a complaint, a hard bounce, a STOP), oldest first.
	Suppressions []Suppression `json:"suppressions"`
}

// DeliveryFilter narrows a delivery listing; a zero field does not filter.
type DeliveryFilter struct {
	State   DeliveryState
	Channel Channel
	Locale  string
}

// Validate checks the filter's values, canonicalizing the locale ("es-pe" → "es-PE"), and
// returns an EINVALID error naming the parameter that is wrong.
func (f *DeliveryFilter) Validate() error {
	if f.State != "" {
		if f.State == DeliveryPending {
			return Errorf(EINVALID, "state: pending recipients have no delivery yet (the status counts them); filter on one of %s", listStates(recordedStates()))
		}
		if !slices.Contains(recordedStates(), f.State) {
			return Errorf(EINVALID, "state: unknown delivery state %q (known: %s)", Clip(string(f.State)), listStates(recordedStates()))
		}
	}
	if f.Channel != "" && !slices.Contains(ReportChannels, f.Channel) {
		return Errorf(EINVALID, "channel: unknown channel %q (known: email, sms, letter)", Clip(string(f.Channel)))
	}
	if f.Locale != "" {
		l, err := ParseLocale(f.Locale)
		if err != nil {
			return Errorf(EINVALID, "locale: %v", err)
		}
		f.Locale = l
	}
	return nil
}

// recordedStates are the states a delivery listing can filter on: every state of every
// channel but pending.
func recordedStates() []DeliveryState {
	states := slices.Clone(DeliveryStates[1:])
	for _, st := range LetterStates[1:] {
		if !slices.Contains(states, st) {
			states = append(states, st)
		}
	}
	return states
}

// listStates names states for an error message: "queued, sending, …".
func listStates(states []DeliveryState) string {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// DeliveryKey is a delivery's place in a campaign's listing order (recipient, then channel):
// where a page of the listing ends and the next begins.
type DeliveryKey struct {
	RecipientID int64
	Channel     Channel
}

// Suppression is an address no notice may be sent to any more, on one channel, by any
// campaign: an opt-out, a complaint, a hard bounce or a carrier STOP.
type Suppression struct {
	Channel Channel `json:"channel"`
	// Address is a normalized email address or an E.164 number: personal data.
	Address string `json:"address"`
	// Source is who recorded it: optout, provider, webhook, operator.
	Source string `json:"source"`
	Reason string `json:"reason"`
	// CampaignID is the campaign whose notice led to it, if any.
	CampaignID string    `json:"campaign_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// SuppressionKey is a suppression's place in the listing order (channel, then address).
type SuppressionKey struct {
	Channel Channel
	Address string
}
