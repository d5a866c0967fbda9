package operation

import (
	"context"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// DefaultVerifyFloor is how long a verification takes at least (Service.VerifyFloor): the
// lookup itself takes a millisecond or two, and a caller timing the answers must not learn
// from them whether a code exists.
const DefaultVerifyFloor = 150 * time.Millisecond

// Verify is the public check of a reference code, for anyone holding a notice (GET /verify):
// whether a notice carrying code was sent, and if so by which company, when and how to reach
// it. Anything else — a code never sent, one made up or keyed under another secret, a
// customer of the list who was never reached, anything that is no code at all — is simply not
// genuine. It has no actor and writes no audit row: it reads nothing personal and shows
// nothing of the customer, nor logs anything of the code.
//
// Its cost does not tell a genuine code from another: the code is read and hashed the same
// way whatever it is (a malformed one stands for a value no code has), the store answers with
// one index lookup, and the answer waits until VerifyFloor has passed since the call. Rate
// limiting, per client, is the door's (it knows the client).
func (s *Service) Verify(ctx context.Context, code string) (*breach.Verification, error) {
	start := time.Now()
	floor := s.VerifyFloor
	if floor == 0 {
		floor = DefaultVerifyFloor
	}
	if len(s.Secret) == 0 {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "reference codes cannot be checked here: the server has no secret (BREACHNOTICE_SECRET)")
	}
	secret, err := s.secret(ctx)
	if err != nil {
		// Never "not genuine" for a genuine notice because this server's secret is wrong; and
		// the page is public: why is the operators' to read, in the log.
		s.Log.Error("reference code not checked: the secret is not the database's", "err", err)
		return nil, breach.Errorf(breach.EUNAVAILABLE, "reference codes cannot be checked here now: try again later")
	}
	key, reference, wellFormed := notice.NewReferenceKeys(secret).OfCode(code)
	sent, err := s.Store.ReferenceSent(ctx, key)
	if err != nil {
		return nil, err
	}
	v := &breach.Verification{Reference: reference}
	if wellFormed && sent != nil {
		v.Genuine, v.Organization, v.SentAt = true, sent.Organization, sent.SentAt
	}
	if err := waitUntil(ctx, start.Add(floor)); err != nil {
		return nil, err
	}
	return v, nil
}

// waitUntil returns at t, or with ctx's error if it ends first.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
