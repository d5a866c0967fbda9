package api

import (
	"errors"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// createCampaign stores the campaign file sent as the request body (YAML).
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.Ops.CreateCampaign(r.Context(), actor(r.Context()), "campaign.yaml", http.MaxBytesReader(w, r.Body, campaignfile.MaxSize+1))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

// getCampaign answers a campaign with its approvals so far and how many it needs.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.Ops.Campaign(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Ops.Campaigns(r.Context(), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": cs})
}

// approveCampaign gives the caller's approval: the campaign is approved once it has all the
// approvals it needs (two distinct users under the two-person rule); until then it answers
// the draft with its approvals so far. Body, optional: {"list_version": "…"}, the version of
// the list the caller reviewed (the campaign's list_version when they read it); the approval
// is refused (409) if the list has changed since.
func (s *Server) approveCampaign(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ListVersion string `json:"list_version"`
	}
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 4<<10), &req); err != nil && !errors.Is(err, errEmptyBody) {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "the body must be empty or JSON {\"list_version\": \"…\"}: %v", err))
		return
	}
	c, err := s.Ops.Approve(r.Context(), actor(r.Context()), r.PathValue("id"), operation.ApproveRequest{ListVersion: req.ListVersion})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// moveCampaign answers POST …/start, pause, resume and cancel.
func (s *Server) moveCampaign(m operation.Move) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Ops.MoveCampaign(r.Context(), actor(r.Context()), r.PathValue("id"), m)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}

// retryFailed answers POST …/retry-failed?channel=email|sms: the channel's failed notices of a
// running or paused campaign go back to the queue (operation.Service.RequeueFailed).
func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "channel")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Ops.RequeueFailed(r.Context(), actor(r.Context()), r.PathValue("id"), breach.Channel(q.Get("channel")))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"requeued": n})
}

// campaignStatus answers GET …/status: deliveries by channel, state and locale, rate and ETA.
func (s *Server) campaignStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Ops.Status(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
