package migrations_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The previous release's queries (issue 14, online upgrades). During an upgrade the binary one
// release older keeps running against the schema the new release's migrations made, so every
// statement it issues must still work there. testdata/previous_release_queries.sql keeps those
// statements; TestPreviousReleaseQueries runs each against the newest migrations.
//
// At each release, once it is tagged, refresh the list from that release's internal/postgres:
//
//	go test ./migrations -run TestPreviousReleaseQueries -refresh-previous-queries
//
// and commit testdata/previous_release_queries.sql with the release. The refresh keeps the
// hand-written "-- args:" of statements whose text is unchanged.
var refreshPreviousQueries = flag.Bool("refresh-previous-queries", false,
	"rewrite testdata/previous_release_queries.sql from ../internal/postgres (at a release)")

const previousQueriesFile = "testdata/previous_release_queries.sql"

// oldQuery is one statement of the previous release, named after where it was issued.
type oldQuery struct {
	name string
	sql  string
	// args, when set ("-- args: [...]" in the file, JSON), replace the sample arguments
	// generated from the parameters' types: for a statement whose CHECK constraints or casts
	// refuse the generated ones.
	args json.RawMessage
}

// TestPreviousReleaseQueries prepares every statement of the previous release against a
// database migrated to the newest migrations (a dropped or renamed column or table, or a
// changed type, fails here), then runs it, in a transaction rolled back, with sample
// arguments: an INSERT that does not name a column added NOT NULL without a default fails.
// Foreign keys are not enforced (session_replication_role = replica), so that each statement
// runs alone on an empty database.
func TestPreviousReleaseQueries(t *testing.T) {
	if *refreshPreviousQueries {
		refreshQueries(t)
	}
	queries, err := readQueries(previousQueriesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) < 50 {
		t.Fatalf("%s holds %d statements: the previous release issues far more (refresh it, see above)", previousQueriesFile, len(queries))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var setup, statements []oldQuery
	for _, q := range queries {
		if isSetup(q) {
			setup = append(setup, q)
		} else {
			statements = append(statements, q)
		}
	}
	t.Run("scratch tables", func(t *testing.T) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		for _, err := range createScratch(ctx, tx, setup) {
			t.Errorf("the previous release's scratch table cannot be made on the new schema: %v", err)
		}
	})
	for _, q := range statements {
		t.Run(q.name, func(t *testing.T) {
			if err := runOld(ctx, conn, setup, q); err != nil {
				t.Errorf("the previous release's statement fails on the new schema: %v\n%s", err, q.sql)
			}
		})
	}
}

// isSetup reports whether q makes one of the temporary tables an import session works in.
func isSetup(q oldQuery) bool { return strings.HasPrefix(q.sql, "CREATE TEMP TABLE") }

// createScratch makes the previous release's temporary tables in tx, in whatever order they
// build on each other, and returns the errors of those it could not make.
func createScratch(ctx context.Context, tx pgx.Tx, setup []oldQuery) []error {
	left := setup
	for progress := true; progress && len(left) > 0; {
		progress = false
		var still []oldQuery
		var errs []error
		for _, q := range left {
			sp, err := tx.Begin(ctx)
			if err != nil {
				return []error{err}
			}
			if _, err := sp.Exec(ctx, q.sql); err != nil {
				sp.Rollback(ctx)
				still, errs = append(still, q), append(errs, fmt.Errorf("%s: %w", q.name, err))
				continue
			}
			if err := sp.Commit(ctx); err != nil {
				return []error{err}
			}
			progress = true
		}
		if left = still; !progress {
			return errs
		}
	}
	return nil
}

// runOld prepares and runs q in a transaction that is rolled back.
func runOld(ctx context.Context, conn *pgx.Conn, setup []oldQuery, q oldQuery) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return err
	}
	createScratch(ctx, tx, setup) // their failures are reported once, by "scratch tables"
	sd, err := tx.Conn().PgConn().Prepare(ctx, "", q.sql, nil)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	var args []any
	if q.args != nil {
		if err := json.Unmarshal(q.args, &args); err != nil {
			return fmt.Errorf("-- args: %w", err)
		}
	} else {
		for i, oid := range sd.ParamOIDs {
			a, err := sampleArg(tx.Conn(), oid)
			if err != nil {
				return fmt.Errorf("$%d: %w (write its -- args: in %s)", i+1, err, previousQueriesFile)
			}
			args = append(args, a)
		}
	}
	if _, err := tx.Exec(ctx, q.sql, args...); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23514" && q.args == nil {
			return fmt.Errorf("%w (the generated sample arguments break a CHECK: write -- args: for this statement in %s)", err, previousQueriesFile)
		}
		return fmt.Errorf("run with %v: %w", args, err)
	}
	return nil
}

// sampleArg is a value of the parameter type oid that PostgreSQL accepts.
func sampleArg(conn *pgx.Conn, oid uint32) (any, error) {
	typ, ok := conn.TypeMap().TypeForOID(oid)
	if !ok {
		return nil, fmt.Errorf("no sample for type OID %d", oid)
	}
	switch typ.Name {
	case "uuid":
		return "00000000-0000-4000-8000-000000000001", nil
	case "text", "varchar", "bpchar", "name", "citext":
		return "sample", nil
	case "int2", "int4", "int8", "numeric":
		return 1, nil
	case "float4", "float8":
		return 1.5, nil
	case "bool":
		return false, nil
	case "timestamptz", "timestamp", "date":
		return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), nil
	case "interval":
		return time.Minute, nil
	case "json", "jsonb":
		return map[string]any{}, nil
	case "bytea":
		return []byte{1}, nil
	case "_text", "_varchar", "_uuid":
		return []string{}, nil
	case "_int2", "_int4", "_int8":
		return []int64{}, nil
	case "_bytea":
		return [][]byte{}, nil
	case "_json", "_jsonb":
		return []map[string]any{}, nil
	case "_bool":
		return []bool{}, nil
	case "_timestamptz":
		return []time.Time{}, nil
	}
	return nil, fmt.Errorf("no sample for type %s", typ.Name)
}

// readQueries parses the file: statements after "-- name: NAME" lines, each optionally with
// an "-- args: [JSON]" line; other "--" lines at the top are comments.
func readQueries(path string) ([]oldQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []oldQuery
	var sql strings.Builder
	flush := func() {
		if len(qs) > 0 {
			qs[len(qs)-1].sql = strings.TrimSpace(sql.String())
		}
		sql.Reset()
	}
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "-- name: "):
			flush()
			qs = append(qs, oldQuery{name: strings.TrimPrefix(line, "-- name: ")})
		case strings.HasPrefix(line, "-- args: ") && len(qs) > 0:
			qs[len(qs)-1].args = json.RawMessage(strings.TrimPrefix(line, "-- args: "))
		case len(qs) > 0:
			sql.WriteString(line + "\n")
		}
	}
	flush()
	for _, q := range qs {
		if q.sql == "" {
			return nil, fmt.Errorf("%s: %s has no statement", path, q.name)
		}
	}
	return qs, s.Err()
}

// refreshQueries rewrites the file from the statements in ../internal/postgres, keeping the
// -- args: of those unchanged.
func refreshQueries(t *testing.T) {
	found, err := extractQueries(filepath.Join("..", "internal", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	// A constant that starts like SQL may be only the head of a statement finished at run time
	// ("... FILTER (WHERE " + wantsEmail("$3")): PostgreSQL's parser tells, and no schema change
	// can make a syntax error, so such fragments are left out.
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	found = slices.DeleteFunc(found, func(q oldQuery) bool {
		_, err := conn.PgConn().Prepare(context.Background(), "", q.sql, nil)
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "42601"
	})
	old, _ := readQueries(previousQueriesFile)
	kept := map[string]json.RawMessage{}
	for _, q := range old {
		if q.args != nil {
			kept[q.sql] = q.args
		}
	}
	var b strings.Builder
	b.WriteString(`-- The SQL statements that the previous release's internal/postgres issues, for
-- TestPreviousReleaseQueries (oldqueries_test.go): every one must keep working on the newest
-- migrations while that release still runs. Generated by
--   go test ./migrations -run TestPreviousReleaseQueries -refresh-previous-queries
-- at each release; edit only the "-- args:" lines (JSON sample arguments, for a statement whose
-- generated ones a CHECK or a cast refuses). Statements built at run time (a partition's name,
-- a LIMIT) are not here: only those whose text is a Go constant.
`)
	for _, q := range found {
		fmt.Fprintf(&b, "\n-- name: %s\n", q.name)
		if a, ok := kept[q.sql]; ok {
			fmt.Fprintf(&b, "-- args: %s\n", a)
		}
		b.WriteString(q.sql + ";\n")
	}
	if err := os.MkdirAll(filepath.Dir(previousQueriesFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(previousQueriesFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d statements", previousQueriesFile, len(found))
}

// sqlStart matches a statement: the package writes SQL keywords in capitals, its error
// messages ("insert user: %w") in lower case. CREATE TEMP TABLE statements are the session's
// scratch tables that later statements read (see setup).
var sqlStart = regexp.MustCompile(`(?s)^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE TEMP TABLE)\s`)

// extractQueries finds every SQL statement in the package in dir whose text is a Go constant
// (literals and constants concatenated), named file:function, numbered within a function.
func extractQueries(dir string) ([]oldQuery, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, p := range pkgs {
		for _, f := range p.Files {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b *ast.File) int { return int(a.Pos() - b.Pos()) })
	// Imports are left unresolved: constant folding needs only the package's own constants.
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: noImporter{}, Error: func(error) {}}
	conf.Check("postgres", fset, files, info)

	type span struct {
		pos, end token.Pos
		sql      string
	}
	var spans []span
	for e, tv := range info.Types {
		if tv.Value == nil || tv.Value.Kind() != constant.String {
			continue
		}
		if s := constant.StringVal(tv.Value); sqlStart.MatchString(s) {
			spans = append(spans, span{e.Pos(), e.End(), s})
		}
	}
	// Keep the outermost: `campaignSelect + " WHERE id = $1"`, not campaignSelect alone there.
	slices.SortFunc(spans, func(a, b span) int {
		if a.pos != b.pos {
			return int(a.pos - b.pos)
		}
		return int(b.end - a.end)
	})
	var outer []span
	for _, s := range spans {
		if n := len(outer); n > 0 && s.pos >= outer[n-1].pos && s.end <= outer[n-1].end {
			continue
		}
		outer = append(outer, s)
	}
	seen := map[string]bool{}
	count := map[string]int{}
	var qs []oldQuery
	for _, s := range outer {
		sql := normalizeSQL(s.sql)
		if seen[sql] {
			continue
		}
		seen[sql] = true
		where := enclosing(files, s.pos, fset)
		count[where]++
		qs = append(qs, oldQuery{name: fmt.Sprintf("%s#%d", where, count[where]), sql: sql})
	}
	return qs, nil
}

// normalizeSQL trims each line of Go's indentation.
func normalizeSQL(s string) string {
	var lines []string
	for l := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// enclosing names the file and the declaration holding pos: "accounts.go:CreateUser".
func enclosing(files []*ast.File, pos token.Pos, fset *token.FileSet) string {
	file := filepath.Base(fset.Position(pos).Filename)
	for _, f := range files {
		if pos < f.Pos() || pos > f.End() {
			continue
		}
		for _, d := range f.Decls {
			if pos < d.Pos() || pos > d.End() {
				continue
			}
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil && len(d.Recv.List) > 0 {
					if r := recvName(d.Recv.List[0].Type); r != "" {
						return file + ":" + r + "." + d.Name.Name
					}
				}
				return file + ":" + d.Name.Name
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if v, ok := s.(*ast.ValueSpec); ok && pos >= v.Pos() && pos <= v.End() && len(v.Names) > 0 {
						return file + ":" + v.Names[0].Name
					}
				}
			}
		}
	}
	return file
}

func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.Ident:
		if e.Name == "DB" {
			return ""
		}
		return e.Name
	case *ast.IndexExpr:
		return recvName(e.X)
	}
	return ""
}

type noImporter struct{}

func (noImporter) Import(path string) (*types.Package, error) {
	return nil, fmt.Errorf("not resolved: %s", path)
}
