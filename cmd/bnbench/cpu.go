package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Where the time goes: on a 2-core machine the worker, PostgreSQL, Redis and the sink compete
// for the same cores, so a send rate below its target is explained by who used them. A
// cpuWatch reads each process's CPU time from /proc at the start and the end of a run.

// cpuGroup is a named set of processes, listed again at the end of the run (PostgreSQL starts
// backends as clients connect).
type cpuGroup struct {
	name string
	pids func() []int
}

type cpuWatch struct {
	groups []cpuGroup
	start  time.Time
	before map[int]time.Duration
	busy0  int64
	total0 int64
}

func startCPUWatch(groups ...cpuGroup) *cpuWatch {
	w := &cpuWatch{groups: groups, before: map[int]time.Duration{}}
	for _, g := range groups {
		for _, pid := range g.pids() {
			w.before[pid] = cpuTime(pid)
		}
	}
	w.busy0, w.total0 = machineTicks()
	w.start = time.Now()
	return w
}

// cpuUse is how many cores each group used on average over the run, and how busy the whole
// machine was (1 = every core busy all the time).
type cpuUse struct {
	cores   []float64
	names   []string
	machine float64
	other   float64 // cores used by everything else: the kernel's own threads, other programs
}

// Stop reads the CPU times again. Call it before the processes it watches exit.
func (w *cpuWatch) Stop() cpuUse {
	wall := time.Since(w.start)
	busy, total := machineTicks()
	var u cpuUse
	for _, g := range w.groups {
		var used time.Duration
		for _, pid := range g.pids() {
			used += max(cpuTime(pid)-w.before[pid], 0)
		}
		u.names = append(u.names, g.name)
		u.cores = append(u.cores, used.Seconds()/wall.Seconds())
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

// postgresPids lists the server processes working for dbURL's database: its backends and the
// server's shared background processes (WAL writer, checkpointer, …), not other databases'
// backends (tests may be running on the same server).
func postgresPids(ctx context.Context, dbURL string) func() []int {
	return func() []int {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return nil
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE (datname = current_database() AND pid <> pg_backend_pid())
			   OR (datname IS NULL AND backend_type <> 'client backend')`)
		if err != nil {
			return nil
		}
		pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
		out := make([]int, len(pids))
		for i, p := range pids {
			out[i] = int(p)
		}
		return out
	}
}

func fixedPids(pids ...int) func() []int { return func() []int { return pids } }
