package migrations_test

import (
	"os"
	"testing"

	"github.com/breachnotice/breachnotice/internal/pgtest"
)

// dbURL is this package's database, migrated to the newest migrations by pgtest.
var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }
