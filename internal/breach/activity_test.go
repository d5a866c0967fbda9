package breach

import (
	"testing"
	"time"
)

// A campaign of three days is counted in 18-minute steps (240 of them), every notice in the
// step its minute falls in, none lost; minutes outside the campaign's life are left out.
func TestNewActivity_ALongCampaignGetsLongerStepsNotMorePoints(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 40, 0, time.UTC)
	end := start.Add(72*time.Hour - time.Minute)
	var minutes []ActivityMinute
	for m := range 72 * 60 {
		minutes = append(minutes, ActivityMinute{Minute: start.Truncate(time.Minute).Add(time.Duration(m) * time.Minute),
			Channel: ChannelEmail, Outcome: OutcomeSent, N: 2})
	}
	minutes = append(minutes,
		ActivityMinute{Minute: start.Add(-time.Hour), Channel: ChannelSMS, Outcome: OutcomeFailed, N: 5},
		ActivityMinute{Minute: start.Add(18 * time.Minute), Channel: ChannelSMS, Outcome: OutcomeFailed, N: 7},
		ActivityMinute{Minute: start, Channel: ChannelLetter, Outcome: OutcomeSent, N: 9})
	a := NewActivity(start, end, minutes, 240)
	if a.Steps() != 240 || a.Step != 18*time.Minute || !a.Start.Equal(start.Truncate(time.Minute)) {
		t.Fatalf("%d steps of %s from %s, want 240 of 18m0s from 10:00", a.Steps(), a.Step, a.Start)
	}
	if len(a.Series) != 4 {
		t.Fatalf("%d series, want email and SMS × sent and failed", len(a.Series))
	}
	var sent int64
	for i, n := range a.Series[0].Counts {
		if n != 36 {
			t.Fatalf("email sent, step %d: %d, want 18 minutes × 2", i, n)
		}
		sent += n
	}
	if sent != 72*60*2 {
		t.Errorf("email sent adds up to %d, want %d", sent, 72*60*2)
	}
	if f := a.Series[3]; f.Channel != ChannelSMS || f.Outcome != OutcomeFailed || f.Counts[0] != 0 || f.Counts[1] != 7 {
		t.Errorf("SMS failed: %s %s %v…, want the 7 in the second step and the minute before the start left out", f.Channel, f.Outcome, f.Counts[:2])
	}

	// Not started, or started this very second: no steps, or one, never a division by zero.
	if a := NewActivity(start, start.Add(-time.Minute), nil, 240); a.Steps() != 0 {
		t.Errorf("an end before the start: %d steps", a.Steps())
	}
	if a := NewActivity(start, start, nil, 240); a.Steps() != 1 || a.Step != time.Minute {
		t.Errorf("just started: %d steps of %s, want 1 of a minute", a.Steps(), a.Step)
	}
}
