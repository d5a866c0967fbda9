package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// startedCampaign is the example campaign approved and started, with no sending engine: its
// notices stay pending, and the test writes the record it wants the chart to draw.
func startedCampaign(t *testing.T, st *stack) *breach.Campaign {
	t.Helper()
	ctx := context.Background()
	c := st.campaign("test", "test", nil)
	if _, err := st.db.ApproveCampaign(ctx, c.ID, "test", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.MoveCampaign(ctx, c.ID, "test", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	svgOf      = regexp.MustCompile(`(?s)<figure id="activity".*?</figure>`)
	polylineOf = regexp.MustCompile(`<polyline points="([^"]*)"[^>]*><title>([^<]*)</title>`)
)

// chartOf returns the tracking page's chart and its lines' points by label.
func chartOf(t *testing.T, b *browser, campaignID string) (string, map[string][][2]float64) {
	t.Helper()
	page := b.get("/campaigns/" + campaignID + "/tracking")
	if page.status != http.StatusOK {
		t.Fatalf("tracking: %d\n%s", page.status, page.body)
	}
	svg := svgOf.FindString(page.body)
	if svg == "" {
		t.Fatalf("no chart on the tracking page:\n%s", page.body)
	}
	for _, bad := range []string{"NaN", "Inf", "<script", "style="} {
		if strings.Contains(svg, bad) {
			t.Errorf("the chart has %q:\n%s", bad, svg)
		}
	}
	lines := map[string][][2]float64{}
	for _, m := range polylineOf.FindAllStringSubmatch(svg, -1) {
		var pts [][2]float64
		for _, p := range strings.Fields(m[1]) {
			var x, y float64
			if _, err := fmt.Sscanf(p, "%f,%f", &x, &y); err != nil {
				t.Fatalf("point %q of %s: %v", p, m[2], err)
			}
			pts = append(pts, [2]float64{x, y})
		}
		lines[m[2]] = pts
	}
	return svg, lines
}

// TestTrackingChart_DrawsEachMinuteByChannelAndOutcome writes a finished campaign's counts by
// minute by hand — known counts in known minutes — and checks the chart: a line per channel
// and outcome with one step per minute of the campaign's ten, the tallest where the most were
// sent, the legend and the accessible title and description.
func TestTrackingChart_DrawsEachMinuteByChannelAndOutcome(t *testing.T) {
	st := newStack(t, nil)
	c := startedCampaign(t, st)
	ctx := context.Background()
	p := pool(t)
	if _, err := p.Exec(ctx, `UPDATE campaigns SET started_at = '2026-03-02 10:00:20Z', finished_at = '2026-03-02 10:09:30Z' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// What the deliveries' triggers count (postgres tests check which moves count).
	for _, e := range []struct {
		minute           int
		channel, outcome string
		n                int
	}{
		{0, "email", "sent", 60},
		{2, "email", "sent", 120},
		{2, "email", "failed", 3},
		{2, "sms", "sent", 30},
		{5, "sms", "failed", 2},
	} {
		if _, err := p.Exec(ctx, `INSERT INTO delivery_minutes (campaign_id, minute, channel, outcome, shard, n)
			VALUES ($1, timestamptz '2026-03-02 10:00:00Z' + make_interval(mins => $2), $3, $4, $5, $6)`,
			c.ID, e.minute, e.channel, e.outcome, e.minute%8, e.n); err != nil {
			t.Fatal(err)
		}
	}
	b := st.signedIn("chart-watcher", breach.RoleViewer)
	svg, lines := chartOf(t, b, c.ID)
	if len(lines) != 4 {
		t.Fatalf("want 4 lines (email and SMS, sent and failed), got %d:\n%s", len(lines), svg)
	}
	want := map[string][]int{ // the minute each line is highest at (-1: flat at zero)
		"email sent": {2}, "email failed or bounced": {2}, "SMS sent": {2}, "SMS failed or bounced": {5},
	}
	var bottom float64
	for label, pts := range lines {
		if len(pts) != 2*10 { // a staircase: each minute's start and end
			t.Errorf("%s: %d points, want 20 (10 minutes)", label, len(pts))
			continue
		}
		bottom = max(bottom, pts[0][1], pts[len(pts)-1][1])
		top := 0
		for i := range 10 {
			if pts[2*i][1] < pts[2*top][1] {
				top = i
			}
		}
		if w, ok := want[label]; !ok || top != w[0] {
			t.Errorf("%s is highest at minute %d, want %v", label, top, w)
		}
	}
	// email sent: 120 in minute 2 is the top of the scale, 60 in minute 0 half as high.
	if es := lines["email sent"]; len(es) == 20 {
		half := (es[2*2][1] + bottom) / 2
		if d := es[0][1] - half; d > 0.2 || d < -0.2 {
			t.Errorf("60 a minute is drawn at y=%.1f, want halfway to 120's (%.1f)", es[0][1], half)
		}
	}
	for _, want := range []string{
		`<title id="activity-title">Notices per minute by channel and outcome</title>`,
		"From 2026-03-02 10:00 to 2026-03-02 10:09 UTC, counted by minute",
		"email sent: 180", "email failed or bounced: 3", "SMS sent: 30", "SMS failed or bounced: 2",
		`role="img"`, `aria-labelledby="activity-title activity-desc"`,
		">10:00<", ">10:04<",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart has no %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "ETA") {
		t.Errorf("a finished campaign's chart marks an ETA:\n%s", svg)
	}
}

// TestTrackingChart_AnEmptyCampaignAndTheETA: a campaign just started has a flat chart with
// a scale (no division by zero), and once notices go out at a measured rate the chart marks
// when the rest should be sent.
func TestTrackingChart_AnEmptyCampaignAndTheETA(t *testing.T) {
	st := newStack(t, nil)
	c := startedCampaign(t, st)
	b := st.signedIn("eta-watcher", breach.RoleViewer)
	svg, lines := chartOf(t, b, c.ID)
	if len(lines) != 4 {
		t.Fatalf("want 4 lines on an empty chart, got %d:\n%s", len(lines), svg)
	}
	for label, pts := range lines {
		if len(pts) < 2 {
			t.Errorf("%s: %d points", label, len(pts))
		}
		for _, p := range pts {
			if p[1] != pts[0][1] {
				t.Errorf("%s is not flat on an empty campaign: %v", label, pts)
				break
			}
		}
	}
	if strings.Contains(svg, "ETA") {
		t.Errorf("an ETA with nothing sent yet:\n%s", svg)
	}

	// 50 sent in the last seconds: a rate, so a time the pending rest should be sent by.
	if _, err := pool(t).Exec(context.Background(), `INSERT INTO delivery_rates (campaign_id, second, shard, sent)
		VALUES ($1, date_trunc('second', now()) - interval '1 second', 0, 50)`, c.ID); err != nil {
		t.Fatal(err)
	}
	svg, _ = chartOf(t, b, c.ID)
	if !regexp.MustCompile(`<g class="eta"[^>]*>\s*<line[^>]*/>\s*<text[^>]*>ETA \d\d:\d\d( →)?</text>`).MatchString(svg) ||
		!strings.Contains(svg, "At the current rate the rest is sent by") {
		t.Errorf("no ETA marked on the chart of a campaign sending:\n%s", svg)
	}
	// Without script the page is whole: the campaign page carries the same chart.
	page := b.get("/campaigns/" + c.ID)
	if !strings.Contains(page.body, `<figure id="activity"`) {
		t.Errorf("the campaign page has no chart:\n%s", page.body)
	}
}
