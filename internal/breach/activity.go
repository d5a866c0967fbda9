package breach

import "time"

// ActivityOutcome is what the chart of a campaign's sending counts: notices that went out, and
// notices that did not (failed, or bounced after going out). A delivered notice is one that
// went out and was confirmed later: counting it again would draw the same notice twice.
type ActivityOutcome string

const (
	OutcomeSent   ActivityOutcome = "sent"
	OutcomeFailed ActivityOutcome = "failed" // failed or bounced
)

// Outcomes lists the outcomes in the order the chart's legend shows them.
var Outcomes = []ActivityOutcome{OutcomeSent, OutcomeFailed}

// ActivityMinute is how many notices of one channel had one outcome in the minute starting
// at Minute.
type ActivityMinute struct {
	Minute  time.Time
	Channel Channel
	Outcome ActivityOutcome
	N       int64
}

// Activity is a campaign's notices per channel and outcome over its life, counted in Steps
// of equal length (a whole number of minutes) from Start: what the console draws.
type Activity struct {
	Start time.Time
	Step  time.Duration
	// End is when the counting ends: now for a campaign still sending, else when it finished.
	// The last step may be cut short by it.
	End    time.Time
	Series []ActivitySeries // one per channel the engine sends on and outcome, in that order
}

// ActivitySeries is one channel's count of one outcome, per step.
type ActivitySeries struct {
	Channel Channel
	Outcome ActivityOutcome
	Counts  []int64
}

// Steps is how many steps the activity has (0 when nothing could be sent yet).
func (a *Activity) Steps() int {
	if len(a.Series) == 0 {
		return 0
	}
	return len(a.Series[0].Counts)
}

// NewActivity counts minutes (in any order; those outside [start, end] are left out) into at
// most maxSteps steps of whole minutes from start's minute to end's. A long campaign gets
// longer steps rather than more points: a chart of a week's sending by the minute would be
// 10,000 points wide. An end before start gives an activity of no steps.
func NewActivity(start, end time.Time, minutes []ActivityMinute, maxSteps int) *Activity {
	start = start.Truncate(time.Minute)
	a := &Activity{Start: start, Step: time.Minute, End: end}
	if end.Before(start) || maxSteps < 1 {
		return a
	}
	span := int(end.Sub(start)/time.Minute) + 1 // minutes, the last one partial
	perStep := (span + maxSteps - 1) / maxSteps
	steps := (span + perStep - 1) / perStep
	a.Step = time.Duration(perStep) * time.Minute
	index := map[[2]string]int{}
	for _, ch := range Channels {
		for _, o := range Outcomes {
			index[[2]string{string(ch), string(o)}] = len(a.Series)
			a.Series = append(a.Series, ActivitySeries{Channel: ch, Outcome: o, Counts: make([]int64, steps)})
		}
	}
	for _, m := range minutes {
		i, ok := index[[2]string{string(m.Channel), string(m.Outcome)}]
		if !ok || m.Minute.Before(start) || m.Minute.After(end) {
			continue
		}
		a.Series[i].Counts[int(m.Minute.Sub(start)/a.Step)] += m.N
	}
	return a
}
