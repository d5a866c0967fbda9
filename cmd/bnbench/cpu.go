package main

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Where the time goes: on a 2-core machine the worker, PostgreSQL, Redis and the sink compete
// for the same cores, so a send rate below its target is explained by who used them. A
// cpuWatch reads each process's CPU time from /proc at the start of a run, every second, and at
// the end. Per notice, the worker's and PostgreSQL's CPU time size a deployment (see
// sendRun.printSizing).

// cpuGroup is a named set of processes, listed again during and at the end of the run
// (PostgreSQL starts backends as clients connect).
type cpuGroup struct {
	name  string
	pids  func() []int
	close func() // if set, called when the watch stops
}

// cpuResample is how often a cpuWatch reads its processes' CPU times during a run, so that a
// process that exits before the end (a PostgreSQL backend whose connection closed) still counts
// for the time it used up to its last reading.
const cpuResample = time.Second

type cpuWatch struct {
	groups []cpuGroup
	start  time.Time
	busy0  int64
	total0 int64

	// Read at the start and by the resampling goroutine, then by Stop once it has ended.
	members []map[int]bool        // each group's processes seen so far
	before  map[int]time.Duration // at the start; 0 for a process started since
	last    map[int]time.Duration // at the latest reading
	stop    chan struct{}
	done    chan struct{}
}

func startCPUWatch(groups ...cpuGroup) *cpuWatch {
	return startCPUWatchEvery(cpuResample, groups...)
}

// startCPUWatchEvery is startCPUWatch resampling every interval: a run of a few seconds whose
// backends exit with it (an import) needs a finer one than a send run of minutes.
func startCPUWatchEvery(interval time.Duration, groups ...cpuGroup) *cpuWatch {
	w := &cpuWatch{groups: groups, members: make([]map[int]bool, len(groups)),
		before: map[int]time.Duration{}, last: map[int]time.Duration{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for i, g := range groups {
		w.members[i] = map[int]bool{}
		for _, pid := range g.pids() {
			w.members[i][pid] = true
			w.before[pid] = cpuTime(pid)
			w.last[pid] = w.before[pid]
		}
	}
	w.busy0, w.total0 = machineTicks()
	w.start = time.Now()
	go func() {
		defer close(w.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				w.read()
			}
		}
	}()
	return w
}

// read reads the CPU times of every group's processes, and returns each group's use since the
// start: a process gone since counts up to its last reading.
func (w *cpuWatch) read() []time.Duration {
	used := make([]time.Duration, len(w.groups))
	for i, g := range w.groups {
		for _, pid := range g.pids() {
			w.members[i][pid] = true
			w.last[pid] = max(w.last[pid], cpuTime(pid))
		}
		for pid := range w.members[i] {
			used[i] += max(w.last[pid]-w.before[pid], 0)
		}
	}
	return used
}

// cpuUse is the CPU time each group used over the run, how many cores that is on average, and
// how busy the whole machine was (1 = every core busy all the time).
type cpuUse struct {
	used    []time.Duration
	cores   []float64
	names   []string
	machine float64
	other   float64 // cores used by everything else: the kernel's own threads, other programs
}

// of is the CPU time group name used over the run.
func (u cpuUse) of(name string) time.Duration {
	for i, n := range u.names {
		if n == name {
			return u.used[i]
		}
	}
	return 0
}

// Stop reads the CPU times again. Call it before the processes it watches exit.
func (w *cpuWatch) Stop() cpuUse {
	close(w.stop)
	<-w.done
	wall := time.Since(w.start)
	used := w.read()
	for _, g := range w.groups {
		if g.close != nil {
			g.close()
		}
	}
	busy, total := machineTicks()
	var u cpuUse
	for i, g := range w.groups {
		u.names = append(u.names, g.name)
		u.used = append(u.used, used[i])
		u.cores = append(u.cores, used[i].Seconds()/wall.Seconds())
	}
	if total > w.total0 {
		u.machine = float64(busy-w.busy0) / float64(total-w.total0)
	}
	u.other = u.machine * float64(runtime.NumCPU())
	for _, c := range u.cores {
		u.other -= c
	}
	return u
}

func (u cpuUse) String() string {
	var parts []string
	for i, n := range u.names {
		parts = append(parts, fmt.Sprintf("%s %.2f", n, u.cores[i]))
	}
	return fmt.Sprintf("%s, other %.2f cores; machine %.0f%% busy (%d cores)",
		strings.Join(parts, ", "), max(u.other, 0), 100*u.machine, runtime.NumCPU())
}

// pgProcs says which server processes postgresPids lists.
type pgProcs int

const (
	pgDatabase   pgProcs = iota // every process working for the database: its backends, autovacuum's, parallel workers
	pgClients                   // only its client backends: what requests cost, without autovacuum's catching up
	pgBackground                // the server's shared background processes
)

// postgresPids lists the server processes working for dbURL's database (not other databases':
// tests may be running on the same server), or its client backends alone, or the server's
// shared background processes (WAL writer, checkpointer, background writer, …), which work for
// every database: on a quiet server, for the benchmark's. It asks through the server's admin
// database (adminURL), so that its own connection is neither among the backends it counts nor
// in the benchmark database's statistics (pgcost.go). Close it when done.
func postgresPids(ctx context.Context, adminURL, dbURL string, which pgProcs) *pgPids {
	u, err := url.Parse(dbURL)
	if err != nil {
		return &pgPids{}
	}
	db := strings.TrimPrefix(u.Path, "/")
	p := &pgPids{ctx: ctx, admin: adminURL, query: `SELECT pid FROM pg_stat_activity WHERE datname = $1`, args: []any{db}}
	switch which {
	case pgClients:
		p.query += ` AND backend_type = 'client backend'`
	case pgBackground:
		p.query, p.args = `SELECT pid FROM pg_stat_activity WHERE datname IS NULL AND backend_type <> 'client backend'`, nil
	}
	return p
}

// pgPids lists server processes over one connection, kept open between readings: connecting
// at each one (ten a second during an import) made the server start a backend each time, on
// the cores being measured — it cost the import benchmark a third of its rate. Not safe for
// concurrent use; a cpuWatch reads from one goroutine at a time.
type pgPids struct {
	ctx   context.Context
	admin string
	query string
	args  []any
	conn  *pgx.Conn
}

// list is the processes' IDs, or none if the server cannot be asked (the reading is then
// skipped; the next one connects again).
func (p *pgPids) list() []int {
	if p.query == "" {
		return nil
	}
	if p.conn == nil {
		conn, err := pgx.Connect(p.ctx, p.admin)
		if err != nil {
			return nil
		}
		p.conn = conn
	}
	rows, err := p.conn.Query(p.ctx, p.query, p.args...)
	if err != nil {
		p.close()
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		p.close()
		return nil
	}
	out := make([]int, len(pids))
	for i, pid := range pids {
		out[i] = int(pid)
	}
	return out
}

func (p *pgPids) close() {
	if p.conn != nil {
		_ = p.conn.Close(context.WithoutCancel(p.ctx))
		p.conn = nil
	}
}

// group is the processes as a cpuGroup, which closes the connection when its watch stops.
func (p *pgPids) group(name string) cpuGroup {
	return cpuGroup{name: name, pids: p.list, close: p.close}
}

func fixedPids(pids ...int) func() []int { return func() []int { return pids } }
