package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// What one status request costs, by kind: the CPU time `serve` and the database's backends use
// per answer, asked one at a time about a campaign that has been sent (every delivery has its
// sent event, as most have while a campaign sends). Latencies on the shared 2-core machine
// move with everyone else's load; CPU time per request does not, and it is what 200 requests/s
// take away from the sending.

// costRequests is how many answers of each kind a cost is averaged over: /proc counts CPU time
// in 10 ms ticks, so a kind costing 1 ms is known to a few percent.
const costRequests = 300

// statusCost is one kind's CPU time per answer.
type statusCost struct {
	kind, path      string
	serve, postgres time.Duration
	failed          int
}

// measureStatusCosts asks srv costRequests times for each kind of request about campaign id
// (n recipients), one after the other. Only client backends count: right after the send,
// autovacuum works through the campaign's partition, and its CPU is no request's. (The
// unfiltered listing's 21–28 ms of PostgreSQL CPU after a 200,000-recipient send stayed when
// autovacuum was left out: that one is the listing's own, cause not found yet.)
func (b *bench) measureStatusCosts(ctx context.Context, srv *serveProcess, dbURL, id string, n int) []statusCost {
	client := &http.Client{Timeout: 10 * time.Second}
	kinds := []statusCost{
		{kind: "stats", path: "/api/v1/campaigns/" + id + "/status"},
		{kind: "recipient", path: "/api/v1/campaigns/" + id + "/recipients/"},
	}
	for _, f := range listingFilters {
		kinds = append(kinds, statusCost{kind: "listing " + f, path: "/api/v1/campaigns/" + id + "/deliveries?limit=100&" + f})
	}
	backends := postgresPids(ctx, b.admin, dbURL, pgClients)
	defer backends.close()
	for i := range kinds {
		k := &kinds[i]
		path := func(j int) string {
			if k.kind == "recipient" {
				return k.path + customerID(j*7919%n)
			}
			return k.path
		}
		for j := range 10 { // connections to serve and from it to the database, opened
			get(ctx, client, srv, path(j))
		}
		pids := backends.list()
		pg0, serve0 := sumCPU(pids), cpuTime(srv.cmd.Process.Pid)
		for j := range costRequests {
			if !get(ctx, client, srv, path(j)) {
				k.failed++
			}
		}
		k.serve = (cpuTime(srv.cmd.Process.Pid) - serve0) / costRequests
		k.postgres = (sumCPU(pids) - pg0) / costRequests
	}
	return kinds
}

func sumCPU(pids []int) time.Duration {
	var t time.Duration
	for _, p := range pids {
		t += cpuTime(p)
	}
	return t
}

func printStatusCosts(costs []statusCost) {
	fmt.Printf("cost        CPU per answer, %d asked one at a time after the send (serve + its PostgreSQL backends):\n", costRequests)
	for _, c := range costs {
		fmt.Printf("            %-36s serve %5.0f µs  postgres %5.0f µs  (%d failed)\n",
			c.kind, float64(c.serve.Microseconds()), float64(c.postgres.Microseconds()), c.failed)
	}
}
