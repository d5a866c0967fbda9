package migrations_test

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/migrations"
)

// contractBaseline is the last migration written before this rule (issue 14): every later one
// is expand-only, so that the release still running during an upgrade keeps working, unless it
// says which release stopped using what it removes (see contractMarker).
const contractBaseline = 11

// contractMarker lets a migration contract the schema: "-- contract: v1.4" says that release
// v1.4 was the first that no longer reads or writes what the migration drops, renames or
// tightens; the migration ships at least one release after it (README, Deploying).
var contractMarker = regexp.MustCompile(`(?m)^--\s*contract:\s*\S+`)

// contractOps are the changes that break a binary one release older.
var contractOps = []struct {
	what string
	re   *regexp.Regexp
}{
	{"DROP TABLE", regexp.MustCompile(`(?i)\bDROP\s+TABLE\b`)},
	{"DROP VIEW", regexp.MustCompile(`(?i)\bDROP\s+(MATERIALIZED\s+)?VIEW\b`)},
	{"DROP COLUMN", regexp.MustCompile(`(?i)\bDROP\s+COLUMN\b`)},
	{"RENAME", regexp.MustCompile(`(?i)\bRENAME\b`)},
	{"ALTER COLUMN ... TYPE", regexp.MustCompile(`(?i)\bALTER\s+(COLUMN\s+)?("[^"]+"|\w+)\s+(SET\s+DATA\s+)?TYPE\b`)},
	{"SET NOT NULL", regexp.MustCompile(`(?i)\bSET\s+NOT\s+NULL\b`)},
}

var (
	addColumn = regexp.MustCompile(`(?i)\bADD\s+COLUMN\b`)
	notNull   = regexp.MustCompile(`(?i)\bNOT\s+NULL\b`)
	hasDef    = regexp.MustCompile(`(?i)\bDEFAULT\b`)
	lineNote  = regexp.MustCompile(`--[^\n]*`)
	gooseDown = regexp.MustCompile(`(?m)^--\s*\+goose\s+Down\b`)
)

// contractFindings lists the contract operations in a migration's Up section, unless it
// carries the marker.
func contractFindings(sql string) []string {
	if contractMarker.MatchString(sql) {
		return nil
	}
	if loc := gooseDown.FindStringIndex(sql); loc != nil {
		sql = sql[:loc[0]] // Down undoes the expansion; it never runs during an upgrade.
	}
	sql = lineNote.ReplaceAllString(sql, "")
	var found []string
	for _, op := range contractOps {
		if op.re.MatchString(sql) {
			found = append(found, op.what)
		}
	}
	// ADD COLUMN ... NOT NULL without DEFAULT: the old release's INSERTs do not name it.
	for _, loc := range addColumn.FindAllStringIndex(sql, -1) {
		clause := columnClause(sql[loc[1]:])
		if notNull.MatchString(clause) && !hasDef.MatchString(clause) {
			found = append(found, "ADD COLUMN ... NOT NULL without DEFAULT")
		}
	}
	return found
}

// columnClause is the text of one ADD COLUMN clause: up to the comma or semicolon that ends it
// outside parentheses.
func columnClause(s string) string {
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',', ';':
			if depth <= 0 {
				return s[:i]
			}
		}
	}
	return s
}

func TestMigrationsAfterTheBaselineOnlyExpandTheSchema(t *testing.T) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("%s: a migration's name starts with its number", e.Name())
		}
		if n <= contractBaseline {
			continue
		}
		b, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, what := range contractFindings(string(b)) {
			t.Errorf("%s: %s breaks the release still running during an upgrade. Expand instead (a new "+
				"nullable column or one with a constant DEFAULT, a new table), and contract in a later "+
				"release with the line \"-- contract: <the release that stopped using it>\"", e.Name(), what)
		}
	}
	t.Logf("%d migrations after %05d checked", checked, contractBaseline)
}

func TestContractFindings_CatchBreakingChangesAndPassExpansions(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string
	}{
		{"ALTER TABLE users DROP COLUMN display_name;", "DROP COLUMN"},
		{"DROP TABLE IF EXISTS signin_failures;", "DROP TABLE"},
		{"ALTER TABLE users RENAME COLUMN login TO name;", "RENAME"},
		{"ALTER TABLE imports RENAME TO uploads;", "RENAME"},
		{"ALTER TABLE users ALTER COLUMN roles TYPE text;", "ALTER COLUMN ... TYPE"},
		{"ALTER TABLE users ALTER login SET DATA TYPE varchar(64);", "ALTER COLUMN ... TYPE"},
		{"ALTER TABLE recipients ALTER COLUMN locale SET NOT NULL;", "SET NOT NULL"},
		{"ALTER TABLE users ADD COLUMN team text NOT NULL;", "ADD COLUMN ... NOT NULL without DEFAULT"},
		{"ALTER TABLE users ADD COLUMN a int, ADD COLUMN team text NOT NULL;", "ADD COLUMN ... NOT NULL without DEFAULT"},
		{"ALTER TABLE users ADD COLUMN team text NOT NULL DEFAULT 'ops';", ""},
		{"ALTER TABLE users ADD COLUMN note text CHECK (note <> ''), ADD COLUMN n int NOT NULL DEFAULT 0;", ""},
		{"ALTER TABLE users ADD COLUMN seen_at timestamptz;", ""},
		{"CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);", ""},
		{"CREATE INDEX CONCURRENTLY users_team ON users (team);", ""},
		{"-- drop table later, once nothing reads it\nALTER TABLE users ADD COLUMN seen_at timestamptz;", ""},
		{"-- +goose Up\nCREATE TABLE teams (id int);\n-- +goose Down\nDROP TABLE teams;", ""},
		{"-- contract: v1.4\nALTER TABLE users DROP COLUMN legacy;", ""},
	} {
		got := strings.Join(contractFindings(tc.sql), ", ")
		if got != tc.want {
			t.Errorf("%q: found %q, want %q", tc.sql, got, tc.want)
		}
	}
}
