package breach

import (
	"testing"
	"time"
)

// TestLatestDate: the latest date anywhere is the date at UTC+14, which turns at 10:00 UTC.
func TestLatestDate(t *testing.T) {
	for _, tt := range []struct{ now, want string }{
		{"2026-12-05T09:59:59Z", "2026-12-05"},
		{"2026-12-05T10:00:00Z", "2026-12-06"},
		{"2026-12-31T23:00:00-12:00", "2027-01-02"}, // 11:00 UTC on 1 January
	} {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := LatestDate(now).String(); got != tt.want {
			t.Errorf("LatestDate(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
}
