package breach

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func window(t *testing.T, start, end, tz string) Window {
	t.Helper()
	w, err := (&QuietHours{Start: start, End: end, TimeZone: tz}).Window()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestQuietHours_NightAcrossMidnightWaitsForMorning(t *testing.T) {
	lima := mustZone(t, "America/Lima")
	w := window(t, "21:00", "08:00", "")
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, lima) }
	for _, tc := range []struct {
		now, want time.Time
	}{
		{at(10, 20, 59), at(10, 20, 59)}, // before the window: now
		{at(10, 21, 0), at(11, 8, 0)},    // its first minute
		{at(10, 22, 0), at(11, 8, 0)},
		{at(11, 0, 30), at(11, 8, 0)}, // after midnight: the same morning
		{at(11, 7, 59), at(11, 8, 0)},
		{at(11, 8, 0), at(11, 8, 0)}, // the end is outside
		{at(11, 12, 0), at(11, 12, 0)},
	} {
		if got := w.Until(tc.now, []*time.Location{lima}); !got.Equal(tc.want) {
			t.Errorf("Until(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

func TestQuietHours_DaytimeWindow(t *testing.T) {
	seoul := mustZone(t, "Asia/Seoul")
	w := window(t, "12:00", "13:30", "")
	now := time.Date(2026, 3, 10, 12, 45, 0, 0, seoul)
	if got, want := w.Until(now, []*time.Location{seoul}), time.Date(2026, 3, 10, 13, 30, 0, 0, seoul); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
	if early := now.Add(-time.Hour); !w.Until(early, []*time.Location{seoul}).Equal(early) {
		t.Error("an SMS before a daytime window was held")
	}
}

func TestQuietHours_SeveralZonesHoldUntilNightEndsInAll(t *testing.T) {
	ny, la := mustZone(t, "America/New_York"), mustZone(t, "America/Los_Angeles")
	w := window(t, "21:00", "08:00", "")
	// 07:00 in New York is 04:00 in Los Angeles: quiet in both; morning in New York at 08:00,
	// in Los Angeles at 08:00 PT = 11:00 ET.
	now := time.Date(2026, 3, 10, 7, 0, 0, 0, ny)
	if got, want := w.Until(now, []*time.Location{ny, la}), time.Date(2026, 3, 10, 8, 0, 0, 0, la); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
	// 22:30 in New York, 19:30 in Los Angeles: quiet in one is quiet.
	evening := time.Date(2026, 3, 10, 22, 30, 0, 0, ny)
	if got, want := w.Until(evening, []*time.Location{ny, la}), time.Date(2026, 3, 11, 8, 0, 0, 0, la); !got.Equal(want) {
		t.Errorf("Until(evening) = %v, want %v", got, want)
	}
}

func TestQuietHours_ZonesCoveringTheWholeDayFallBackToTheFirst(t *testing.T) {
	lima, seoul := mustZone(t, "America/Lima"), mustZone(t, "Asia/Seoul") // 14 hours apart
	// 18:00–09:00 in Lima, and 18:00–09:00 in Seoul is 04:00–19:00 in Lima: never free.
	w := window(t, "18:00", "09:00", "")
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, lima)
	if got, want := w.Until(now, []*time.Location{lima, seoul}), time.Date(2026, 3, 11, 9, 0, 0, 0, lima); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
}

func TestQuietHours_UnknownZoneUsesTheCampaignDefault(t *testing.T) {
	w := window(t, "21:00", "08:00", "Europe/Paris")
	paris := mustZone(t, "Europe/Paris")
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, paris)
	if got, want := w.Until(now, nil), time.Date(2026, 3, 11, 8, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
}

func TestQuietHours_ZonesLeavingAGapSendInIt(t *testing.T) {
	lima, seoul := mustZone(t, "America/Lima"), mustZone(t, "Asia/Seoul")
	// 20:00–09:00 in both: Seoul's night is 06:00–19:00 in Lima, so 19:00–20:00 Lima is free.
	w := window(t, "20:00", "09:00", "")
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, lima)
	if got, want := w.Until(now, []*time.Location{lima, seoul}), time.Date(2026, 3, 11, 19, 0, 0, 0, lima); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
}

func TestQuietHours_DaylightSavingNight(t *testing.T) {
	// The night of 28–29 March 2026 in Paris loses an hour at 02:00: the window still ends
	// at 08:00 local (06:00 UTC, not 07:00).
	paris := mustZone(t, "Europe/Paris")
	w := window(t, "21:00", "08:00", "")
	now := time.Date(2026, 3, 28, 22, 0, 0, 0, paris)
	got := w.Until(now, []*time.Location{paris})
	if want := time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got.UTC(), want)
	}
}

func TestQuietHours_ValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		q    QuietHours
		want string
	}{
		{QuietHours{Start: "25:00", End: "08:00"}, `sms.quiet_hours.start: "25:00" is not a time of day`},
		{QuietHours{Start: "21:00", End: "8:00"}, `sms.quiet_hours.end: "8:00" is not a time of day`},
		{QuietHours{Start: "21:00"}, `sms.quiet_hours.end: is required`},
		{QuietHours{Start: "21:00", End: "21:00"}, `sms.quiet_hours: start and end are both 21:00`},
		{QuietHours{Start: "21:00", End: "08:00", TimeZone: "Mars/Olympus"}, `sms.quiet_hours.time_zone: "Mars/Olympus" is not a time zone`},
	} {
		v := &ValidationError{}
		tc.q.validate(v, "sms.quiet_hours")
		if err := v.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.q, err, tc.want)
		}
	}
	v := &ValidationError{}
	(&QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/Lima"}).validate(v, "sms.quiet_hours")
	if err := v.Err(); err != nil {
		t.Errorf("a good window refused: %v", err)
	}
}
