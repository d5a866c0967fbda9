// The status API benchmark: an incident team watches a campaign while it sends. A `breachnotice
// serve` child answers stats, recipient lookups and delivery listings at a fixed request rate
// while a `breachnotice worker` child sends a campaign; the latencies are printed with p50 and
// p99 (target p99 ≤ 50 ms) beside the send rate of the same campaign size without the load.

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// targetStatusP99 is DESIGN.md's "status API: p99 ≤ 50 ms while a campaign is sending".
const targetStatusP99 = 50 * time.Millisecond

// statusOptions sizes the status API benchmark.
type statusOptions struct {
	recipients int
	rate       int // requests per second, offered whatever the answers' speed
	idle       time.Duration
	// serveProfile is a file serve writes its Go CPU profile to (BREACHNOTICE_CPU_PROFILE).
	serveProfile string
}

// benchStatusAPI measures the status API idle, then sends one campaign without the load and an
// identical one with it.
func benchStatusAPI(ctx context.Context, b *bench, o statusOptions) error {
	dbURL, dropDB, err := freshDatabase(ctx, b.admin)
	if err != nil {
		return err
	}
	defer dropDB()
	fmt.Printf("\nbreachnotice status API benchmark — %d requests/s (stats, recipient lookups, listings in turn) against `breachnotice serve`, while a worker (nice 10) sends %d emails to the sink (nice 19)\n\n",
		o.rate, o.recipients)

	b.workerNice = 10
	defer func() { b.workerNice = 0 }()
	quiet, _, err := b.sendableCampaign(ctx, dbURL, o.recipients, 3)
	if err != nil {
		return err
	}
	loaded, _, err := b.sendableCampaign(ctx, dbURL, o.recipients, 4)
	if err != nil {
		return err
	}
	var profile []string
	if o.serveProfile != "" {
		profile = []string{"BREACHNOTICE_CPU_PROFILE=" + o.serveProfile}
		defer fmt.Printf("pprof       serve CPU profile: go tool pprof -top %s %s\n", b.bin, o.serveProfile)
	}
	srv, err := b.startServe(ctx, dbURL, profile...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	// The sink stands for the relay, another machine in production; here it shares the two
	// cores, so it yields to everything else. The worker yields to the API the same way, as a
	// deployment that runs both on one machine should arrange (nice, systemd CPUWeight).
	sink, err := startSink(19)
	if err != nil {
		return err
	}
	defer sink.Close()

	progress("status API idle for %s (campaign not started)", o.idle)
	idle := runLoad(ctx, srv, loaded, o, func() { sleepCtx(ctx, o.idle) })
	progress("sending %d emails without the load", o.recipients)
	plain, err := b.sendCampaign(ctx, dbURL, quiet, int64(o.recipients), sink, false)
	if err != nil {
		return err
	}
	progress("sending %d emails under %d requests/s", o.recipients, o.rate)
	var busy sendRun
	var sendErr error
	serveCPU, loadStart := cpuTime(srv.cmd.Process.Pid), time.Now()
	sending := runLoad(ctx, srv, loaded, o, func() {
		busy, sendErr = b.sendCampaign(ctx, dbURL, loaded, int64(o.recipients), sink, false)
	})
	if sendErr != nil {
		return sendErr
	}
	serveCores := (cpuTime(srv.cmd.Process.Pid) - serveCPU).Seconds() / time.Since(loadStart).Seconds()
	progress("measuring each request's cost, %d of each kind one at a time", costRequests)
	costs := b.measureStatusCosts(ctx, srv, dbURL, loaded, o.recipients)

	idle.print("idle")
	sending.print("sending")
	fmt.Printf("            p99 while sending = %.2f × the %d ms ceiling\n",
		float64(sending.percentile("", 99))/float64(targetStatusP99), targetStatusP99.Milliseconds())
	plain.printRate("send alone")
	fmt.Printf("cpu         %s\n", plain.cpu)
	busy.printRate("send+load")
	fmt.Printf("            = %.2f × the send rate without the load\n", busy.rate()/plain.rate())
	fmt.Printf("cpu         %s, and the serve process %.2f\n", busy.cpu, serveCores)
	// What PostgreSQL was busy with and waiting on meanwhile (worker and serve together): a
	// tail that is lock waits or WAL flushes shows here, not in the CPU figures.
	fmt.Printf("postgres    %s\n", busy.statements)
	printStatusCosts(costs)
	return nil
}

// serveProcess is a `breachnotice serve` child and an operator token for it.
type serveProcess struct {
	cmd   *exec.Cmd
	url   string
	token string
}

// startServe starts `breachnotice serve` on a free port and waits until it answers.
func (b *bench) startServe(ctx context.Context, dbURL string, env ...string) (*serveProcess, error) {
	out, err := b.runBin(ctx, dbURL, "token", "create", "--name", fmt.Sprintf("bnbench-%d", time.Now().UnixNano()))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(b.bin, "serve")
	cmd.Env = b.env(append([]string{"DATABASE_URL=" + dbURL, "HTTP_ADDR=" + addr,
		"REDIS_URL=" + b.redisURL, "OUTBOX_DIR=" + b.dir + "/outbox",
		// The load comes from one address, as no real client's does: the per-client cap is
		// for clients, not for the benchmark.
		"HTTP_MAX_CONNECTIONS_PER_CLIENT=0"}, env...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &serveProcess{cmd: cmd, url: "http://" + addr, token: strings.TrimSpace(string(out))}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("breachnotice serve did not answer on %s in 30 s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server with SIGTERM, as an orchestrator would.
func (s *serveProcess) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}

// loadResult is the latency of each answer, by request kind.
type loadResult struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	failures  map[string]int // answers other than 200, and transport errors
	offered   int
	elapsed   time.Duration // while requests were offered (the stragglers' wait excluded)
	start     time.Time
	// windows are the latencies of every answer by the 10-second window it was asked in, to
	// tell a steady cost from a burst (the planning of the campaign, a checkpoint).
	windows map[int][]time.Duration
}

func (r *loadResult) add(kind string, asked time.Time, d time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		r.failures[kind]++
		return
	}
	r.latencies[kind] = append(r.latencies[kind], d)
	w := int(asked.Sub(r.start) / (10 * time.Second))
	r.windows[w] = append(r.windows[w], d)
}

// percentile of kind's latencies ("" for all kinds together).
func (r *loadResult) percentile(kind string, p int) time.Duration {
	var ds []time.Duration
	for k, v := range r.latencies {
		if kind == "" || k == kind {
			ds = append(ds, v...)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

func (r *loadResult) print(label string) {
	n := 0
	for _, v := range r.latencies {
		n += len(v)
	}
	fmt.Printf("status API  %-8s %d answers in %.1f s (%.0f/s offered): p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms\n",
		label, n, r.elapsed.Seconds(), float64(r.offered)/r.elapsed.Seconds(),
		ms(r.percentile("", 50)), ms(r.percentile("", 99)), ms(r.percentile("", 100)))
	for _, kind := range loadKinds {
		fmt.Printf("            %-10s p50 %5.1f ms  p99 %5.1f ms  (%d answers, %d failed)\n",
			kind, ms(r.percentile(kind, 50)), ms(r.percentile(kind, 99)), len(r.latencies[kind]), r.failures[kind])
	}
	fmt.Printf("            p99 by 10 s window (ms):")
	for w := 0; w < len(r.windows)+1; w++ {
		if ds, ok := r.windows[w]; ok {
			slices.Sort(ds)
			fmt.Printf(" %.0f", ms(ds[min(len(ds)-1, len(ds)*99/100)]))
		}
	}
	fmt.Println()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadKinds are the requests of the incident team's screens, sent in turn.
var loadKinds = []string{"stats", "recipient", "listing"}

// listingFilters are the listings asked for in turn: everything, the common state, a state
// that may be rare (the whole campaign is walked to fill a page), one locale.
var listingFilters = []string{"", "state=sent", "state=failed", "locale=ko", "channel=email&state=queued"}

// runLoad offers o.rate requests per second to srv about campaign id while during runs, and
// returns their latencies. The load is open: a request leaves on time even when earlier ones
// are still waiting, so a slow server cannot slow the load down and hide its own latency.
func runLoad(ctx context.Context, srv *serveProcess, id string, o statusOptions, during func()) *loadResult {
	r := &loadResult{latencies: map[string][]time.Duration{}, failures: map[string]int{}, windows: map[int][]time.Duration{}, start: time.Now()}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	rng := rand.New(rand.NewPCG(5, 5))
	stopLoad, done := make(chan struct{}), make(chan struct{})
	var inflight sync.WaitGroup
	start := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / time.Duration(o.rate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-stopLoad:
				return
			case <-tick.C:
			}
			r.offered++
			kind := loadKinds[i%len(loadKinds)]
			var path string
			switch kind {
			case "stats":
				path = "/api/v1/campaigns/" + id + "/status"
			case "recipient":
				path = "/api/v1/campaigns/" + id + "/recipients/" + customerID(rng.IntN(o.recipients))
			case "listing":
				path = "/api/v1/campaigns/" + id + "/deliveries?limit=100&" + listingFilters[(i/len(loadKinds))%len(listingFilters)]
			}
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				t0 := time.Now()
				ok := get(ctx, client, srv, path)
				r.add(kind, t0, time.Since(t0), ok)
			}()
		}
	}()
	during()
	close(stopLoad)
	<-done
	r.elapsed = time.Since(start)
	inflight.Wait()
	return r
}

// get asks srv for path as the operator and reports whether the answer was 200.
func get(ctx context.Context, client *http.Client, srv *serveProcess, path string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", srv.url+path, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+srv.token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
