// Package migrations holds the database schema as SQL files, applied in order by
// pressly/goose (see postgres.Migrate). Migrations are append-only: never edit one that has
// been released; add a new one.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
