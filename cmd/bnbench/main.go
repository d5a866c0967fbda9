// Command bnbench measures breachnotice's throughput against the raw limits of the same
// machine, measured in the same run, and prints each figure with its ratio (see DESIGN.md,
// "Targets"). `make bench` runs it; it needs the PostgreSQL and Redis that `make services`
// starts and the binary that `make build` writes.
//
//   - Import (import.go): a 1,000,000-row list imported by `breachnotice import`, against pgx
//     CopyFrom of the same rows; the importer's peak memory on a list twice as large.
//   - Send (send.go): a campaign sent by a `breachnotice worker` to an SMTP sink in its own
//     process (sink.go), from `campaign start` to the last notice recorded as sent, against
//     the rate of a lean go-mail SMTP client sending the same notices, pre-built, to the same
//     sink (rawsend.go); the worker's peak memory; the same with RSA-2048 DKIM against the raw
//     build+sign+send rate (dkim.go); and the delay of the first notice of a
//     1,000,000-recipient campaign (latency.go). Each run also says where the time went:
//     the CPU of every process involved (cpu.go), what a notice cost PostgreSQL (pgcost.go)
//     and which statements kept it busy (pgsample.go), the worker's warnings and errors, and,
//     with -perf, a machine-wide `perf record` (perf.go).
//   - Status API (statusload.go): stats, recipient lookups and delivery listings from a
//     `breachnotice serve` at 200 requests/s while a worker sends a 200,000-recipient campaign,
//     with p50/p99, and the send rate with and without that load.
//
// Each part runs in a fresh PostgreSQL database of its own, dropped at the end; the worker's
// queues live in a Redis database of the benchmark's own (-redis), flushed before each run.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/examples"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the main import benchmark")
	bin := flag.String("bin", "bin/breachnotice", "the breachnotice binary to measure")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/9", "a Redis database of the benchmark's own (flushed before each send run; not database 0)")
	var o sendOptions
	flag.IntVar(&o.recipients, "send-recipients", 200_000, "recipients of the send benchmark without DKIM")
	flag.IntVar(&o.dkimRecipients, "dkim-recipients", 50_000, "recipients of the send benchmark with DKIM")
	flag.IntVar(&o.startRecipients, "start-recipients", 1_000_000, "recipients of the first-notice benchmark")
	flag.IntVar(&o.rawMessages, "raw-messages", 20_000, "messages of each raw send measurement")
	flag.IntVar(&o.signMessages, "sign-messages", 4_000, "messages of each raw DKIM build+sign+send measurement")
	var so statusOptions
	flag.IntVar(&so.recipients, "status-recipients", 200_000, "recipients of the campaign sent during the status API benchmark")
	flag.IntVar(&so.rate, "status-rate", 200, "requests per second offered to the status API")
	flag.DurationVar(&so.idle, "status-idle", 30*time.Second, "how long the status API is measured before any sending (several 10 s windows: the first holds serve's warm-up)")
	flag.StringVar(&so.serveProfile, "serve-profile", "", "write serve's Go CPU profile during the status API benchmark (BREACHNOTICE_CPU_PROFILE) to `FILE`")
	skipStatus := flag.Bool("skip-status", false, "skip the status API benchmark")
	skipImport := flag.Bool("skip-import", false, "skip the import benchmark")
	skipSend := flag.Bool("skip-send", false, "skip the send benchmarks (plain, DKIM, first notice)")
	flag.BoolVar(&o.skipPlain, "skip-plain", false, "skip the send benchmark without DKIM")
	flag.BoolVar(&o.skipDKIM, "skip-dkim", false, "skip the DKIM send benchmark")
	flag.BoolVar(&o.skipStart, "skip-start", false, "skip the first-notice benchmark")
	flag.StringVar(&o.perfFile, "perf", "", "record the plain send run machine-wide with `perf record` to this file")
	flag.StringVar(&o.workerProfile, "worker-profile", "", "write the workers' Go CPU profiles (BREACHNOTICE_CPU_PROFILE) to `PREFIX`-plain.pprof and PREFIX-dkim.pprof")
	sinkAddr := flag.String("sink", "", "internal: serve as the SMTP sink child on this address")
	flag.Parse()

	if *sinkAddr != "" {
		if err := serveSink(*sinkAddr); err != nil {
			fmt.Fprintln(os.Stderr, "bnbench sink:", err)
			os.Exit(1)
		}
		return
	}

	// Interrupted, the children are stopped and the databases dropped on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, cleanup, err := newBench(*bin, *redisURL)
	if err == nil {
		defer cleanup()
		if !*skipImport {
			err = benchImport(ctx, b, *rows)
		}
		if err == nil && !*skipSend {
			err = benchSend(ctx, b, o)
		}
		if err == nil && !*skipStatus {
			err = benchStatusAPI(ctx, b, so)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bnbench:", err)
		cleanup()
		os.Exit(1)
	}
}

// bench is what every part of the benchmark shares.
type bench struct {
	bin          string // the breachnotice binary
	admin        string // a PostgreSQL URL on which databases can be created
	dir          string // scratch directory: lists, the campaign file, the DKIM key
	campaignFile string // the example campaign, written out from the embedded copy
	redisURL     string
	secret       string // BREACHNOTICE_SECRET of every child (bench.env)
	workerNice   int    // the niceness workers start at (0: this process's)
}

func newBench(bin, redisURL string) (*bench, func(), error) {
	if err := checkRedisURL(redisURL); err != nil {
		return nil, func() {}, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, func() {}, fmt.Errorf("%w (run `make build`)", err)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, func() {}, err
	}
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	dir, err := os.MkdirTemp("", "bnbench")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	b := &bench{bin: abs, admin: admin, dir: dir, redisURL: redisURL, secret: rand.Text() + rand.Text(),
		campaignFile: filepath.Join(dir, "campaign.yaml")}
	if err := os.WriteFile(b.campaignFile, examples.Campaign, 0o600); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	return b, cleanup, nil
}

// checkRedisURL refuses database 0, the default of every Redis client: the benchmark flushes
// its database, and must not flush the development queues (REDIS_URL) by mistake.
func checkRedisURL(u string) error {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	if opt.DB == 0 {
		return errors.New("-redis: use a database of the benchmark's own (e.g. redis://127.0.0.1:6379/9), not database 0: it is flushed")
	}
	return nil
}

// controlled are the prefixes of the variables the benchmark decides for its children: a
// developer's SMTP relay, DKIM key, rate limits or SMS provider must not leak into a run.
// WORKER_CONCURRENCY and SMTP_CONNECTIONS do pass, to compare settings.
var controlled = []string{"SMTP_URL=", "DKIM_", "EMAIL_", "SMS_", "TWILIO_", "REDIS_URL=", "DATABASE_URL=", "BREACHNOTICE_SECRET="}

// env is this process's environment without the controlled variables, plus the benchmark's
// secret and set. Every child has the one secret: the lists' reference codes are keyed with it
// as they are imported, and a database refuses a process with another (operation.Service.CheckSecret).
func (b *bench) env(set ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return slices.ContainsFunc(controlled, func(p string) bool { return strings.HasPrefix(kv, p) })
	})
	return append(append(env, "BREACHNOTICE_SECRET="+b.secret), set...)
}
