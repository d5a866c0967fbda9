package operation_test

import (
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// The PostgreSQL store is the operations' store.
var _ operation.Store = (*postgres.DB)(nil)
