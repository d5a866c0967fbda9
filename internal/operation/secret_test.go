package operation_test

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// migratedDB is a database of the test's own, migrated.
func migratedDB(t *testing.T) string {
	t.Helper()
	url := pgtest.Empty(t)
	if _, err := postgres.Migrate(t.Context(), url); err != nil {
		t.Fatal(err)
	}
	return url
}

// A database keeps the secret its records are keyed with: the first process binds it, and a
// process with another secret — a command line that fell back to a demo secret, a worker with a
// stale one — is refused, told who bound it and when, and never shown either secret. A database
// a previous release filled (codes stored, nothing recorded) is bound only to the secret its
// codes were made with.
func TestBindSecret_ADatabaseKeepsTheSecretItsRecordsAreKeyedWith(t *testing.T) {
	ctx := t.Context()
	other := []byte("another-secret-0123456789abcdef0123456789")
	refused := func(err error, want string) {
		t.Helper()
		msg := breach.ErrorMessage(err)
		if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(msg, want) {
			t.Errorf("binding another secret: %v; want EINVALID saying %q", err, want)
		}
		if strings.Contains(msg, string(other)) || strings.Contains(msg, string(testSecret)) {
			t.Errorf("the refusal shows a secret: %s", msg)
		}
	}

	t.Run("filled by a previous release", func(t *testing.T) {
		ops, db := serviceOn(t, migratedDB(t))
		draft(t, ops, breach.CLIActor("maker")) // codes stored under testSecret; nothing bound
		refused(operation.BindSecret(ctx, db, other, "breachnotice import, by ana on laptop"), "reference codes were made with")
		if err := operation.BindSecret(ctx, db, testSecret, "breachnotice serve, by ops on host1"); err != nil {
			t.Fatalf("binding the secret of the stored codes: %v", err)
		}
		if err := operation.BindSecret(ctx, db, testSecret, "breachnotice worker, by ops on host2"); err != nil {
			t.Fatalf("the same secret again: %v", err)
		}
		refused(operation.BindSecret(ctx, db, other, "breachnotice import, by ana on laptop"), "breachnotice serve, by ops on host1")
	})

	t.Run("empty", func(t *testing.T) {
		_, db := serviceOn(t, migratedDB(t))
		if err := operation.BindSecret(ctx, db, other, "breachnotice run"); err != nil {
			t.Fatalf("the first secret of an empty database: %v", err)
		}
		refused(operation.BindSecret(ctx, db, testSecret, "breachnotice worker"), "breachnotice run")
	})
}
