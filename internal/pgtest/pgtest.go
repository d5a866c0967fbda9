// Package pgtest gives a test package a PostgreSQL database of its own: created empty and
// migrated before the package's tests run, dropped after. Tests thus run against the real
// database and never depend on what an earlier run left behind.
//
// Use it from TestMain:
//
//	var dbURL string
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// DefaultAdminURL is the server tests use unless TEST_DATABASE_URL names another: the local
// one that `make test` makes sure is running.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Main creates and migrates a fresh database, stores its URL in *dbURL, runs the tests and
// drops the database. It returns the exit code for os.Exit.
func Main(m *testing.M, dbURL *string) int {
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, u, err := create(ctx, admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err, "(is PostgreSQL running? `make test` starts it)")
		return 1
	}
	defer drop(admin, name)
	if _, err := postgres.Migrate(ctx, u); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	*dbURL = u
	return m.Run()
}

func create(ctx context.Context, admin string) (name, dbURL string, err error) {
	b := make([]byte, 6)
	rand.Read(b)
	name = "bntest_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", "", fmt.Errorf("connect to %s: %w", redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

func drop(admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: drop:", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: drop:", err)
	}
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "TEST_DATABASE_URL"
	}
	return u.Redacted()
}

// Empty creates an empty database (no migration applied) on the test server for one test, and
// drops it when the test ends: for tests that need a schema at another version than the
// package's, or a database no other test writes to.
func Empty(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, u, err := create(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { drop(admin, name) })
	return u
}

// PlanAll runs the planner over a started campaign, step recipients at a time, until every
// recipient has a delivery.
func PlanAll(t testing.TB, db *postgres.DB, campaignID string, step int) {
	t.Helper()
	for {
		p, err := db.PlanCampaign(t.Context(), campaignID, step)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done {
			return
		}
	}
}

// Send claims the due deliveries of channel ch as a fresh worker, as a worker would, and
// records outcome's answer for each; a claim outcome returns nil for is released untouched.
func Send(t testing.TB, db *postgres.DB, campaignID string, ch breach.Channel, fallback bool, outcome func(breach.Claim) *breach.Outcome) {
	t.Helper()
	ctx := t.Context()
	worker := uuid.NewString()
	if err := db.RegisterWorker(ctx, worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := db.ClaimRange(ctx, campaignID, ch, 0, 1<<40, worker, fallback, 0)
	if err != nil {
		t.Fatal(err)
	}
	var (
		outcomes []breach.Outcome
		release  []int64
	)
	for _, cl := range claims {
		if o := outcome(cl); o != nil {
			o.RecipientID = cl.Recipient.ID
			outcomes = append(outcomes, *o)
		} else {
			release = append(release, cl.Recipient.ID)
		}
	}
	if _, err := db.Record(ctx, campaignID, ch, worker, outcomes, fallback); err != nil {
		t.Fatal(err)
	}
	if len(release) > 0 {
		if err := db.Release(ctx, campaignID, ch, worker, release); err != nil {
			t.Fatal(err)
		}
	}
}
