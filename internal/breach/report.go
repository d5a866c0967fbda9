package breach

// Report is what a provider says became of one delivery after it was handed over: an SMS
// status callback, an SES notification, a relay's bounce. The webhooks turn each provider's
// format into Reports, naming the delivery by the signed token the provider echoes back; the
// store applies them (ReportStates says which state may replace which).
type Report struct {
	CampaignID  string
	RecipientID int64
	Channel     Channel
	// State is delivered, bounced, failed or suppressed; empty when the report changes no
	// state (a complaint about a notice already delivered only suppresses the address: the
	// notice was delivered, and the record says so).
	State DeliveryState
	// ProviderID is the provider's ID of the message, recorded when the delivery has none yet
	// (the report came before the worker recorded its send).
	ProviderID string
	// Error is the provider's code and reason, recorded with a bounce or failure and as the
	// reason of a suppression. Never an address: it outlives the campaign's personal data.
	Error string
	// Suppress puts the delivery's own address (from the record, never from the report) on its
	// channel's suppression list.
	Suppress bool
}

// reportOver lists, for each state a report may set, the states it may replace. Reports
// arrive late, twice and out of order; this table is what makes applying them idempotent and
// order-safe:
//
//   - a state never replaces itself, so a duplicate report changes nothing and leaves no
//     second event;
//   - delivered replaces only what is not settled yet: a late "delivered" never overwrites a
//     bounce or a failure;
//   - bounced also replaces delivered: mail servers accept a message and bounce it later;
//   - failed (the provider gave up for a reason that is not the address's) replaces only a
//     notice in flight, never a delivered one, and not a queued one either: that is a retry
//     the worker has already decided on, after an earlier attempt it could not confirm;
//   - queued and sending may be replaced by a report's definite verdict (delivered, bounced,
//     opted out) because the report can overtake the worker's own record of the send (which
//     then finds the delivery settled and leaves it), or concern an earlier attempt whose
//     answer was lost, whose retry would be a duplicate.
var reportOver = map[DeliveryState][]DeliveryState{
	DeliveryDelivered:  {DeliveryQueued, DeliverySending, DeliverySent},
	DeliveryBounced:    {DeliveryQueued, DeliverySending, DeliverySent, DeliveryDelivered},
	DeliverySuppressed: {DeliveryQueued, DeliverySending, DeliverySent},
	DeliveryFailed:     {DeliverySending, DeliverySent},
}

// ReportStates returns the states a report setting state to may replace, or nil when no
// report may set to.
func ReportStates(to DeliveryState) []DeliveryState { return reportOver[to] }
