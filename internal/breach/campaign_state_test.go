package breach

import "testing"

func TestCampaignState_Moves(t *testing.T) {
	tests := []struct {
		from, to CampaignState
		ok       bool
	}{
		{CampaignDraft, CampaignApproved, true},
		{CampaignDraft, CampaignRunning, false}, // never without approval
		{CampaignApproved, CampaignRunning, true},
		{CampaignRunning, CampaignPaused, true},
		{CampaignPaused, CampaignRunning, true},
		{CampaignCancelled, CampaignRunning, false},
		{CampaignCompleted, CampaignCancelled, false},
		{CampaignApproved, CampaignApproved, false},
	}
	for _, tt := range tests {
		err := tt.from.Move(tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("%s → %s: %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
		if err != nil && ErrorCode(err) != ECONFLICT {
			t.Errorf("%s → %s: code %s, want conflict", tt.from, tt.to, ErrorCode(err))
		}
	}
}
