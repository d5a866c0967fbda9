package breach

import "time"

// Token is the holder of an operator API token, as the API knows its caller once the token is
// checked.
type Token struct {
	// Name is the token's unique name (breachnotice token create --name).
	Name string
	// User is the enabled console user the token is bound to (token create --user), or nil
	// for an unbound token: those of deployments older than users, and `run`'s demo token.
	User *User
}

// Actor names the token's holder in the audit log and in a campaign's created_by,
// approved_by, started_by: a bound token acts as its user ("user:<login>", as in the console),
// so that the two-person rule sees one person however they act; an unbound one as
// "token:<name>".
func (t *Token) Actor() Actor {
	if t.User != nil {
		a := UserActor(t.User)
		a.Via = "token:" + t.Name
		return a
	}
	return Actor{Name: "token:" + t.Name}
}

// Can reports whether the holder may act in role r. A bound token has exactly its user's
// roles. An unbound token may do everything, as every token could before tokens had users;
// it is no person, though, so Campaign.CheckApproval refuses it the approval of a campaign
// that needs two people.
func (t *Token) Can(r Role) bool {
	if t.User == nil {
		return true
	}
	return t.User.Can(r)
}

// TokenInfo is what a listing shows of an operator token: never the token itself, which is
// shown once at creation and stored only as a hash.
type TokenInfo struct {
	Name string `json:"name"`
	// User is the login of the console user the token acts for; empty for an unbound token.
	User       string     `json:"user,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// UserDisabled says the token's user is disabled: it opens nothing while they are.
	UserDisabled bool `json:"user_disabled,omitempty"`
}

// Live reports whether the token still opens the API at now: not revoked, not expired, and its
// user (if any) not disabled — a disabled user's token was listed live (a review).
func (t *TokenInfo) Live(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt)) && !t.UserDisabled
}
