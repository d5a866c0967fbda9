package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// The sending chart on the tracking page: notices per minute by channel and outcome over the
// campaign's life, with the time the rest should be sent by. It is drawn here, on the server,
// into an inline SVG the template "chart" (_chart.html) writes out: no script, no build step,
// nothing the console's content security policy forbids (presentation attributes only, no
// inline style), and every text goes through html/template's escaping. The page refreshes
// it with the rest of the tracking section.

// Chart geometry, in the SVG's user units (it scales to the page's width).
const (
	chartWidth  = 720
	chartHeight = 260
	plotLeft    = 56
	plotRight   = chartWidth - 16
	plotTop     = 40 // the legend sits above the plot
	plotBottom  = chartHeight - 32
)

// seriesLook is how one channel and outcome is drawn: its colour is the channel, its dashes
// the outcome, so that the two never rest on colour alone.
var seriesLook = map[breach.Channel]string{breach.ChannelEmail: "#0b5cad", breach.ChannelSMS: "#b35c00"}

var outcomeDash = map[breach.ActivityOutcome]string{breach.OutcomeSent: "", breach.OutcomeFailed: "6 4"}

var outcomeText = map[breach.ActivityOutcome]string{breach.OutcomeSent: "sent", breach.OutcomeFailed: "failed or bounced"}

// chart is what the template draws.
type chart struct {
	Width, Height                  int
	Left, Right, Top, Bot, BotTick int
	Title, Desc                    string
	Lines                          []chartLine
	XTicks, YTicks                 []chartTick
	ETA                            *chartTick // the ETA's mark, when there is one to draw
}

// chartLine is one series: a staircase through each step's rate, the step's width long.
type chartLine struct {
	Label  string
	Color  string
	Dash   string
	Points string // "x,y x,y …"
	// Where its legend entry's sample line goes, from LegendX to LegendX2 (its label after).
	LegendX, LegendX2, LegendY int
}

// chartTick is a labelled position on an axis (Pos: x for the time axis, y for the rate).
type chartTick struct {
	Pos   float64
	Label string
}

// activityChart draws a campaign's activity, with the ETA (seconds from a.End) marked when
// there is one. nil when the campaign has not started.
func activityChart(a *breach.Activity, eta *float64) *chart {
	steps := a.Steps()
	if steps == 0 {
		return nil
	}
	c := &chart{Width: chartWidth, Height: chartHeight, Left: plotLeft, Right: plotRight, Top: plotTop, Bot: plotBottom, BotTick: plotBottom + 5,
		Title: "Notices per minute by channel and outcome"}
	// Time axis: from the start to the end of the last step, or on to the ETA. An ETA further
	// than the campaign has run yet is marked at the right edge, so the past keeps its half.
	from := a.Start
	to := a.Start.Add(time.Duration(steps) * a.Step)
	var etaAt time.Time
	etaBeyond := false
	if eta != nil && !math.IsNaN(*eta) && !math.IsInf(*eta, 0) && *eta >= 0 {
		etaAt = a.End.Add(time.Duration(*eta * float64(time.Second)))
		if limit := to.Add(to.Sub(from)); etaAt.After(limit) {
			to, etaBeyond = limit, true
		} else if etaAt.After(to) {
			to = etaAt
		}
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		return plotLeft + (plotRight-plotLeft)*t.Sub(from).Seconds()/span
	}
	// Rate axis: notices per minute, a step's count over its minutes.
	perMinute := a.Step.Minutes()
	top := 0.0
	for _, s := range a.Series {
		for _, n := range s.Counts {
			top = max(top, float64(n)/perMinute)
		}
	}
	top = niceCeil(top)
	y := func(v float64) float64 { return plotBottom - (plotBottom-plotTop)*v/top }
	for i := range 5 {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Label: rateLabel(v)})
	}
	every := timeStep(to.Sub(from))
	layout := "15:04"
	if to.Sub(from) > 20*time.Hour {
		layout = "Jan 2 15:04"
	}
	for t := from.Truncate(every); !t.After(to); t = t.Add(every) {
		if t.Before(from) {
			continue
		}
		c.XTicks = append(c.XTicks, chartTick{Pos: x(t), Label: t.UTC().Format(layout)})
	}

	var totals []string
	for i, s := range a.Series {
		var b strings.Builder
		var sum int64
		for j, n := range s.Counts {
			sum += n
			begin := a.Start.Add(time.Duration(j) * a.Step)
			end := begin.Add(a.Step)
			v := y(float64(n) / perMinute)
			fmt.Fprintf(&b, "%s,%s %s,%s ", num(x(begin)), num(v), num(x(end)), num(v))
		}
		label := string(s.Channel) + " " + outcomeText[s.Outcome]
		if s.Channel == breach.ChannelSMS {
			label = "SMS " + outcomeText[s.Outcome]
		}
		line := chartLine{Label: label, Color: seriesLook[s.Channel], Dash: outcomeDash[s.Outcome],
			Points: strings.TrimSpace(b.String()), LegendX: plotLeft + i*160, LegendX2: plotLeft + i*160 + 24, LegendY: 16}
		c.Lines = append(c.Lines, line)
		totals = append(totals, fmt.Sprintf("%s: %d", label, sum))
	}

	stepText := "minute"
	if a.Step > time.Minute {
		stepText = a.Step.String() + " step"
	}
	c.Desc = fmt.Sprintf("From %s to %s UTC, counted by %s. Totals: %s.", from.UTC().Format("2006-01-02 15:04"),
		a.End.UTC().Format("2006-01-02 15:04"), stepText, strings.Join(totals, "; "))
	if !etaAt.IsZero() {
		label := "ETA " + etaAt.UTC().Format("15:04")
		pos := x(etaAt)
		if etaBeyond {
			label, pos = label+" →", plotRight
		}
		c.ETA = &chartTick{Pos: pos, Label: label}
		c.Desc += fmt.Sprintf(" At the current rate the rest is sent by %s UTC.", etaAt.UTC().Format("2006-01-02 15:04"))
	}
	return c
}

// niceCeil rounds a chart's top up to a number whose quarters label the axis plainly: 1, 1.2,
// 1.6, 2, 2.4, 3, 4, 5, 6 or 8 times a power of ten, and at least 4 (an empty chart's top:
// a scale of zero would divide by it).
func niceCeil(v float64) float64 {
	if v <= 4 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// timeStep is the time between the time axis' labels: about six of them over span.
func timeStep(span time.Duration) time.Duration {
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if span/d <= 6 {
			return d
		}
	}
	return span / 6
}

// rateLabel writes a rate axis label: as short as it is exact, to two decimals.
func rateLabel(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// num writes a coordinate with one decimal: enough for a 720-unit drawing.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
