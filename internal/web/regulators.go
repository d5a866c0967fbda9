package web

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

// regulatorsData is the regulator report's page, and its documents' page.
type regulatorsData struct {
	C *breach.Campaign
	// Cost is the cost estimate as typed (cost_usd).
	Cost    string
	R       *regulator.Report
	Samples *operation.RegulatorSamples
	// What names what a regulator asks to be sent.
	What map[string]string
}

// regulators shows who must be told, by when and with what, and whether substitute notice
// applies (operation.Service.RegulatorReport).
func (s *Server) regulators(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actorOf(ctx)
	c, err := s.Ops.Campaign(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	d := &regulatorsData{C: c, Cost: r.URL.Query().Get("cost_usd"), What: regulator.WhatItems}
	const title = "Regulators and substitute notice"
	cost, err := operation.ParseCostUSD(d.Cost)
	if err == nil {
		d.R, err = s.Ops.RegulatorReport(ctx, a, c.ID, operation.RegulatorRequest{CostUSD: cost})
	}
	if err != nil {
		s.renderError(w, r, s.httpStatus(r, err), "regulators", title, d, errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "regulators", title, d)
}

// regulatorSamples lists the sample notices regulators ask for and the website notice
// (operation.Service.RegulatorSamples), each to download.
func (s *Server) regulatorSamples(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actorOf(ctx)
	c, err := s.Ops.Campaign(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	d := &regulatorsData{C: c}
	if d.Samples, err = s.Ops.RegulatorSamples(ctx, a, c.ID); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "regulators", "Sample notices and the website notice", d)
}

// regulatorSample downloads one of those documents, as HTML with placeholders.
func (s *Server) regulatorSample(w http.ResponseWriter, r *http.Request) {
	html, err := s.Ops.RegulatorSample(r.Context(), actorOf(r.Context()), r.PathValue("id"), r.PathValue("file"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The file name is one of the operation's own (notice-US-CA-en.html), never the request's.
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("file")+`"`)
	w.Write([]byte(html))
}
