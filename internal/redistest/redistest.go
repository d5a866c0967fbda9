// Package redistest gives a test package a Redis database of its own: each package that needs
// Redis names a database index no other package uses, and it is emptied before the tests run,
// so that tests never depend on what an earlier run left behind.
//
// Indexes in use: 1 internal/dispatch, 2 cmd/breachnotice, 3 internal/api, 4 internal/web,
// 5 cmd/breachnotice (its personal-data test), 9 cmd/breachnotice (its metrics test).
//
// StartSentinel instead starts servers of the test's own — a primary, a replica and a
// Sentinel — for a test that fails the primary over.
package redistest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the server tests use unless TEST_REDIS_URL names another: the local one that
// `make test` makes sure is running.
const DefaultURL = "redis://127.0.0.1:6379"

// URL empties database db of the test server and returns its URL.
func URL(tb testing.TB, db int) string {
	tb.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		base = DefaultURL
	}
	// The test's own index replaces any the URL names: redis://host:6379/0 is a server too.
	parsed, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("redistest: TEST_REDIS_URL: %v", err)
	}
	parsed.Path = fmt.Sprintf("/%d", db)
	u := parsed.String()
	opt, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		tb.Fatalf("redistest: flush %s: %v (is Redis running? `make test` starts it)", u, err)
	}
	return u
}
