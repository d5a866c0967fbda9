package operation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"sync"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// SecretBinder records which secret a database's records are keyed with
// (postgres.DB.BindSecret).
type SecretBinder interface {
	BindSecret(ctx context.Context, fingerprint []byte, by string, mayBind bool,
		fits func(campaignID, customerID string, refKey int64) bool) (bound bool, err error)
}

// SecretCheck is how a Service makes sure its Secret — BREACHNOTICE_SECRET — is the one the
// database's records are keyed with, before the first operation that keys or checks a record
// with it: reference codes are stored as a list is imported, and a list imported under one
// secret and sent under another gets codes /verify calls fake; opt-out links, exports' codes,
// letters and purge proofs likewise. Operations that key nothing (showing a campaign, its
// status, tokens) never ask, so they need no secret.
type SecretCheck struct {
	// Binder is asked (nil: nothing is checked, as in tests that wire no database).
	Binder SecretBinder
	// By names this process where the binding is recorded.
	By string
	// MayBind lets this process record Secret as the database's when no process has yet: a
	// secret given explicitly may; the command line's demo fallback may not, so that a stray
	// command cannot bind a deployment's database to a laptop's key.
	MayBind bool
	// Hint is added to a refusal (the command line says which demo secret it used).
	Hint string

	mu sync.Mutex
	ok bool
}

// CheckSecret asks, once its answer is yes, whether s.Secret is the database's secret (see
// SecretCheck). A database whose migrations are behind gives no answer yet: that is
// ErrSecretUnchecked (EUNAVAILABLE), and it is asked again at the next call. Serve and the
// worker call it as they start; the operations that key records call it before they do.
func (s *Service) CheckSecret(ctx context.Context) error {
	c := &s.SecretCheck
	if c.Binder == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok {
		return nil
	}
	if len(s.Secret) == 0 {
		return breach.Errorf(breach.EUNAVAILABLE, "this process has no BREACHNOTICE_SECRET")
	}
	keys := notice.NewReferenceKeys(s.Secret)
	ok, err := c.Binder.BindSecret(ctx, secretFingerprint(s.Secret), c.By, c.MayBind, func(campaignID, customerID string, refKey int64) bool {
		return keys.OfRecipient(campaignID, customerID) == refKey
	})
	if err != nil {
		if c.Hint != "" && breach.ErrorCode(err) == breach.EINVALID {
			return breach.Errorf(breach.EINVALID, "%s (%s)", breach.ErrorMessage(err), c.Hint)
		}
		return err
	}
	if !ok {
		return ErrSecretUnchecked
	}
	c.ok = true
	return nil
}

// secret is s.Secret once CheckSecret says it is the database's: the one way the operations
// read it, so that none keys or checks a record with a secret nobody checked. (Those that key
// through the Renderer — previews, test sends — call CheckSecret themselves.)
func (s *Service) secret(ctx context.Context) ([]byte, error) {
	if err := s.CheckSecret(ctx); err != nil {
		return nil, err
	}
	return s.Secret, nil
}

// ErrSecretUnchecked is CheckSecret's answer while the database's migrations are behind the
// process's (no binding table yet): nothing may be keyed until they are applied.
var ErrSecretUnchecked = breach.Errorf(breach.EUNAVAILABLE,
	"the database's migrations are behind this process's, so its secret cannot be checked yet: run breachnotice migrate")

// secretFingerprint names a secret without revealing it: an HMAC of a label no other use of the
// secret signs.
func secretFingerprint(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("breachnotice secret fingerprint v1"))
	return m.Sum(nil)
}
