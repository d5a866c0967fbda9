package breach

import "fmt"

// Channel is a way of reaching a customer.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	// ChannelLetter is a printed letter (package letter, operation Letters). The sending
	// engine never handles it: a letter is printed and mailed by people, and its delivery
	// moves pending → printed → mailed, or returned.
	ChannelLetter Channel = "letter"
)

// Channels lists the channels the sending engine sends on (email and SMS), in the order
// reports show them. Letters are not among them, so that no loop of the engine over Channels
// can ever try to email or text a letter's delivery; reports use ReportChannels.
var Channels = []Channel{ChannelEmail, ChannelSMS}

// ReportChannels lists every channel a delivery may have, in the order reports show them.
var ReportChannels = []Channel{ChannelEmail, ChannelSMS, ChannelLetter}

// Sent reports whether the sending engine sends on ch (email, SMS), not a letter.
func (ch Channel) Sent() bool { return ch == ChannelEmail || ch == ChannelSMS }

// Other returns the channel a failed notice falls back to. A letter has none: its Other is ""
// (the engine never sees a letter; a letter owed when email and SMS both fail is the letters
// operation's business, see LetterPolicy).
func (ch Channel) Other() Channel {
	switch ch {
	case ChannelEmail:
		return ChannelSMS
	case ChannelSMS:
		return ChannelEmail
	}
	return ""
}

// Address returns the recipient's address on channel ch ("" when they have none; a letter's
// address is the recipient's Postal).
func (r *Recipient) Address(ch Channel) string {
	switch ch {
	case ChannelEmail:
		return r.Email
	case ChannelSMS:
		return r.Phone
	}
	return ""
}

// DeliveryState is where one notice on one channel is (DESIGN.md "Delivery states"):
// pending → queued → sending → sent → delivered, or one of the ends bounced, failed,
// suppressed. Pending is a recipient the campaign's planner has not reached yet: it has no
// delivery row.
type DeliveryState string

const (
	DeliveryPending    DeliveryState = "pending"
	DeliveryQueued     DeliveryState = "queued"
	DeliverySending    DeliveryState = "sending"
	DeliverySent       DeliveryState = "sent"
	DeliveryDelivered  DeliveryState = "delivered"
	DeliveryBounced    DeliveryState = "bounced"
	DeliveryFailed     DeliveryState = "failed"
	DeliverySuppressed DeliveryState = "suppressed"

	// A letter's states (DESIGN.md "Delivery states"): pending (owed, not printed yet) →
	// printed (its PDF handed to the print vendor) → mailed, or returned (the post brought it
	// back undelivered).
	DeliveryPrinted  DeliveryState = "printed"
	DeliveryMailed   DeliveryState = "mailed"
	DeliveryReturned DeliveryState = "returned"
)

// LetterStates lists a letter's states in the order of its lifecycle.
var LetterStates = []DeliveryState{DeliveryPending, DeliveryPrinted, DeliveryMailed, DeliveryReturned}

// States lists the states a delivery on channel ch can be in: LetterStates for a letter,
// DeliveryStates otherwise.
func (ch Channel) States() []DeliveryState {
	if ch == ChannelLetter {
		return LetterStates
	}
	return DeliveryStates
}

// DeliveryStates lists every state of an email or SMS in the order of the lifecycle (a
// letter's are LetterStates).
var DeliveryStates = []DeliveryState{DeliveryPending, DeliveryQueued, DeliverySending, DeliverySent,
	DeliveryDelivered, DeliveryBounced, DeliveryFailed, DeliverySuppressed}

// Open reports whether a delivery in state s may still be sent: a campaign is complete when
// none of its deliveries is open.
func (s DeliveryState) Open() bool {
	return s == DeliveryPending || s == DeliveryQueued || s == DeliverySending
}

// ChannelPolicy says which channels a campaign's customers are notified on.
type ChannelPolicy string

const (
	// EmailFirst: email to every customer who has an address, SMS to those who have only a
	// phone; a notice that fails for good or is suppressed on one channel goes out on the
	// other when the customer has both. One notice per customer: the default.
	EmailFirst ChannelPolicy = "email_first"
	// SMSFirst: the same with the channels swapped.
	SMSFirst ChannelPolicy = "sms_first"
	// Both: every customer gets a notice on every channel they have an address for.
	Both ChannelPolicy = "both"
)

// ChannelPolicies lists the valid policies.
var ChannelPolicies = []ChannelPolicy{EmailFirst, SMSFirst, Both}

// FallsBack reports whether a notice that cannot be delivered on one channel is sent on the
// other (under Both it already is).
func (p ChannelPolicy) FallsBack() bool { return p != Both }

// CampaignStatus is a campaign's progress: its deliveries counted by channel and state, and by
// locale, channel and state, the rate of the last seconds and the time left at that rate.
type CampaignStatus struct {
	State     CampaignState                       `json:"state"`
	Total     int64                               `json:"total"`
	ByChannel map[Channel]map[DeliveryState]int64 `json:"by_channel"`
	// ByLocale splits ByChannel by the locale each notice is written in: for every channel and
	// state, the counts of all locales add up to ByChannel's. Deliveries planned before
	// locales were recorded are under "".
	ByLocale map[string]map[Channel]map[DeliveryState]int64 `json:"by_locale"`
	// RatePerSec is the notices sent per second over the last measuring window.
	RatePerSec float64 `json:"rate_per_sec"`
	// ETASeconds is the time left at RatePerSec for the open deliveries; nil when nothing is
	// being sent (no rate to extrapolate) or nothing is left.
	ETASeconds *float64 `json:"eta_seconds"`
	// PossibleDuplicates counts the notices that may have reached their customer twice: each
	// send recorded after a worker died holding the same notice unrecorded (handed to the relay
	// or not: nobody knows) counts once per such earlier send. Every duplicate the sending
	// engine can cause is in it; most of it may be notices the dead worker never sent.
	PossibleDuplicates int64 `json:"possible_duplicates"`
	// Merged counts, per channel, the customer_ids told by another customer_id's notice: the
	// same person (name, language, country, law, attributes) at the same address, told once,
	// of what was exposed under each (decided at approval). They have no delivery of their own
	// on that channel unless that notice fails. Nil when none.
	Merged map[Channel]int64 `json:"merged,omitempty"`
	// Shared counts, per channel, the customers whose address there is also a different
	// customer's (a family's or a company's mailbox, or a CRM's placeholder): each is sent
	// their own notice there. Nil when none.
	Shared map[Channel]int64 `json:"shared,omitempty"`
	// QuietHours counts the SMS held until their recipients' quiet hours end (sms.quiet_hours),
	// queued meanwhile, and says until when.
	QuietHours QuietWait `json:"quiet_hours"`
	// Relays is what each SMTP relay did for the campaign's email, by name (SMTP_URLS only).
	Relays []RelayCount `json:"relays,omitempty"`
	// Workers counts the worker processes that can send the campaign, while it runs (nil
	// otherwise): a running campaign no worker sends is otherwise only a rate of zero.
	Workers *WorkerCount `json:"workers,omitempty"`
	// PausedBecause says why the sending engine paused the campaign, while it is paused so
	// (its notices kept failing for good: dispatch.DefaultFailureStreak); "" otherwise.
	PausedBecause string `json:"paused_because,omitempty"`
}

// Stalled says why nothing of a campaign with notices left is being sent — the engine paused
// it, no worker is running, or every live one renders other notice templates than were
// approved — or, when only some workers do, that those send none of it; "" when none holds.
func (s *CampaignStatus) Stalled() string {
	if s.State == CampaignPaused && s.PausedBecause != "" {
		return "paused by breachnotice: " + s.PausedBecause
	}
	w := s.Workers
	if w == nil || s.State != CampaignRunning || s.Remaining() == 0 {
		return ""
	}
	const fix = "start workers with the templates (TEMPLATES_DIR and release) it was approved with"
	switch {
	case w.Live == 0:
		return "no worker is running: nothing is being sent. Start `breachnotice worker` (or `run`)"
	case w.OtherTemplates == w.Live:
		return fmt.Sprintf("every running worker (%d) renders other notice templates than the campaign was approved with, and sends none of its notices: %s", w.Live, fix)
	case w.OtherTemplates > 0:
		return fmt.Sprintf("%d of the %d running workers render other notice templates than the campaign was approved with, and send none of its notices (the others do): %s", w.OtherTemplates, w.Live, fix)
	}
	return ""
}

// Remaining counts the notices the sending engine has not settled yet (pending, queued or
// sending). Letters are not counted: the engine does not send them, and a campaign is
// complete when its email and SMS are, whatever the print vendor has still to do.
func (s *CampaignStatus) Remaining() int64 {
	var n int64
	for ch, states := range s.ByChannel {
		if !ch.Sent() {
			continue
		}
		for st, c := range states {
			if st.Open() {
				n += c
			}
		}
	}
	return n
}

// NewCampaignStatus returns a status with every channel and state present at zero, for the
// campaign's offered locales as well, so that reports always have the same shape.
func NewCampaignStatus(state CampaignState, locales ...string) *CampaignStatus {
	s := &CampaignStatus{State: state, ByChannel: zeroCounts(), ByLocale: map[string]map[Channel]map[DeliveryState]int64{}}
	for _, l := range locales {
		s.ByLocale[l] = zeroCounts()
	}
	return s
}

// Add counts n deliveries of channel ch in state st whose notices are written in locale.
func (s *CampaignStatus) Add(locale string, ch Channel, st DeliveryState, n int64) {
	if s.ByChannel[ch] == nil {
		return // a channel this version does not know: not part of any report
	}
	s.ByChannel[ch][st] += n
	if s.ByLocale[locale] == nil {
		s.ByLocale[locale] = zeroCounts()
	}
	s.ByLocale[locale][ch][st] += n
}

// zeroCounts returns every channel and its states at zero.
func zeroCounts() map[Channel]map[DeliveryState]int64 {
	m := map[Channel]map[DeliveryState]int64{}
	for _, ch := range ReportChannels {
		m[ch] = map[DeliveryState]int64{}
		for _, st := range ch.States() {
			m[ch][st] = 0
		}
	}
	return m
}

// validatePolicy checks the campaign's channel policy, defaulting it to EmailFirst.
func (c *Campaign) validatePolicy(v *ValidationError) {
	if c.Channels == "" {
		c.Channels = EmailFirst
		return
	}
	for _, p := range ChannelPolicies {
		if c.Channels == p {
			return
		}
	}
	v.Add("channels", "unknown channel policy %q (known: email_first, sms_first, both)", c.Channels)
}
