// Package password makes and checks the console users' passwords: generated ones, the rule
// a chosen one must pass, and argon2id hashes in PHC string format — the one place the
// command line (user add) and the console (sign-in) share.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
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

// Password length bounds: 12 characters resist guessing at the sign-in limits; 1,024 bytes
// stop a runaway paste.
const (
	minPassword = 12
	maxPassword = 1024
)

// CheckNew returns an EINVALID error when password is too weak or too long to set.
func CheckNew(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < minPassword:
		return breach.Errorf(breach.EINVALID, "the password must have at least %d characters (it has %d)", minPassword, n)
	case len(password) > maxPassword:
		return breach.Errorf(breach.EINVALID, "the password must have at most %d bytes", maxPassword)
	}
	return nil
}

// Hash returns password's argon2id hash in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func Hash(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches a PHC argon2id hash, with the parameters the
// hash names. A hash it cannot read is an error (and no match).
func Check(phc, password string) (bool, error) {
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
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// New returns a generated password: 26 base32 characters, 128 random bits.
func New() string { return rand.Text() }
