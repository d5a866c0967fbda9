package operation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// SecretBinder records which secret a database's records are keyed with
// (postgres.DB.BindSecret).
type SecretBinder interface {
	BindSecret(ctx context.Context, fingerprint []byte, by string, fits func(campaignID, customerID string, refKey int64) bool) error
}

// BindSecret makes sure secret — BREACHNOTICE_SECRET — is the one the database's records are
// keyed with, recording it as such (on behalf of by: the process, for the record) when no
// process has yet. Every process that keys or checks a record with the secret calls it before
// it does anything: reference codes are stored as a list is imported, and a list imported
// under one secret and sent under another gets codes /verify calls fake; a worker with a stale
// secret sends opt-out links that do not open. A different secret is an EINVALID error.
func BindSecret(ctx context.Context, store SecretBinder, secret []byte, by string) error {
	if len(secret) == 0 {
		return breach.Errorf(breach.EINVALID, "BREACHNOTICE_SECRET is empty")
	}
	keys := notice.NewReferenceKeys(secret)
	return store.BindSecret(ctx, secretFingerprint(secret), by, func(campaignID, customerID string, refKey int64) bool {
		return keys.OfRecipient(campaignID, customerID) == refKey
	})
}

// secretFingerprint names a secret without revealing it: an HMAC of a label no other use of the
// secret signs.
func secretFingerprint(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("breachnotice secret fingerprint v1"))
	return m.Sum(nil)
}
