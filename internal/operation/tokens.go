package operation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/password"
)

// TokenStore keeps operator API tokens: only a SHA-256 hash of each.
type TokenStore interface {
	// CreateToken stores a token's hash under a unique name (ECONFLICT when taken), bound to
	// the console user login unless it is empty (ENOTFOUND for an unknown login), valid until
	// expires (never when zero).
	CreateToken(ctx context.Context, name, login string, hash []byte, expires time.Time) error
	// RotateToken stores hash under name, replacing (and so revoking) any earlier token of
	// that name; the new one is bound to no user.
	RotateToken(ctx context.Context, name string, hash []byte) error
	// TokenByHash returns the live token with the given hash (not revoked, not expired, its
	// user not disabled) and notes its use; EUNAUTHORIZED otherwise.
	TokenByHash(ctx context.Context, hash []byte) (*breach.Token, error)
	// CachedToken is TokenByHash answered from memory alone: ok is false when the token is not
	// known live there (unknown, or not checked lately), whatever it is in the database.
	CachedToken(hash []byte) (t *breach.Token, ok bool)
	// Tokens lists the tokens, revoked and expired ones included, those of the user login
	// only when it is not empty.
	Tokens(ctx context.Context, login string) ([]breach.TokenInfo, error)
	// RevokeToken revokes the live token named name (of the user login only, when it is not
	// empty); ENOTFOUND when there is none.
	RevokeToken(ctx context.Context, name, login string) error
}

// DefaultTokenLifetime is how long a token lives unless its creator says otherwise: long enough
// for an incident, short enough that a forgotten one does not open the API for years.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// TokenRequest is a token to create: Name (unique), the console user it acts for (User; none
// for an unbound token), and its lifetime (Lifetime: DefaultTokenLifetime when zero). A token
// lives for ever only when Never says so: a negative lifetime (a slip of the sign) is refused,
// not read as "never".
//
// Password is the password of User, typed by them, when the token is created by someone who
// is not User (the command line): a token bound to a user acts as that person, approvals of a
// two-person campaign included, so it is made only with their consent — otherwise whoever runs
// the CLI could mint tokens for two approvers and give both approvals in their names.
type TokenRequest struct {
	Name     string
	User     string
	Password string
	Lifetime time.Duration
	Never    bool
}

// maxTokenName bounds a token's name. A name is letters, digits, '.', '_', '-' and '@': it
// travels in URL paths (POST /api/v1/tokens/{name}/revoke, the console's revoke button), where
// a '/' or a space would make a token that can only be revoked from the command line.
const maxTokenName = 100

// CreateToken creates an operator token and returns it — the only time it is seen: only its
// hash is stored.
func (s *Service) CreateToken(ctx context.Context, actor breach.Actor, req TokenRequest) (string, *breach.TokenInfo, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "CreateToken", ""); err != nil {
		return "", nil, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > maxTokenName || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r))
	}) {
		return "", nil, breach.Errorf(breach.EINVALID, "a token's name is 1 to %d letters, digits, '.', '_', '-' or '@'", maxTokenName)
	}
	login := ""
	if req.User != "" {
		var err error
		if login, err = breach.ParseLogin(req.User); err != nil {
			return "", nil, err
		}
	}
	// Only the user themselves may bind a token to a console user when acting as a user; from
	// the command line, with the user's password.
	if p := actor.Person(); p != "" && login != p {
		return "", nil, breach.Errorf(breach.EFORBIDDEN, "%s may create tokens for themselves only", actor.Name)
	}
	confirmed := login != "" && actor.Person() != login
	if confirmed {
		if err := s.confirmUser(ctx, login, req.Password); err != nil {
			return "", nil, err
		}
	}
	info := &breach.TokenInfo{Name: name, User: login}
	switch {
	case req.Never && req.Lifetime != 0:
		return "", nil, breach.Errorf(breach.EINVALID, "a token that never expires has no lifetime")
	case req.Lifetime < 0:
		return "", nil, breach.Errorf(breach.EINVALID, "a token's lifetime %s is negative: give a positive one (0 for the default, %s)", req.Lifetime, DefaultTokenLifetime)
	case req.Never:
	default:
		if req.Lifetime == 0 {
			req.Lifetime = DefaultTokenLifetime
		}
		exp := time.Now().Add(req.Lifetime).UTC().Truncate(time.Second)
		info.ExpiresAt = &exp
	}
	token, hash := newToken()
	var expires time.Time
	if info.ExpiresAt != nil {
		expires = *info.ExpiresAt
	}
	if err := s.Store.CreateToken(ctx, name, login, hash, expires); err != nil {
		return "", nil, err
	}
	detail := map[string]any{"name": name}
	if login != "" {
		detail["user"] = login
	}
	if confirmed {
		detail["confirmed_by"] = "the user's password"
	}
	if info.ExpiresAt != nil {
		detail["expires_at"] = info.ExpiresAt.Format(time.RFC3339)
	}
	if err := s.audit(ctx, actor, breach.ActionTokenCreate, "", detail); err != nil {
		return "", nil, err
	}
	return token, info, nil
}

// confirmUser checks that pw is login's password: the user's consent to a token that acts as
// them. The refusal of a wrong password is an EFORBIDDEN the command line shows as such.
func (s *Service) confirmUser(ctx context.Context, login, pw string) error {
	if pw == "" {
		return breach.Errorf(breach.EFORBIDDEN, "a token that acts as %s is created with their password, typed by them (token create --user %s asks for it)", login, login)
	}
	u, hash, err := s.Store.UserForSignIn(ctx, login)
	if err != nil && breach.ErrorCode(err) != breach.ENOTFOUND {
		return err
	}
	if u != nil && u.Disabled {
		// Said before the password is checked: the answer must not tell a disabled user's
		// right password from a wrong one.
		return breach.Errorf(breach.EFORBIDDEN, "the user %s is disabled", login)
	}
	ok := false
	if hash != "" {
		if ok, err = password.Check(hash, pw); err != nil {
			return fmt.Errorf("check the password of %s: %w", login, err)
		}
	}
	switch {
	case u == nil:
		return breach.Errorf(breach.ENOTFOUND, "no user with login %q", login)
	case !ok:
		return breach.Errorf(breach.EFORBIDDEN, "that is not the password of %s: a token that acts as them needs their consent", login)
	}
	return nil
}

// RotateToken gives the unbound token name a fresh value (`run` hands out a new demo token at
// every start), audited like any token created.
func (s *Service) RotateToken(ctx context.Context, actor breach.Actor, name string) (string, error) {
	token, hash := newToken()
	if err := s.Store.RotateToken(ctx, name, hash); err != nil {
		return "", err
	}
	if err := s.audit(ctx, actor, breach.ActionTokenCreate, "", map[string]any{"name": name, "replaces_earlier": true}); err != nil {
		return "", err
	}
	return token, nil
}

// Tokens lists operator tokens: every token for the CLI and unbound tokens, a user's own for a
// user.
func (s *Service) Tokens(ctx context.Context, actor breach.Actor) ([]breach.TokenInfo, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Tokens", ""); err != nil {
		return nil, err
	}
	ts, err := s.Store.Tokens(ctx, actor.Person())
	if ts == nil && err == nil {
		ts = []breach.TokenInfo{}
	}
	return ts, err
}

// RevokeToken revokes a token at once: its next request is refused (401). A user may revoke
// their own tokens; the CLI any.
func (s *Service) RevokeToken(ctx context.Context, actor breach.Actor, name string) error {
	if err := s.require(ctx, actor, breach.RoleViewer, "RevokeToken", ""); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	// Names older than CreateToken's rule may hold other characters, so only what no token's
	// name can be is answered here, as any name that names no token: text that is not UTF-8 or
	// holds a control character (a NUL reached PostgreSQL, which refused it: a 500).
	if !breach.IsText(name) {
		return breach.Errorf(breach.ENOTFOUND, "no live token is named %q", breach.QuoteText(name))
	}
	if err := s.Store.RevokeToken(ctx, name, actor.Person()); err != nil {
		return err
	}
	return s.audit(ctx, actor, breach.ActionTokenRevoke, "", map[string]any{"name": name})
}

// Authenticate returns the actor an operator token acts as, or an EUNAUTHORIZED error that
// says nothing of why (unknown, revoked, expired, or its user disabled).
func (s *Service) Authenticate(ctx context.Context, token string) (breach.Actor, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 200 {
		return breach.Actor{}, breach.Errorf(breach.EUNAUTHORIZED, "invalid or revoked token")
	}
	sum := sha256.Sum256([]byte(token))
	t, err := s.Store.TokenByHash(ctx, sum[:])
	if err != nil {
		return breach.Actor{}, err
	}
	return t.Actor(), nil
}

// AuthenticateCached is Authenticate for a token checked lately, answered without the database
// (ok false otherwise): what a client that presented too many refused tokens may still use.
func (s *Service) AuthenticateCached(token string) (a breach.Actor, ok bool) {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	t, ok := s.Store.CachedToken(sum[:])
	if !ok {
		return breach.Actor{}, false
	}
	return t.Actor(), true
}

// newToken returns a fresh operator token and the SHA-256 hash under which it is stored. 32
// random bytes make it unguessable; the bn_ prefix makes it recognizable to secret scanners.
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = "bn_" + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}
