package web

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// trackingData is the live part of the campaign page: progress per channel, counts per state,
// rate and time left.
type trackingData struct {
	CampaignID string
	State      breach.CampaignState
	Status     *breach.CampaignStatus
	States     []breach.DeliveryState
	Channels   []channelProgress
	// Live is set while the numbers still change: the page refreshes itself.
	Live bool
	// Finished is set once the campaign completed; AllSent when, in addition, every
	// notice was sent (none failed, bounced or was suppressed).
	Finished, AllSent                      bool
	Sent, Undelivered, Suppressed, Notices int64
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
}

// trackingOf reads a campaign's status and shapes it for the page.
func (s *Server) trackingOf(r *http.Request, c *breach.Campaign) (*trackingData, error) {
	st, err := s.Store.CampaignStatus(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	t := &trackingData{CampaignID: c.ID, State: st.State, Status: st, States: breach.DeliveryStates,
		Live:     st.State == breach.CampaignRunning || st.State == breach.CampaignPaused,
		Finished: st.State == breach.CampaignCompleted}
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
	t.AllSent = t.Finished && t.Notices > 0 && t.Sent == t.Notices
	return t, nil
}

// tracking answers the live part of the campaign page alone, for console.js to swap in.
func (s *Server) tracking(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
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
