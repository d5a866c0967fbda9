package api

import (
	"encoding/json"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
)

// moveCampaign answers POST …/start, pause, resume and cancel: the campaign must be in state
// from (any, when empty) and move to state to.
func (s *Server) moveCampaign(from, to breach.CampaignState) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Store.MoveCampaign(r.Context(), r.PathValue("id"), operator(r.Context()), from, to)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}

// campaignStatus answers GET …/status: deliveries by channel and state, rate and ETA.
func (s *Server) campaignStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Store.CampaignStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// testSendRequest is the body of POST …/test-send.
type testSendRequest struct {
	// To are reviewer email addresses and E.164 numbers.
	To []string `json:"to"`
	// Customers are the customer_ids whose notices to send (default: the list's first).
	Customers []string `json:"customers"`
}

// testSend answers POST …/test-send: real notices of chosen customers sent to reviewers,
// nothing recorded against the customers.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	var req testSendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "the body must be JSON {\"to\": [...], \"customers\": [...]}: %v", err))
		return
	}
	to, err := dispatch.ReviewerAddresses(req.To, len(req.Customers))
	if err != nil {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "to: %s", breach.ErrorMessage(err)))
		return
	}
	req.To = to
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err == nil {
		err = c.NeedsPersonalData("send test notices")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var recipients []*breach.Recipient
	for _, id := range req.Customers {
		rc, err := s.Store.Recipient(ctx, c.ID, id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		recipients = append(recipients, rc)
	}
	if len(recipients) == 0 {
		if recipients, err = s.Store.FirstRecipients(ctx, c.ID, 1); err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(recipients) == 0 {
			s.writeError(w, r, breach.Errorf(breach.ECONFLICT, "the campaign has no recipients yet: import its list first"))
			return
		}
	}
	sent, err := s.TestSender.Send(ctx, c, recipients, req.To)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	failed := dispatch.FailedSends(sent)
	if err := s.Store.Audit(ctx, operator(ctx), "campaign.test_send", c.ID, map[string]any{"notices": len(sent), "failed": failed}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": sent, "failed": failed})
}
