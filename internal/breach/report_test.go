package breach

import (
	"slices"
	"testing"
)

func TestReportStates_DuplicatesChangeNothingAndSettledStatesStay(t *testing.T) {
	for _, to := range []DeliveryState{DeliveryDelivered, DeliveryBounced, DeliveryFailed, DeliverySuppressed} {
		from := ReportStates(to)
		if len(from) == 0 {
			t.Errorf("no report may set %s", to)
		}
		if slices.Contains(from, to) {
			t.Errorf("a %s report replaces %s: a duplicate would write a second event", to, to)
		}
		for _, settled := range []DeliveryState{DeliveryFailed, DeliverySuppressed} {
			if slices.Contains(from, settled) {
				t.Errorf("a %s report replaces %s", to, settled)
			}
		}
	}
	if slices.Contains(ReportStates(DeliveryDelivered), DeliveryBounced) {
		t.Error("a late delivered replaces a bounce")
	}
	if !slices.Contains(ReportStates(DeliveryBounced), DeliveryDelivered) {
		t.Error("a bounce cannot replace delivered, though servers accept and then bounce")
	}
	for _, to := range []DeliveryState{DeliveryPending, DeliveryQueued, DeliverySending, DeliverySent, ""} {
		if ReportStates(to) != nil {
			t.Errorf("a report may set %q", to)
		}
	}
}
