package breach

import (
	"fmt"
	"time"
)

// QuietHours is the daily window in which no SMS reaches a customer (sms.quiet_hours in the
// campaign file): a breach notice buzzing a phone at 3 a.m. frightens more than it informs,
// and several countries forbid marketing texts at night anyway. The window is in the
// recipient's local time; Start after End ("21:00" to "08:00") crosses midnight.
//
// An SMS due inside the window waits until it ends: deferred, never dropped. Email is never
// held.
type QuietHours struct {
	// Start and End are times of day, HH:MM on a 24-hour clock: the window is [Start, End).
	Start string `json:"start" yaml:"start"`
	End   string `json:"end" yaml:"end"`
	// TimeZone (an IANA name, "America/Lima") is the recipients' zone when neither their phone
	// number nor their country tells it; empty: UTC.
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone"`
}

// validate checks the window and its zone, naming each problem under path.
func (q *QuietHours) validate(v *ValidationError, path string) {
	start, okStart := q.checkClock(v, path+".start", q.Start)
	end, okEnd := q.checkClock(v, path+".end", q.End)
	if okStart && okEnd && start == end {
		v.Add(path, "start and end are both %s: a window of no length (or of the whole day) is refused; remove quiet_hours to send SMS at any hour", q.Start)
	}
	if q.TimeZone != "" {
		if _, err := time.LoadLocation(q.TimeZone); err != nil || q.TimeZone == "Local" {
			v.Add(path+".time_zone", "%q is not a time zone of the IANA database (e.g. America/Lima, Europe/Paris)", q.TimeZone)
		}
	}
}

func (q *QuietHours) checkClock(v *ValidationError, path, s string) (int, bool) {
	if s == "" {
		v.Add(path, "is required (a time of day, HH:MM)")
		return 0, false
	}
	m, err := ParseClock(s)
	if err != nil {
		v.Add(path, "%v", err)
		return 0, false
	}
	return m, true
}

// ParseClock reads a time of day in HH:MM form (00:00 to 23:59) as minutes after midnight.
func ParseClock(s string) (int, error) {
	if len(s) == 5 && s[2] == ':' && isDigits(s[:2]) && isDigits(s[3:]) {
		h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
		if h < 24 && m < 60 {
			return h*60 + m, nil
		}
	}
	return 0, fmt.Errorf("%q is not a time of day in HH:MM form (00:00 to 23:59)", s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Window is a validated QuietHours, ready to answer many questions quickly.
type Window struct {
	start, end int // minutes after midnight
	// Default is the zone of recipients whose own zone is unknown.
	Default *time.Location
}

// Window returns q parsed. q must have been validated (Campaign.Validate).
func (q *QuietHours) Window() (Window, error) {
	start, err := ParseClock(q.Start)
	if err != nil {
		return Window{}, err
	}
	end, err := ParseClock(q.End)
	if err != nil {
		return Window{}, err
	}
	if start == end {
		return Window{}, fmt.Errorf("quiet hours start and end are both %s", q.Start)
	}
	w := Window{start: start, end: end, Default: time.UTC}
	if q.TimeZone != "" {
		if w.Default, err = time.LoadLocation(q.TimeZone); err != nil {
			return Window{}, err
		}
	}
	return w, nil
}

// quietAt reports whether t is inside the window on loc's clock.
func (w Window) quietAt(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	if w.start < w.end {
		return m >= w.start && m < w.end
	}
	return m >= w.start || m < w.end
}

// endAfter is the first end of the window after t on loc's clock.
func (w Window) endAfter(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	// time.Date normalizes a wall time that a daylight-saving jump skips; AddDate keeps the
	// wall clock across a change of offset.
	end := time.Date(l.Year(), l.Month(), l.Day(), w.end/60, w.end%60, 0, 0, loc)
	for !end.After(t) {
		end = time.Date(end.Year(), end.Month(), end.Day()+1, w.end/60, w.end%60, 0, 0, loc)
	}
	return end
}

// Until says when an SMS due at now to a recipient in one of zones may be sent: now itself
// when now is quiet in none of them, otherwise the first end of a window after which it is
// quiet in none. Several zones are the candidates of a number whose prefix spans zones (a US
// area code across a state line): a moment is quiet if it is quiet in any of them, so that
// nobody is woken. No zone: the window's Default.
//
// When the candidates' windows together cover the whole day (zones twelve hours apart), no
// moment suits them all; the first candidate alone then decides.
func (w Window) Until(now time.Time, zones []*time.Location) time.Time {
	if len(zones) == 0 {
		zones = []*time.Location{w.Default}
	}
	t := now
	// Each round moves t to the end of a window it was in; windows are under a day long, so a
	// free moment, if there is one, is reached within a round per zone, and two days at most.
	for range 2*len(zones) + 2 {
		latest, quiet := t, false
		for _, z := range zones {
			if w.quietAt(t, z) {
				quiet = true
				if e := w.endAfter(t, z); e.After(latest) {
					latest = e
				}
			}
		}
		if !quiet {
			return t
		}
		t = latest
	}
	if !w.quietAt(now, zones[0]) {
		return now
	}
	return w.endAfter(now, zones[0])
}

// QuietWait is how many SMS wait for their recipients' quiet hours to end, and until when.
type QuietWait struct {
	Count int64 `json:"count"`
	// Earliest and Latest are the first and last ends of the waits (absent when none waits).
	Earliest *time.Time `json:"earliest_until,omitempty"`
	Latest   *time.Time `json:"latest_until,omitempty"`
}
