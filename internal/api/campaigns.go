package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"

	"github.com/breachnotice/breachnotice/internal/campaignfile"
)

// createCampaign stores the campaign file sent as the request body (YAML).
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	c, src, err := campaignfile.Parse("campaign.yaml", http.MaxBytesReader(w, r.Body, campaignfile.MaxSize+1))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c.CreatedBy = operator(r.Context())
	if err := s.Store.CreateCampaign(r.Context(), c, string(src)); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "campaign.create", c.ID, map[string]any{"name": c.Name})
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Campaign(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.Campaigns(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": cs})
}

// audit records an operator action; a failure to record is logged, and does not undo the
// action, which has already happened.
func (s *Server) audit(r *http.Request, action, campaignID string, detail map[string]any) {
	if err := s.Store.Audit(r.Context(), operator(r.Context()), action, campaignID, detail); err != nil {
		s.Log.Error("audit failed", "action", action, "campaign", campaignID, "err", err)
	}
}

// approveCampaign approves a draft campaign whose notices pass lint; the approval (and its
// audit row) is recorded by the store.
func (s *Server) approveCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.ApproveCampaign(r.Context(), r.PathValue("id"), operator(r.Context()), func(c *breach.Campaign) error {
		return notice.Approvable(s.Renderer.Lint(c))
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
