package breach

import (
	"slices"
	"strings"
	"time"
)

// Role is what a console user may do. Every signed-in user may read (campaigns, previews,
// tracking); roles add actions. A user holds one or more roles, which add up: separating
// operators from approvers is what makes a two-person approval mean two people.
type Role string

const (
	// RoleViewer reads and nothing more: for the legal and communications staff who follow.
	RoleViewer Role = "viewer"
	// RoleOperator creates campaigns, uploads lists, sends test notices, and starts, pauses,
	// resumes and cancels sending.
	RoleOperator Role = "operator"
	// RoleApprover approves campaigns.
	RoleApprover Role = "approver"
)

// Roles lists every role.
var Roles = []Role{RoleViewer, RoleOperator, RoleApprover}

// ParseRoles reads role names ("operator", "approver", also comma-separated) into a sorted
// set without duplicates, or an EINVALID error naming the unknown one.
func ParseRoles(names []string) ([]Role, error) {
	var roles []Role
	for _, list := range names {
		for name := range strings.SplitSeq(list, ",") {
			r := Role(strings.ToLower(strings.TrimSpace(name)))
			if r == "" {
				continue
			}
			if !slices.Contains(Roles, r) {
				return nil, Errorf(EINVALID, "unknown role %q (roles: viewer, operator, approver)", name)
			}
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	if len(roles) == 0 {
		return nil, Errorf(EINVALID, "name at least one role: viewer, operator or approver")
	}
	slices.Sort(roles)
	return roles, nil
}

// User is a person who signs in to the web console.
type User struct {
	ID          int64
	Login       string
	DisplayName string
	Roles       []Role
	Disabled    bool
	CreatedAt   time.Time
}

// Can reports whether u may act in role r. Reading needs no role beyond being signed in.
func (u *User) Can(r Role) bool {
	return r == RoleViewer || slices.Contains(u.Roles, r)
}

// Actor names u in the audit log and in a campaign's created_by, approved_by, started_by,
// whether u acts in the console or through an API token bound to u.
func (u *User) Actor() string { return userActorPrefix + u.Login }

// userActorPrefix begins the actor of every console user, and of no one else.
const userActorPrefix = "user:"

// maxLogin bounds a login's length.
const maxLogin = 64

// ParseLogin checks and normalizes a console login: lower-case letters, digits, '.', '_' and
// '-', starting with a letter or digit, at most 64 characters. Logins are compared as
// normalized, so "Maria" and "maria" are one user.
func ParseLogin(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" || len(l) > maxLogin || !isLoginStart(l[0]) || strings.IndexFunc(l, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) >= 0 {
		return "", Errorf(EINVALID, "a login is 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", maxLogin)
	}
	return l, nil
}

func isLoginStart(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// Validate checks a user before it is stored.
func (u *User) Validate() error {
	login, err := ParseLogin(u.Login)
	if err != nil {
		return err
	}
	u.Login = login
	names := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		names[i] = string(r)
	}
	if u.Roles, err = ParseRoles(names); err != nil {
		return err
	}
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if len(u.DisplayName) > 200 {
		return Errorf(EINVALID, "the display name is longer than 200 characters")
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Login
	}
	return nil
}
