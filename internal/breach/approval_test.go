package breach

import (
	"strings"
	"testing"
)

func TestCheckApproval_TwoPersonCampaignTakesTwoDistinctUsersWhoAreNotAuthors(t *testing.T) {
	authors := []string{"user:maria", "user:uploader", "cli:lucia", "cli:Diego"}
	user := func(login string) Actor { return UserActor(&User{Login: login, Roles: []Role{RoleApprover}}) }
	for _, tc := range []struct {
		name      string
		required  int
		actor     Actor
		approvals []Approval
		want      string // a part of the refusal; "" for allowed
	}{
		{"one-person, an author", 1, user("maria"), nil, ""},
		{"one-person, the CLI", 1, CLIActor("maria"), nil, ""},
		{"one-person, an unbound token", 1, Actor{Name: "token:demo"}, nil, ""},
		{"first of two", 2, user("bob"), nil, ""},
		{"second of two", 2, user("carla"), []Approval{{By: "user:bob"}}, ""},
		{"the same user twice", 2, user("bob"), []Approval{{By: "user:bob"}}, "has approved it already (1 of 2 approvals)"},
		{"the creator", 2, user("maria"), nil, "other approvers must approve it"},
		{"the uploader", 2, user("uploader"), nil, "other approvers must approve it"},
		{"a user whose CLI account created it", 2, user("lucia"), nil, "other approvers must approve it"},
		// Logins are lower-case; a system account need not be (macOS, directory accounts).
		{"a user whose capitalised CLI account created it", 2, user("diego"), nil, "other approvers must approve it"},
		{"the CLI", 2, CLIActor("maria"), nil, "approve it in the web console, or through the API with a token bound to your user"},
		{"an unbound token", 2, Actor{Name: "token:ci"}, nil, "approve it in the web console"},
		{"no one", 2, Actor{}, nil, "approve it in the web console"},
	} {
		c := &Campaign{}
		err := c.CheckApproval(tc.actor, tc.required, authors, tc.approvals)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want allowed", tc.name, err)
		case tc.want != "" && (ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want ECONFLICT saying %q", tc.name, err, tc.want)
		}
	}
}

func TestRequiredApprovals_ServerCanForceTwoPeople(t *testing.T) {
	one, two := &Campaign{}, &Campaign{Approval: ApprovalPolicy{TwoPerson: true}}
	if one.RequiredApprovals(false) != 1 || one.RequiredApprovals(true) != 2 || two.RequiredApprovals(false) != 2 {
		t.Errorf("required approvals: %d %d %d, want 1 2 2", one.RequiredApprovals(false), one.RequiredApprovals(true), two.RequiredApprovals(false))
	}
}

func TestParseID_OnlyTheCanonicalSpellingIsAnID(t *testing.T) {
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	if got, err := ParseID("campaign", id); err != nil || got != id {
		t.Fatalf("ParseID(%q) = %q, %v", id, got, err)
	}
	for _, bad := range []string{"urn:uuid:" + id, "{" + id + "}", strings.ToUpper(id), strings.ReplaceAll(id, "-", ""),
		id + " ", "", "x", id[:35] + "g"} {
		if _, err := ParseID("campaign", bad); ErrorCode(err) != EINVALID {
			t.Errorf("ParseID(%q): %v, want EINVALID", bad, err)
		}
	}
}

func TestToken_ABoundTokenHasItsUsersIdentityAndRoles(t *testing.T) {
	unbound := &Token{Name: "demo"}
	if a := unbound.Actor(); a.Name != "token:demo" || !a.Can(RoleApprover) || !a.Can(RoleOperator) || a.Person() != "" {
		t.Errorf("unbound token: %+v", a)
	}
	bound := &Token{Name: "laptop", User: &User{Login: "maria", Roles: []Role{RoleOperator}}}
	if a := bound.Actor(); a.Name != "user:maria" || !a.Can(RoleViewer) || !a.Can(RoleOperator) || a.Can(RoleApprover) || a.Person() != "maria" {
		t.Errorf("bound token: %+v", a)
	}
}
