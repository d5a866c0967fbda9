package breach

import (
	"strings"
	"testing"
)

func TestCheckApprover_TwoPersonCampaignTakesAUserWhoIsNotAnAuthor(t *testing.T) {
	authors := []string{"user:maria", "user:uploader"}
	for _, tc := range []struct {
		twoPerson bool
		actor     string
		want      string // a part of the refusal; "" for allowed
	}{
		{false, "user:maria", ""},
		{false, "cli:maria", ""},
		{false, "token:demo", ""},
		{true, "user:bob", ""},
		{true, "user:maria", "another approver must approve it"},
		{true, "user:uploader", "another approver must approve it"},
		{true, "cli:maria", "approve it in the web console, or through the API with a token bound to your user"},
		{true, "token:ci", "approve it in the web console"},
		{true, "cli", "approve it in the web console"},
		{true, "", "approve it in the web console"},
	} {
		c := &Campaign{Approval: ApprovalPolicy{TwoPerson: tc.twoPerson}}
		err := c.CheckApprover(tc.actor, authors)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("two_person=%v, %q: %v, want allowed", tc.twoPerson, tc.actor, err)
		case tc.want != "" && (ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("two_person=%v, %q: %v, want ECONFLICT saying %q", tc.twoPerson, tc.actor, err, tc.want)
		}
	}
}

func TestToken_ABoundTokenHasItsUsersIdentityAndRoles(t *testing.T) {
	unbound := &Token{Name: "demo"}
	if unbound.Actor() != "token:demo" || !unbound.Can(RoleApprover) || !unbound.Can(RoleOperator) {
		t.Errorf("unbound token: %q, approver %v, operator %v", unbound.Actor(), unbound.Can(RoleApprover), unbound.Can(RoleOperator))
	}
	bound := &Token{Name: "laptop", User: &User{Login: "maria", Roles: []Role{RoleOperator}}}
	if bound.Actor() != "user:maria" || !bound.Can(RoleViewer) || !bound.Can(RoleOperator) || bound.Can(RoleApprover) {
		t.Errorf("bound token: %q, viewer %v, operator %v, approver %v", bound.Actor(), bound.Can(RoleViewer), bound.Can(RoleOperator), bound.Can(RoleApprover))
	}
}
