package breach

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time zone, as an incident's dates are given ("2026-11-12").
type Date struct{ t time.Time }

// ParseDate reads a date in ISO 8601 form (YYYY-MM-DD).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in YYYY-MM-DD form", s)
	}
	return Date{t}, nil
}

// LatestDate is the latest calendar date anywhere on Earth at now: the date at UTC+14, where
// each day begins first. A date after it is in the future wherever the incident team is.
func LatestDate(now time.Time) Date { return dateAt(now, 14) }

// EarliestDate is the earliest calendar date anywhere on Earth at now: the date at UTC-12,
// where each day ends last.
func EarliestDate(now time.Time) Date { return dateAt(now, -12) }

// dateAt is the date at now in the zone of UTC offset hours.
func dateAt(now time.Time, hours int) Date {
	y, m, d := now.In(time.FixedZone("", hours*60*60)).Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// Time returns the date at midnight UTC.
func (d Date) Time() time.Time { return d.t }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// MarshalText writes the date as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a YYYY-MM-DD date; empty text leaves the date unset.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
