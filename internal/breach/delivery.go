package breach

// Channel is a way of reaching a customer.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Channels lists every channel, in the order reports show them.
var Channels = []Channel{ChannelEmail, ChannelSMS}

// Other returns the channel a failed notice falls back to.
func (ch Channel) Other() Channel {
	if ch == ChannelEmail {
		return ChannelSMS
	}
	return ChannelEmail
}

// Address returns the recipient's address on channel ch ("" when they have none).
func (r *Recipient) Address(ch Channel) string {
	if ch == ChannelEmail {
		return r.Email
	}
	return r.Phone
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
)

// DeliveryStates lists every state in the order of the lifecycle.
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
	// QuietHours counts the SMS held until their recipients' quiet hours end (sms.quiet_hours),
	// queued meanwhile, and says until when.
	QuietHours QuietWait `json:"quiet_hours"`
}

// Remaining counts the deliveries not yet settled (pending, queued or sending).
func (s *CampaignStatus) Remaining() int64 {
	var n int64
	for _, states := range s.ByChannel {
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

// zeroCounts returns every channel and state at zero.
func zeroCounts() map[Channel]map[DeliveryState]int64 {
	m := map[Channel]map[DeliveryState]int64{}
	for _, ch := range Channels {
		m[ch] = map[DeliveryState]int64{}
		for _, st := range DeliveryStates {
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
