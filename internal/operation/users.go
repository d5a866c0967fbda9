package operation

import (
	"context"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/password"
)

// UserStore keeps the console's users; each change commits with its audit row.
type UserStore interface {
	// CreateUser stores u (ECONFLICT when its login is taken) with the audit row of actor's act.
	CreateUser(ctx context.Context, u *breach.User, passwordHash, actor string) error
	// ResetUser creates u or gives the user of its login u's name, roles and password, ending
	// their sessions; a disabled user stays disabled (u.Disabled).
	ResetUser(ctx context.Context, u *breach.User, passwordHash, actor string) error
	// DisableUser stops a user from signing in and ends their sessions; ENOTFOUND when no
	// user has the login.
	DisableUser(ctx context.Context, login, actor string) error
	// UserForSignIn returns the user of login and their password hash (ENOTFOUND for an
	// unknown login; a disabled user is returned as such).
	UserForSignIn(ctx context.Context, login string) (*breach.User, string, error)
}

// NewUser is a console user to create.
type NewUser struct {
	Login string
	// Name is how the console shows them (the login when empty).
	Name  string
	Roles []breach.Role
	// Password is the one they chose (password.CheckNew's rule); "" makes one.
	Password string
}

// CreateUser creates a console user and returns them with their password when it was made
// here ("" when the request chose it): it is shown once, and only its argon2id hash is kept.
// Who may sign in, and with which roles, is decided at the command line (Actor.RequireLocal).
func (s *Service) CreateUser(ctx context.Context, actor breach.Actor, req NewUser) (*breach.User, string, error) {
	if err := actor.RequireLocal("manage console users (breachnotice user)"); err != nil {
		return nil, "", err
	}
	pw, made := req.Password, ""
	if pw == "" {
		pw = password.New()
		made = pw
	}
	if err := password.CheckNew(pw); err != nil {
		return nil, "", err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, "", err
	}
	u := &breach.User{Login: req.Login, DisplayName: req.Name, Roles: req.Roles}
	if err := s.Store.CreateUser(ctx, u, hash, actor.Name); err != nil {
		return nil, "", err
	}
	return u, made, nil
}

// DisableUser stops a console user from signing in and ends their sessions.
func (s *Service) DisableUser(ctx context.Context, actor breach.Actor, login string) error {
	if err := actor.RequireLocal("manage console users (breachnotice user)"); err != nil {
		return err
	}
	l, err := breach.ParseLogin(login)
	if err != nil {
		return err
	}
	return s.Store.DisableUser(ctx, l, actor.Name)
}

// DemoLogin is the console account `breachnotice run` prints.
type DemoLogin struct {
	Login, Password string
	// Disabled: an administrator disabled it, and run does not enable it again.
	Disabled bool
}

// ResetDemoUser gives the demo console user "demo" a fresh password and both the operator and
// approver roles, so that one person can try the whole job on the demo campaign (which needs
// one approver).
func (s *Service) ResetDemoUser(ctx context.Context, actor breach.Actor) (DemoLogin, error) {
	if err := actor.RequireLocal("manage console users (breachnotice user)"); err != nil {
		return DemoLogin{}, err
	}
	pw := password.New()
	hash, err := password.Hash(pw)
	if err != nil {
		return DemoLogin{}, err
	}
	u := &breach.User{Login: "demo", DisplayName: "Demo user", Roles: []breach.Role{breach.RoleOperator, breach.RoleApprover}}
	if err := s.Store.ResetUser(ctx, u, hash, actor.Name); err != nil {
		return DemoLogin{}, err
	}
	return DemoLogin{Login: u.Login, Password: pw, Disabled: u.Disabled}, nil
}
