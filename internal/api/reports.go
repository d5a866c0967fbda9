package api

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/operation"
)

// reportRoutes are the legal team's reports.
func (s *Server) reportRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/regulators", handler: s.regulatorReport},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/regulators/samples", handler: s.regulatorSamples},
	}
}

// regulatorReport answers GET …/regulators[?cost_usd=N]: the affected count per jurisdiction,
// each regulator's obligation and whether substitute notice applies
// (operation.Service.RegulatorReport).
func (s *Server) regulatorReport(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "cost_usd")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cost, err := operation.ParseCostUSD(q.Get("cost_usd"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Ops.RegulatorReport(r.Context(), actor(r.Context()), r.PathValue("id"), operation.RegulatorRequest{CostUSD: cost})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// regulatorSamples answers GET …/regulators/samples: the sample notices regulators ask for and
// the website notice, with placeholders instead of personal data.
func (s *Server) regulatorSamples(w http.ResponseWriter, r *http.Request) {
	samples, err := s.Ops.RegulatorSamples(r.Context(), actor(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, samples)
}
