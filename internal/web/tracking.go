package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// trackingData is the live part of the campaign page: progress per channel, counts per state
// and locale, rate and time left, and the latest failures.
type trackingData struct {
	CampaignID string
	State      breach.CampaignState
	Status     *breach.CampaignStatus
	States     []breach.DeliveryState
	Channels   []channelProgress
	Locales    []localeProgress
	// Failures are recent failed or bounced notices, newest first (operation.RecentFailures);
	// FailuresRefused says why they are not shown when the audit log could not record their
	// read.
	Failures        []breach.DeliveryRecord
	FailuresRefused string
	// Live is set while the numbers still change: the page refreshes itself.
	Live bool
	// Done is set once every customer's notice is settled — sent, delivered, or given up on
	// after any fallback — or the campaign completed; Summary says in words what happened.
	Done    bool
	Summary string
	// Sent, Undelivered and Suppressed count notices (deliveries), not customers.
	Sent, Undelivered, Suppressed, Notices int64
	// Letters are the campaign's letters by state; nil when it has none.
	Letters *letterProgress
	// Chart draws the notices per minute by channel and outcome; nil before the start.
	Chart *chart
}

// channelProgress is one channel's row of the tracking table.
type channelProgress struct {
	Channel  breach.Channel
	Counts   []int64 // in the order of breach.DeliveryStates
	Total    int64
	Settled  int64
	Sent     int64
	Percent  int64
	HasItems bool
	// Undelivered counts the notices that failed or bounced.
	Undelivered int64
}

// letterProgress is the table of the campaign's letters by state.
type letterProgress struct {
	States []breach.DeliveryState
	Counts []int64 // in the order of States
	Total  int64
}

// localeProgress is one row of the table by language: a locale's notices on one channel.
type localeProgress struct {
	Locale  string
	Channel breach.Channel
	Counts  []int64 // in the order of breach.DeliveryStates
}

// trackingOf reads a campaign's status and shapes it for the page.
func (s *Server) trackingOf(r *http.Request, c *breach.Campaign) (*trackingData, error) {
	st, err := s.Ops.Status(r.Context(), actorOf(r.Context()), c.ID)
	if err != nil {
		return nil, err
	}
	t := &trackingData{CampaignID: c.ID, State: st.State, Status: st, States: breach.DeliveryStates,
		Live: st.State == breach.CampaignRunning || st.State == breach.CampaignPaused}
	for _, ch := range breach.Channels {
		p := channelProgress{Channel: ch}
		for _, state := range breach.DeliveryStates {
			n := st.ByChannel[ch][state]
			p.Counts = append(p.Counts, n)
			p.Total += n
			if !state.Open() {
				p.Settled += n
			}
			switch state {
			case breach.DeliverySent, breach.DeliveryDelivered:
				p.Sent += n
				t.Sent += n
			case breach.DeliveryFailed, breach.DeliveryBounced:
				p.Undelivered += n
				t.Undelivered += n
			case breach.DeliverySuppressed:
				t.Suppressed += n
			}
		}
		if p.Total > 0 {
			p.Percent = p.Settled * 100 / p.Total
			p.HasItems = true
		}
		t.Notices += p.Total
		t.Channels = append(t.Channels, p)
	}
	t.Locales = localesOf(st)
	// Letters have states of their own; their table shows when there are any.
	var letters letterProgress
	for _, state := range breach.LetterStates {
		n := st.ByChannel[breach.ChannelLetter][state]
		letters.States, letters.Counts = append(letters.States, state), append(letters.Counts, n)
		letters.Total += n
	}
	if letters.Total > 0 {
		t.Letters = &letters
	}
	// A fallback is queued in the same transaction that gives up on the first channel, so no
	// open delivery left means every customer's notice is settled.
	t.Done = st.State == breach.CampaignCompleted ||
		t.Live && t.Notices > 0 && st.Remaining() == 0
	if t.Done {
		t.Summary = summary(c.Channels, st.Total, t)
	}
	if c.StartedAt != nil {
		a, err := s.Ops.Activity(r.Context(), actorOf(r.Context()), c.ID)
		if err != nil {
			return nil, err
		}
		t.Chart = activityChart(a, st.ETASeconds)
	}
	if t.Undelivered > 0 {
		// The failures are customers' data, shown only once their read is audited. When the
		// audit log refuses it for now (EUNAVAILABLE), the rest of the page — counts, and the
		// buttons that pause or cancel a campaign in trouble — must still show.
		t.Failures, err = s.Ops.RecentFailures(r.Context(), actorOf(r.Context()), c.ID)
		switch {
		case breach.ErrorCode(err) == breach.EUNAVAILABLE:
			t.FailuresRefused = breach.ErrorMessage(err)
		case err != nil:
			return nil, err
		}
	}
	return t, nil
}

// localesOf lists the locales' rows that have notices, by locale then channel.
func localesOf(st *breach.CampaignStatus) []localeProgress {
	var out []localeProgress
	for _, l := range slices.Sorted(maps.Keys(st.ByLocale)) {
		for _, ch := range breach.Channels {
			row := localeProgress{Locale: l, Channel: ch}
			var total int64
			for _, state := range breach.DeliveryStates {
				n := st.ByLocale[l][ch][state]
				row.Counts = append(row.Counts, n)
				total += n
			}
			if total > 0 {
				if row.Locale == "" {
					row.Locale = "(not recorded)"
				}
				out = append(out, row)
			}
		}
	}
	return out
}

// summary says in words what a campaign whose notices are all settled did: how many of its
// customers were notified, what could not be delivered and whether it went by the other
// channel instead, what was suppressed.
func summary(policy breach.ChannelPolicy, customers int64, t *trackingData) string {
	var parts []string
	// Customers owed a letter (reachable only by post, or whose email and SMS failed) are told
	// apart: email and SMS did not reach them, and were not meant to.
	var byPost int64
	if t.Letters != nil {
		byPost = t.Letters.Total
	}
	reach := "customer"
	if byPost > 0 {
		customers = max(customers-byPost, 0)
		reach = "customers email or SMS reach"
	}
	if policy.FallsBack() {
		// One notice per customer is sent at most: a fallback goes out only when the first
		// channel gave up, so the notices sent are the customers notified.
		notified := min(t.Sent, customers)
		switch {
		case notified == customers && byPost > 0:
			parts = append(parts, fmt.Sprintf("All %d %s were notified", customers, reach))
		case notified == customers:
			parts = append(parts, fmt.Sprintf("All %s were notified", plural(customers, "customer", "customers")))
		default:
			parts = append(parts, fmt.Sprintf("%d of %s were notified; %d could not be reached on any channel",
				notified, plural(customers, "customer", "customers"), customers-notified))
		}
	} else {
		parts = append(parts, fmt.Sprintf("%s were sent to the %s, on every channel each has",
			plural(t.Sent, "notice", "notices"), plural(customers, "customer", "customers")))
	}
	for _, p := range t.Channels {
		if p.Undelivered == 0 {
			continue
		}
		what, instead := plural(p.Undelivered, "email", "emails"), "by SMS instead where the customer had a phone number"
		if p.Channel == breach.ChannelSMS {
			what, instead = plural(p.Undelivered, "SMS", "SMS"), "by email instead where the customer had an address"
		}
		verb := "could not be delivered (failed or bounced)"
		if policy.FallsBack() {
			verb += " and went " + instead
		}
		parts = append(parts, what+" "+verb)
	}
	if t.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d suppressed (opted out or known undeliverable)", t.Suppressed))
	}
	if byPost > 0 {
		var states []string
		for i, st := range t.Letters.States {
			if n := t.Letters.Counts[i]; n > 0 {
				states = append(states, fmt.Sprintf("%d %s", n, letterStateText[st]))
			}
		}
		parts = append(parts, fmt.Sprintf("%s owed by post: %s", plural(byPost, "letter", "letters"), strings.Join(states, ", ")))
	}
	return strings.Join(parts, "; ") + "."
}

// letterStateText says a letter's state in the summary.
var letterStateText = map[breach.DeliveryState]string{
	breach.DeliveryPending: "still to print", breach.DeliveryPrinted: "printed, not yet mailed",
	breach.DeliveryMailed: "mailed", breach.DeliveryReturned: "returned",
}

// plural is "1 customer" or "44 customers".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// tracking answers the live part of the campaign page alone, for console.js to swap in.
func (s *Server) tracking(w http.ResponseWriter, r *http.Request) {
	c, err := s.Ops.Campaign(r.Context(), actorOf(r.Context()), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	t, err := s.trackingOf(r, c)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.execute(w, r, http.StatusOK, "campaign", "tracking", t)
}
