package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/password"
)

// Sign-in checks: anyone may post the sign-in form, and each check holds argon2id's 19 MiB for
// some 50 ms, so a flood of attempts — from as many addresses as it takes to stay under the
// sign-in limits — would otherwise allocate without bound. At most maxSignInChecks run at once
// in a console (76 MiB); the others wait their turn, up to signInChecks.wait, and are then
// answered 503 with Retry-After: signInBusyRetry seconds. Four checks at a time are some 80
// sign-ins a second, far more than an incident team needs.
const (
	maxSignInChecks = 4
	signInBusyRetry = 5 // seconds
)

// signInChecks runs a Server's sign-in password checks, at most maxSignInChecks at once.
type signInChecks struct {
	slots chan struct{} // a token per running check
	// wait is how long a sign-in waits for a slot; check is password.Check (both set apart
	// so that the tests can shorten the wait and count the checks running at once).
	wait  time.Duration
	check func(hash, pw string) (bool, error)
}

func newSignInChecks() *signInChecks {
	return &signInChecks{slots: make(chan struct{}, maxSignInChecks), wait: 10 * time.Second, check: password.Check}
}

// errSignInBusy says that no sign-in check slot came free in time.
var errSignInBusy = errors.New("every sign-in check slot is busy")

// run checks a sign-in's password against hash (dummyHash when hash is empty) in one of the
// slots. It waits for a slot up to c.wait, or while ctx lasts, and then gives up with
// errSignInBusy.
func (c *signInChecks) run(ctx context.Context, hash, pw string) (bool, error) {
	wait := time.NewTimer(c.wait)
	defer wait.Stop()
	select {
	case c.slots <- struct{}{}:
	case <-wait.C:
		return false, errSignInBusy
	case <-ctx.Done():
		return false, errSignInBusy
	}
	defer func() { <-c.slots }()
	if hash == "" {
		hash = dummyHash() // made once, in a slot like any check
	}
	return c.check(hash, pw)
}

// dummyHash is checked against when a sign-in names no known user, so that the answer takes
// as long as for a known one and does not tell which logins exist.
// It is made on first use, not when a program that merely links the package starts.
var dummyHash = sync.OnceValue(func() string {
	h, err := password.Hash("no user has this password: it only spends time")
	if err != nil {
		panic(err)
	}
	return h
})
