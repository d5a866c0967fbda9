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

// checked is the operations on the database at url with secret, checked against the
// database's (as the command line wires them), by the process by.
func checked(t *testing.T, url string, secret []byte, by string, mayBind bool) *operation.Service {
	t.Helper()
	ops, db := serviceOn(t, url)
	ops.Secret = secret
	ops.SecretCheck.Binder, ops.SecretCheck.By, ops.SecretCheck.MayBind = db, by, mayBind
	return ops
}

// A database keeps the secret its records are keyed with: the first process with an explicit
// secret binds it, and a process with another — a worker with a stale one — is refused before
// it keys anything, told who bound it and when, and never shown either secret. A command
// line's demo secret binds nothing. A database a previous release filled (codes stored,
// nothing recorded) is bound only to the secret all its campaigns' codes were made with.
func TestCheckSecret_ADatabaseKeepsTheSecretItsRecordsAreKeyedWith(t *testing.T) {
	ctx := t.Context()
	other := []byte("another-secret-0123456789abcdef0123456789")
	refused := func(err error, want string) {
		t.Helper()
		msg := breach.ErrorMessage(err)
		if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(msg, want) {
			t.Errorf("another secret: %v; want EINVALID saying %q", err, want)
		}
		if strings.Contains(msg, string(other)) || strings.Contains(msg, string(testSecret)) {
			t.Errorf("the refusal shows a secret: %s", msg)
		}
	}

	t.Run("filled by a previous release", func(t *testing.T) {
		url := migratedDB(t)
		ops, _ := serviceOn(t, url)
		draft(t, ops, breach.CLIActor("maker")) // codes stored under testSecret; nothing bound
		refused(checked(t, url, other, "breachnotice import, by ana on laptop", true).CheckSecret(ctx), "reference codes were made with")
		serve := checked(t, url, testSecret, "breachnotice serve, by ops on host1", true)
		if err := serve.CheckSecret(ctx); err != nil {
			t.Fatalf("binding the secret of the stored codes: %v", err)
		}
		if err := checked(t, url, testSecret, "breachnotice worker, by ops on host2", true).CheckSecret(ctx); err != nil {
			t.Fatalf("the same secret again: %v", err)
		}
		worker := checked(t, url, other, "breachnotice worker, by ops on host3", true)
		refused(worker.CheckSecret(ctx), "breachnotice serve, by ops on host1")
		// Every operation that keys a record asks first: the import is refused, nothing lands.
		c := draft(t, ops, breach.CLIActor("maker"))
		if _, err := worker.Import(ctx, breach.CLIActor("maker"), c.ID, operation.ImportRequest{Filename: "x.csv", List: strings.NewReader("customer_id,email\nZ1,z@example.com\n")}); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("an import under another secret: %v, want it refused", err)
		}
	})

	t.Run("codes of two secrets", func(t *testing.T) {
		url := migratedDB(t)
		ops, _ := serviceOn(t, url)
		draft(t, ops, breach.CLIActor("maker"))
		ops.Secret = other // a list imported from a command line with another secret
		draft(t, ops, breach.CLIActor("laptop"))
		for _, secret := range [][]byte{testSecret, other} {
			refused(checked(t, url, secret, "breachnotice serve", true).CheckSecret(ctx), "1 of this database's 2 campaigns")
		}
	})

	// One campaign whose first list was imported under one secret and a later one under
	// another: its first and last codes disagree, and neither secret binds.
	t.Run("one campaign, codes of two secrets", func(t *testing.T) {
		url := migratedDB(t)
		ops, _ := serviceOn(t, url)
		c := draft(t, ops, breach.CLIActor("maker"))
		ops.Secret = other
		if _, err := ops.Import(ctx, breach.CLIActor("laptop"), c.ID, operation.ImportRequest{Filename: "more.csv",
			List: strings.NewReader("customer_id,email\nLATE-1,late@example.com\n")}); err != nil {
			t.Fatal(err)
		}
		for _, secret := range [][]byte{testSecret, other} {
			refused(checked(t, url, secret, "breachnotice serve", true).CheckSecret(ctx), "reference codes")
		}
	})

	t.Run("empty", func(t *testing.T) {
		url := migratedDB(t)
		demo := checked(t, url, other, "breachnotice import (demo secret)", false)
		if err := demo.CheckSecret(ctx); breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "no process with a BREACHNOTICE_SECRET") {
			t.Fatalf("the demo secret on an unbound database: %v, want it refused, binding nothing", err)
		}
		if err := checked(t, url, testSecret, "breachnotice run", true).CheckSecret(ctx); err != nil {
			t.Fatalf("the first explicit secret of an empty database: %v", err)
		}
		refused(checked(t, url, other, "breachnotice worker", true).CheckSecret(ctx), "breachnotice run")
		// The binding is audited, once, by the process that made it.
		_, db := serviceOn(t, url)
		entries, err := db.AuditLog(ctx, breach.AuditFilter{Action: breach.ActionSecretBind})
		if err != nil || len(entries) != 1 || entries[0].Actor != "breachnotice run" {
			t.Errorf("audit rows of the binding: %+v, %v; want one, by breachnotice run", entries, err)
		}
	})
}
