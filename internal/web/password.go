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
// in a process (76 MiB); the others wait their turn, up to signInCheckWait, and are then
// answered 503 with Retry-After: signInBusyRetry seconds. Four checks at a time are some 80
// sign-ins a second, far more than an incident team needs.
const (
	maxSignInChecks = 4
	signInBusyRetry = 5 // seconds
)

var (
	// signInCheckWait is how long a sign-in waits for a slot (a variable for the tests).
	signInCheckWait = 10 * time.Second
	// signInChecks holds a token per running sign-in check.
	signInChecks = make(chan struct{}, maxSignInChecks)
	// checkHash is password.Check (a variable so that the tests can count the checks running
	// at once).
	checkHash = password.Check
)

// errSignInBusy says that no sign-in check slot came free in time.
var errSignInBusy = errors.New("every sign-in check slot is busy")

// checkSignInPassword checks a sign-in's password against hash (dummyHash when hash is
// empty) in one of the process's maxSignInChecks slots. It waits for a slot up to
// signInCheckWait, or while ctx lasts, and then gives up with errSignInBusy.
func checkSignInPassword(ctx context.Context, hash, pw string) (bool, error) {
	wait := time.NewTimer(signInCheckWait)
	defer wait.Stop()
	select {
	case signInChecks <- struct{}{}:
	case <-wait.C:
		return false, errSignInBusy
	case <-ctx.Done():
		return false, errSignInBusy
	}
	defer func() { <-signInChecks }()
	if hash == "" {
		hash = dummyHash() // made once, in a slot like any check
	}
	return checkHash(hash, pw)
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
