package breach

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
func (t *Token) Actor() string {
	if t.User != nil {
		return t.User.Actor()
	}
	return "token:" + t.Name
}

// Can reports whether the holder may act in role r. A bound token has exactly its user's
// roles. An unbound token may do everything, as every token could before tokens had users;
// it is no person, though, so Campaign.CheckApprover refuses it the approval of a campaign
// that needs two people.
func (t *Token) Can(r Role) bool {
	if t.User == nil {
		return true
	}
	return t.User.Can(r)
}
