package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestDoors_StatusShowsTheSMSHeldForQuietHours: the command line, the API and the console
// all say how many SMS wait for their recipients' quiet hours and until when; a cancellation
// lets none wait.
func TestDoors_StatusShowsTheSMSHeldForQuietHours(t *testing.T) {
	env := newDoorEnv(t)
	cli := cliDoor{env}
	id := cli.create(t)
	cli.importList(t, id, "../../examples/customers.csv")
	cli.approve(t, id)
	cli.move(t, id, "start")

	// What a worker does at night: plan the deliveries, then hold the SMS (see dispatch).
	ctx := t.Context()
	if _, err := env.db.PlanCampaign(ctx, id, 1000); err != nil {
		t.Fatal(err)
	}
	due, err := env.db.QueuedRecipients(ctx, id, breach.ChannelSMS, 0, 1<<40)
	if err != nil || len(due) < 2 {
		t.Fatalf("%d SMS queued (%v); the example list needs at least 2", len(due), err)
	}
	first := time.Date(2030, 1, 2, 13, 0, 0, 0, time.UTC)
	last := first.Add(3 * time.Hour)
	held := []breach.Deferral{{RecipientID: due[0].ID, Until: last}}
	for _, r := range due[1:] {
		held = append(held, breach.Deferral{RecipientID: r.ID, Until: first})
	}
	if err := env.db.Defer(ctx, id, breach.ChannelSMS, held); err != nil {
		t.Fatal(err)
	}

	out := cli.run(t, "campaign", "status", id)
	if want := fmt.Sprintf("quiet hours: %d SMS wait for their recipients' night to end, until 2030-01-02 13:00 UTC to 2030-01-02 16:00 UTC", len(held)); !strings.Contains(out, want) {
		t.Errorf("campaign status lacks %q:\n%s", want, out)
	}

	var st struct {
		QuietHours struct {
			Count    int64     `json:"count"`
			Earliest time.Time `json:"earliest_until"`
			Latest   time.Time `json:"latest_until"`
		} `json:"quiet_hours"`
	}
	body := apiDoor{env}.call(t, "GET", "/api/v1/campaigns/"+id+"/status", "", nil, http.StatusOK)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if q := st.QuietHours; q.Count != int64(len(held)) || !q.Earliest.Equal(first) || !q.Latest.Equal(last) {
		t.Errorf("API status quiet_hours = %+v, want %d from %v to %v", q, len(held), first, last)
	}

	page := consoleDoor{env}.get(t, "/campaigns/"+id+"/tracking", http.StatusOK)
	if want := fmt.Sprintf(`%d SMS wait for their recipients' quiet hours to end: they go from 2030-01-02 13:00:00 UTC to 2030-01-02 16:00:00 UTC`, len(held)); !strings.Contains(page, `id="quiet-hours"`) || !strings.Contains(page, want) {
		t.Errorf("tracking page lacks %q:\n%.3000s", want, page)
	}

	cli.move(t, id, "cancel")
	if out := cli.run(t, "campaign", "status", id); strings.Contains(out, "quiet hours") {
		t.Errorf("a cancelled campaign still has SMS waiting:\n%s", out)
	}
}
