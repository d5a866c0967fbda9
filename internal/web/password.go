package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), which keeps a
// sign-in near 50 ms on a small server. They are written into every hash (PHC string format),
// so raising them later leaves existing hashes readable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
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
	// idKey is argon2id (a variable so that the tests can count the hashes running at once).
	idKey = argon2.IDKey
)

// errSignInBusy says that no sign-in check slot came free in time.
var errSignInBusy = errors.New("every sign-in check slot is busy")

// checkSignInPassword checks a sign-in's password against hash (dummyHash when hash is
// empty) in one of the process's maxSignInChecks slots. It waits for a slot up to
// signInCheckWait, or while ctx lasts, and then gives up with errSignInBusy.
func checkSignInPassword(ctx context.Context, hash, password string) (bool, error) {
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
	return CheckPassword(hash, password)
}

// Password length bounds: 12 characters resist guessing at the sign-in limits; 1,024 bytes
// stop a runaway paste.
const (
	minPassword = 12
	maxPassword = 1024
)

// dummyHash is checked against when a sign-in names no known user, so that the answer takes
// as long as for a known one and does not tell which logins exist.
// It is made on first use, not when a program that merely links the package starts.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no user has this password: it only spends time")
	if err != nil {
		panic(err)
	}
	return h
})

// CheckNewPassword returns an EINVALID error when password is too weak or too long to set.
func CheckNewPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < minPassword:
		return breach.Errorf(breach.EINVALID, "the password must have at least %d characters (it has %d)", minPassword, n)
	case len(password) > maxPassword:
		return breach.Errorf(breach.EINVALID, "the password must have at most %d bytes", maxPassword)
	}
	return nil
}

// HashPassword returns password's argon2id hash in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := idKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a PHC argon2id hash, with the parameters the
// hash names. A hash it cannot read is an error (and no match).
func CheckPassword(phc, password string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, fmt.Errorf("not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("argon2id version %q not supported", parts[2])
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return false, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	if memory == 0 || memory > 1<<22 || passes == 0 || passes > 16 || threads == 0 {
		return false, fmt.Errorf("argon2id parameters %q out of range", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("argon2id salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("argon2id hash: unreadable")
	}
	got := idKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NewPassword returns a generated password: 26 base32 characters, 128 random bits.
func NewPassword() string { return rand.Text() }
