package breach

import (
	"context"
	"strings"
)

// Actor is who asks for an operation: a console user (signed in, or through an API token bound
// to them), an unbound API token, a person at the command line, or the system itself. Every
// operation is checked and audited against one; its Name is what the audit log and a
// campaign's created_by, approved_by, started_by record.
type Actor struct {
	// Name is "user:<login>", "token:<name>", "cli:<unix user>" or "system:<what>".
	Name string
	// User is the console user behind the actor, when one is known to be a single person (a
	// console session, a token bound to a user); nil for unbound tokens, the CLI and the system.
	User *User
	// Via is the credential the actor came through, where Name does not say it: "token:<name>"
	// for a token bound to a user (who is Name). The console's sessions are named in the
	// request's context (WithCredential), which is where the audit log reads both from.
	Via string
}

type credentialKey struct{}

// WithCredential names, for the audit rows written under ctx, the credential the request came
// through: "token:<name>", or "session:<tag>" for a console session (a prefix of the hash of its
// cookie, which the sign-in's audit row names too). An approval's row then says not only whose
// name it was given in but which of their tokens or sign-ins gave it — a stolen token shows.
func WithCredential(ctx context.Context, via string) context.Context {
	if via == "" {
		return ctx
	}
	return context.WithValue(ctx, credentialKey{}, via)
}

// CredentialOf is the credential WithCredential named in ctx, or "".
func CredentialOf(ctx context.Context) string {
	via, _ := ctx.Value(credentialKey{}).(string)
	return via
}

// UserActor is u acting in the console, or through a token bound to u.
func UserActor(u *User) Actor { return Actor{Name: u.Actor(), User: u} }

// CLIActor is a person at the command line, named by their system account: the CLI talks to
// the database directly, so it has every role, but it is no known user.
func CLIActor(account string) Actor {
	if account == "" {
		return Actor{Name: "cli"}
	}
	return Actor{Name: "cli:" + account}
}

// SystemActor is breachnotice acting by itself (the retention sweep, the demo loader).
func SystemActor(what string) Actor { return Actor{Name: "system:" + what} }

// Can reports whether the actor may act in role r. A user has exactly their roles; the CLI, an
// unbound token and the system may do everything, as before users existed — except what takes
// a known person (see Campaign.CheckApproval).
func (a Actor) Can(r Role) bool {
	if a.User == nil {
		return a.Name != ""
	}
	return a.User.Can(r)
}

// RequireLocal returns an EFORBIDDEN error unless the actor is a person at the command line or
// the system: what is decided by those with the database's own access (who may sign in to the
// console and with which roles, how the record is kept across an upgrade), never through the
// console or an API token. what names the action, for the refusal.
func (a Actor) RequireLocal(what string) error {
	if a.User == nil && (a.Name == "cli" || strings.HasPrefix(a.Name, "cli:") || strings.HasPrefix(a.Name, "system:")) {
		return nil
	}
	return Errorf(EFORBIDDEN, "%s may not %s: that is done at the command line", a.Name, what)
}

// Require returns an EFORBIDDEN error saying which role the actor lacks, or nil.
func (a Actor) Require(r Role) error {
	if a.Can(r) {
		return nil
	}
	if a.User == nil {
		return Errorf(EFORBIDDEN, "no one is signed in")
	}
	have := make([]string, len(a.User.Roles))
	for i, role := range a.User.Roles {
		have[i] = string(role)
	}
	if len(have) == 0 {
		have = []string{"no role"}
	}
	return Errorf(EFORBIDDEN, "%s may not do this: it takes the %s role, and %s has %s",
		a.Name, r, a.User.Login, strings.Join(have, ", "))
}

// Person returns the login of the one person the actor is known to be, or "" when it could be
// anyone holding the token or the database password.
func (a Actor) Person() string {
	if a.User == nil {
		return ""
	}
	return a.User.Login
}
