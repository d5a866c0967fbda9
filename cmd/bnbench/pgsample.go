package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Which statements keep PostgreSQL busy during a send: pg_stat_statements needs a server
// restart to load, so the benchmark samples pg_stat_activity instead, every few milliseconds,
// and counts the statements its database's backends are running and what they wait on. A
// statement's share of the samples is its share of the time PostgreSQL spent on the campaign.

type querySampler struct {
	stop    chan struct{}
	done    chan struct{}
	samples int            // polls
	active  int            // backends found active, over all polls
	queries map[string]int // statement → times seen active
	waits   map[string]int // wait event (CPU: none) → times seen
}

// sampleQueries polls until Stop, connected to the server's admin database (adminURL) so that
// its own queries do not count among the benchmark database's (dbURL) transactions.
func sampleQueries(ctx context.Context, adminURL, dbURL string, every time.Duration) *querySampler {
	s := &querySampler{stop: make(chan struct{}), done: make(chan struct{}), queries: map[string]int{}, waits: map[string]int{}}
	go func() {
		defer close(s.done)
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		u, err := url.Parse(dbURL)
		if err != nil {
			return
		}
		db := strings.TrimPrefix(u.Path, "/")
		defer conn.Close(context.Background())
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				s.poll(ctx, conn, db)
			}
		}
	}()
	return s
}

func (s *querySampler) poll(ctx context.Context, conn *pgx.Conn, db string) {
	rows, err := conn.Query(ctx, `SELECT query, coalesce(wait_event_type || ':' || wait_event, 'CPU')
		FROM pg_stat_activity WHERE datname = $1 AND state = 'active'`, db)
	if err != nil {
		return
	}
	defer rows.Close()
	s.samples++
	for rows.Next() {
		var q, wait string
		if rows.Scan(&q, &wait) != nil {
			return
		}
		s.active++
		s.queries[statementKey(q)]++
		s.waits[wait]++
	}
}

// statementKey is the start of a statement on one line, enough to recognise it.
func statementKey(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 110 {
		q = q[:110] + "…"
	}
	return q
}

// Stop ends the sampling and describes its top n statements and wait events.
func (s *querySampler) Stop(n int) string {
	close(s.stop)
	<-s.done
	if s.active == 0 {
		return "no statement caught running"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f statements running on average; by share of the samples:", float64(s.active)/float64(max(s.samples, 1)))
	for _, k := range top(s.queries, n) {
		fmt.Fprintf(&b, "\n              %3.0f%%  %s", 100*float64(s.queries[k])/float64(s.active), k)
	}
	b.WriteString("\n            waiting on:")
	for _, k := range top(s.waits, 4) {
		fmt.Fprintf(&b, " %s %.0f%%", k, 100*float64(s.waits[k])/float64(s.active))
	}
	return b.String()
}

// top is m's n keys of highest count.
func top(m map[string]int, n int) []string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	return keys[:min(n, len(keys))]
}
