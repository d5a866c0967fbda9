// The send benchmarks: a campaign of customers who all have an email address, sent by a
// `breachnotice worker` child to an SMTP sink in a process of its own, timed from just before
// `breachnotice campaign start` runs to the last delivery recorded as sent — once plain, once
// DKIM-signed with RSA-2048 — each against the raw limit measured in the same run around it.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/internal/email"
)

// Targets (DESIGN.md, "Targets").
const (
	targetSendRate   = 5000 // emails/s end to end
	targetRawShare   = 0.8  // of the raw send rate, and of the raw build+sign+send rate with DKIM
	targetWorkerRSS  = 250  // MB, at any campaign size
	targetFirstDelay = 2 * time.Second
)

// sampleSize is how many of a campaign's notices the raw limits send and sign in turn.
const sampleSize = 40

// sendOptions sizes the send benchmarks.
type sendOptions struct {
	recipients, dkimRecipients, startRecipients int
	rawMessages, signMessages                   int
	skipPlain, skipDKIM, skipStart              bool
	perfFile                                    string
	workerProfile                               string // prefix of the workers' CPU profiles
}

// profileEnv is the worker's environment addition for a CPU profile of run, if asked for.
func (o sendOptions) profileEnv(run string) []string {
	if o.workerProfile == "" {
		return nil
	}
	return []string{"BREACHNOTICE_CPU_PROFILE=" + o.workerProfile + "-" + run + ".pprof"}
}

// printProfile says where the worker's profile of run is and how to read it.
func (o sendOptions) printProfile(bin, run string) {
	if o.workerProfile != "" {
		fmt.Printf("pprof       worker CPU profile: go tool pprof -top %s %s-%s.pprof\n", bin, o.workerProfile, run)
	}
}

// benchSend runs the send benchmarks in a database of their own.
func benchSend(ctx context.Context, b *bench, o sendOptions) error {
	dbURL, dropDB, err := freshDatabase(ctx, b.admin)
	if err != nil {
		return err
	}
	defer dropDB()
	fmt.Printf("\nbreachnotice send benchmark — GOMAXPROCS=%d, worker settings from the environment (WORKER_CONCURRENCY=%s, SMTP_CONNECTIONS=%s; empty: defaults), sink in its own process\n\n",
		runtime.GOMAXPROCS(0), os.Getenv("WORKER_CONCURRENCY"), os.Getenv("SMTP_CONNECTIONS"))

	if !o.skipPlain {
		if err := b.benchPlainSend(ctx, dbURL, o); err != nil {
			return err
		}
	}
	if !o.skipDKIM {
		if err := b.benchDKIMSend(ctx, dbURL, o); err != nil {
			return err
		}
	}
	if !o.skipStart {
		return b.benchFirstNotice(ctx, dbURL, o.startRecipients)
	}
	return nil
}

// rawLimits is the raw client's rate to the sink, measured before and after the run it bounds
// (the machine is noisy: the limit is their mean), with the notices' mean size and two
// reference rates that locate the limit.
type rawLimits struct {
	before, after float64
	size          int64   // bytes per message at the sink
	tiny          float64 // the same with a two-line message
	built         float64 // the same client fed by builders (email.Build per message)
	alone         float64 // the product's SMTP layer (email.Sender) alone, building each message
}

func (r rawLimits) rate() float64 { return (r.before + r.after) / 2 }

func (r rawLimits) print(messages int) {
	fmt.Printf("raw limit   go-mail smtp.Client + email.Transaction → sink process, %d connections, %d pre-built notices of %.1f KB: %8.0f msgs/s (mean of %.0f before and %.0f after the send)\n",
		rawConns(), messages, float64(r.size)/1024, r.rate(), r.before, r.after)
	fmt.Printf("            (with a %d-byte message, as DESIGN's ≈ 6,000 msgs/s was measured: %.0f msgs/s; building each notice on %d goroutines as it is sent: %.0f msgs/s; the product's SMTP layer alone, email.Sender, building each notice: %.0f msgs/s)\n",
		tinySize, r.tiny, runtime.GOMAXPROCS(0), r.built, r.alone)
}

// measureRaw measures the raw limits before the run: the raw client with the sample of
// notices, then with a tiny message, then email.Sender with the sample.
func measureRaw(ctx context.Context, sink *sinkProcess, sample []email.Message, n int) (rawLimits, error) {
	var r rawLimits
	raws, err := buildAll(sample)
	if err != nil {
		return r, err
	}
	tiny, err := buildAll([]email.Message{tinyMessage(sample[0])})
	if err != nil {
		return r, err
	}
	before, err := sink.Stats()
	if err != nil {
		return r, err
	}
	progress("raw client → sink, %d messages", n)
	if r.before, err = rawRate(ctx, sink.Addr, sample[0].From, raws, n, rawConns()); err != nil {
		return r, err
	}
	s, err := sink.Stats()
	if err != nil {
		return r, err
	}
	r.size = s.avgSize(before)
	progress("raw client → sink with a tiny message, building each notice, and the product's SMTP layer alone, %d messages each", n)
	if r.tiny, err = rawRate(ctx, sink.Addr, sample[0].From, tiny, n, rawConns()); err != nil {
		return r, err
	}
	r.built, err = pipelineRate(ctx, sink.Addr, sample[0].From, n, rawConns(), func(i int) ([]byte, error) {
		msg := sample[i%len(sample)]
		msg.To = "built" + strconv.Itoa(i) + "@example.com"
		return email.Build(msg, nil)
	})
	if err != nil {
		return r, err
	}
	r.alone, err = senderRate(ctx, sink.Addr, sample, n, rawConns())
	return r, err
}

// sendableCampaign sets up an approved campaign of n recipients and renders a sample of its
// notices for the raw limits.
func (b *bench) sendableCampaign(ctx context.Context, dbURL string, n int, seed uint64) (string, []email.Message, error) {
	progress("setting up a campaign of %d recipients", n)
	id, err := b.approvedCampaign(ctx, dbURL, n, seed)
	if err != nil {
		return "", nil, err
	}
	sample, err := b.sampleMessages(ctx, dbURL, id, sampleSize)
	return id, sample, err
}

// benchPlainSend sends a campaign without DKIM, between two measurements of the raw limit to
// the same sink process.
func (b *bench) benchPlainSend(ctx context.Context, dbURL string, o sendOptions) error {
	id, sample, err := b.sendableCampaign(ctx, dbURL, o.recipients, 1)
	if err != nil {
		return err
	}
	sink, err := startSink(0)
	if err != nil {
		return err
	}
	defer sink.Close()
	raw, err := measureRaw(ctx, sink, sample, o.rawMessages)
	if err != nil {
		return err
	}
	progress("sending the campaign of %d recipients", o.recipients)
	stopPerf := func() error { return nil }
	if o.perfFile != "" {
		if stopPerf, err = startPerf(o.perfFile); err != nil {
			return err
		}
	}
	r, err := b.sendCampaign(ctx, dbURL, id, int64(o.recipients), sink, true, o.profileEnv("plain")...)
	if perr := stopPerf(); perr != nil {
		progress("perf: %v", perr)
	}
	if err != nil {
		return err
	}
	if err := r.recordCost(ctx); err != nil {
		return err
	}
	progress("raw client → sink again, %d messages", o.rawMessages)
	raws, err := buildAll(sample)
	if err != nil {
		return err
	}
	if raw.after, err = rawRate(ctx, sink.Addr, sample[0].From, raws, o.rawMessages, rawConns()); err != nil {
		return err
	}

	raw.print(o.rawMessages)
	r.printRate("send")
	fmt.Printf("            = %.2f × the %d/s target, %.2f × the raw limit (target ≥ %.1f)\n",
		r.rate()/targetSendRate, targetSendRate, r.rate()/raw.rate(), targetRawShare)
	r.printCosts()
	if o.perfFile != "" {
		fmt.Printf("perf        recorded to %s: perf report -i %[1]s --sort comm,dso\n", o.perfFile)
	}
	o.printProfile(b.bin, "plain")
	return nil
}

// benchDKIMSend sends a campaign of its own with an RSA-2048 DKIM key, between two
// measurements of the raw build+sign+send rate to the same sink process.
func (b *bench) benchDKIMSend(ctx context.Context, dbURL string, o sendOptions) error {
	id, sample, err := b.sendableCampaign(ctx, dbURL, o.dkimRecipients, 2)
	if err != nil {
		return err
	}
	key := filepath.Join(b.dir, "dkim.pem")
	if err := writeDKIMKey(key); err != nil {
		return err
	}
	defer os.Remove(key)
	sink, err := startSink(0)
	if err != nil {
		return err
	}
	defer sink.Close()
	progress("raw RSA-2048 build+sign+send, %d messages", o.signMessages)
	before, err := rawDKIMRate(ctx, sink.Addr, key, sample, o.signMessages, rawConns())
	if err != nil {
		return err
	}
	progress("sending the campaign of %d recipients with DKIM", o.dkimRecipients)
	r, err := b.sendCampaign(ctx, dbURL, id, int64(o.dkimRecipients), sink, true, append(o.profileEnv("dkim"),
		"DKIM_DOMAIN="+dkimDomain, "DKIM_SELECTOR="+dkimSelector, "DKIM_KEY_FILE="+key)...)
	if err != nil {
		return err
	}
	if err := r.recordCost(ctx); err != nil {
		return err
	}
	progress("raw RSA-2048 build+sign+send again, %d messages", o.signMessages)
	after, err := rawDKIMRate(ctx, sink.Addr, key, sample, o.signMessages, rawConns())
	if err != nil {
		return err
	}
	raw := (before + after) / 2

	fmt.Printf("\nraw limit   RSA-2048 DKIM build+sign (email.Build, %d goroutines) + send (raw client, %d connections), %d notices: %8.0f msgs/s (mean of %.0f before and %.0f after the send)\n",
		runtime.GOMAXPROCS(0), rawConns(), o.signMessages, raw, before, after)
	r.printRate("send DKIM")
	fmt.Printf("            = %.2f × the raw build+sign+send rate (target ≥ %.1f)\n", r.rate()/raw, targetRawShare)
	r.printCosts()
	o.printProfile(b.bin, "dkim")
	return nil
}

// sendRun is one campaign sent end to end.
type sendRun struct {
	n, sent    int64
	stuck      int64     // claimed but never recorded: their outcomes were lost
	start      time.Time // just before `campaign start` was run
	lastSent   time.Time // the last delivery recorded as sent
	sink       sinkStats // the sink's counters after the run
	sinkBefore sinkStats
	rssKB      int64
	cpu        cpuUse
	cost       *pgCost // reads pg back (recordCost); nil when not measured
	pg         string  // what a notice cost PostgreSQL
	statements string  // what PostgreSQL was busy with
	problems   string  // the worker's warnings and errors
}

func (r sendRun) seconds() float64 { return r.lastSent.Sub(r.start).Seconds() }
func (r sendRun) rate() float64    { return float64(r.sent) / r.seconds() }

func (r sendRun) printRate(label string) {
	fmt.Printf("%-11s %d emails end to end (start → last sent, %.1f s): %8.0f emails/s\n", label, r.n, r.seconds(), r.rate())
}

func (r sendRun) printCosts() {
	fmt.Printf("            recorded sent: %d of %d; the sink received %d notices of %.1f KB on average, the last %.2f s after start\n",
		r.sent, r.n, r.sink.Count-r.sinkBefore.Count, float64(r.sink.avgSize(r.sinkBefore))/1024, r.sink.last().Sub(r.start).Seconds())
	if r.stuck > 0 {
		fmt.Printf("  WARNING   %d notices stuck in `sending` for %s at the end of the run: the worker lost their outcomes\n", r.stuck, stallAfter)
	}
	fmt.Printf("worker log  %s\n", r.problems)
	fmt.Printf("peak RSS    worker: %d MB = %.2f × the %d MB ceiling\n", r.rssKB/1024, float64(r.rssKB)/1024/targetWorkerRSS, targetWorkerRSS)
	fmt.Printf("cpu         %s\n", r.cpu)
	r.printSizing()
	fmt.Printf("postgres    %s\n", r.pg)
	fmt.Printf("            %s\n", r.statements)
}

// sizingTarget is the campaign a deployment must be able to send within sizingWindow: the
// cores it needs follow from the CPU a notice costs the worker and PostgreSQL.
const (
	sizingTarget = 22_000_000
	sizingWindow = time.Hour
)

// printSizing prints the CPU a notice cost the worker and PostgreSQL (its backends of the
// benchmark's database and the server's shared background processes) over the run, and from
// them the cores needed to send sizingTarget notices within sizingWindow. CPU time, not the
// rate: it holds however many cores the run had, as long as the work scales out (see
// TestCLI_ThreeWorkersOneKilledOneAddedEveryCustomerOnce) — and PostgreSQL's share is one
// server's, which does not.
func (r sendRun) printSizing() {
	notices := float64(max(r.n, 1))
	perNotice := func(d time.Duration) float64 { return float64(d.Microseconds()) / notices }
	worker := perNotice(r.cpu.of("worker"))
	backends, shared := perNotice(r.cpu.of("postgres")), perNotice(r.cpu.of("pg-shared"))
	rate := sizingTarget / sizingWindow.Seconds()
	fmt.Printf("cpu/notice  worker %.0f µs, PostgreSQL %.0f µs (%.0f its backends, %.0f the server's shared background processes)\n",
		worker, backends+shared, backends, shared)
	fmt.Printf("sizing      to send %s notices in one hour: %.1f worker cores, %.1f PostgreSQL cores (%.0f notices/s × the CPU per notice)\n",
		thousands(sizingTarget), rate*worker/1e6, rate*(backends+shared)/1e6, rate)
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sendCampaign starts a worker (with env added to its environment) sending to sink, starts
// campaign id, and waits until its n emails are over. With measurePG, what the run costs
// PostgreSQL is measured (r.cost, for recordCost): that holds a replication slot, which keeps
// the run's WAL from being recycled — new WAL segments are zero-filled meanwhile — so a run
// measured for something else (the status benchmark's) goes without.
func (b *bench) sendCampaign(ctx context.Context, dbURL, id string, n int64, sink *sinkProcess, measurePG bool, env ...string) (sendRun, error) {
	w, err := b.startWorker(ctx, dbURL, sink.SMTPURL(), env...)
	if err != nil {
		return sendRun{}, err
	}
	defer w.Stop() // a no-op once stopped below
	r := sendRun{n: n}
	if r.sinkBefore, err = sink.Stats(); err != nil {
		return r, err
	}
	var cost *pgCost
	if measurePG {
		if cost, err = startPGCost(ctx, dbURL); err != nil {
			return r, err
		}
		// Closed here on failure; on success the caller reads it back (recordCost).
		defer func() {
			if r.cost == nil {
				cost.close()
			}
		}()
	}
	watch := startCPUWatch(
		cpuGroup{name: "worker", pids: fixedPids(w.Pid())},
		postgresPids(ctx, b.admin, dbURL, pgDatabase).group("postgres"),
		postgresPids(ctx, b.admin, dbURL, pgBackground).group("pg-shared"),
		cpuGroup{name: "sink", pids: fixedPids(sink.Pid())},
		cpuGroup{name: "redis", pids: func() []int { return pidsByName("redis-server") }},
		cpuGroup{name: "bnbench", pids: fixedPids(os.Getpid())},
	)
	statements := sampleQueries(ctx, b.admin, dbURL, 20*time.Millisecond)
	r.start = time.Now()
	if _, err := b.runBin(ctx, dbURL, "campaign", "start", id); err != nil {
		statements.Stop(0)
		return r, err
	}
	p, err := waitDone(ctx, dbURL, id, n, w)
	r.statements = statements.Stop(6)
	if err != nil {
		return r, err
	}
	r.cpu = watch.Stop()
	r.sent, r.stuck = p.sent, p.sending
	r.problems = w.Problems()
	if r.rssKB, err = w.Stop(); err != nil {
		return r, err
	}
	if r.lastSent, err = lastSent(ctx, dbURL, id); err != nil {
		return r, err
	}
	if r.sink, err = sink.Stats(); err != nil {
		return r, err
	}
	r.cost = cost
	return r, nil
}

// recordCost reads back what the run's notices cost PostgreSQL (rows, WAL by record kind) into
// r.pg. It is not part of sendCampaign: reading the run's WAL back keeps PostgreSQL busy for
// seconds, and the status benchmark's load must not be measured through it.
func (r *sendRun) recordCost(ctx context.Context) error {
	defer r.cost.close()
	// The worker's backends flushed their statistics as they closed.
	var err error
	r.pg, err = r.cost.finish(ctx, r.n)
	return err
}

// progress tells the operator what the benchmark is doing, on stderr: the figures alone go to
// stdout.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "  … "+format+"\n", args...)
}
