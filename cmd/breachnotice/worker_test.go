package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/redistest"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// redisDB is this package's Redis database (see internal/redistest).
const redisDB = 2

// TestCLI_WorkerKilledMidCampaignLosesNothing drives the real binary: a campaign is started,
// its worker SIGKILLed mid-campaign, and a new worker finishes it. Every customer must get
// their email, and the duplicates can only be notices that were in flight at the kill.
func TestCLI_WorkerKilledMidCampaignLosesNothing(t *testing.T) {
	sink, err := smtpsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	const n = 3000
	var list strings.Builder
	list.WriteString("customer_id,email,country\n")
	for i := range n {
		fmt.Fprintf(&list, "K%d,k%d@example.org,PE\n", i, i)
	}
	listFile := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(listFile, []byte(list.String()), 0o600)
	id := createCampaign(t)
	for _, args := range [][]string{{"import", "--campaign", id, listFile}, {"campaign", "approve", id}} {
		if _, stderr, err := cli(t, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
	}

	env := append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redistest.URL(t, redisDB),
		"BREACHNOTICE_SECRET=worker-test-secret-worker-test-secret",
		fmt.Sprintf("SMTP_URL=smtp://127.0.0.1:%d?tls=none", sink.Port()),
		"EMAIL_RATE=500", "OUTBOX_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	worker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker")
		cmd.Env = env
		var logs strings.Builder
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("worker %d logs:\n%s", cmd.Process.Pid, logs.String())
			}
		})
		return cmd
	}
	first := worker()
	if _, stderr, err := cli(t, "", "campaign", "start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, stderr)
	}
	waitFor(t, 60*time.Second, "a third sent", func() bool { return sink.Count() > n/3 })
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	atKill := sink.Count()
	inFlight := count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sending'`, id)
	t.Logf("killed the worker after %d emails with %d notices claimed and unrecorded", atKill, inFlight)
	if atKill >= n {
		t.Fatal("the campaign finished before the kill; nothing tested")
	}

	second := worker()
	defer second.Process.Signal(syscall.SIGTERM)
	waitFor(t, 2*time.Minute, "completed", func() bool {
		return count(t, `SELECT count(*) FROM campaigns WHERE id = $1 AND state = 'completed'`, id) == 1
	})
	per := map[string]int{}
	for _, m := range sink.Messages() {
		per[m.To[0]]++
	}
	dups := 0
	for i := range n {
		switch got := per[fmt.Sprintf("k%d@example.org", i)]; {
		case got == 0:
			t.Errorf("customer K%d never got their notice", i)
		case got > 1:
			dups += got - 1
		}
	}
	t.Logf("from the relay's accept to the record of sent: %s", acceptToRecord(t, sink, id))
	t.Logf("duplicates: %d (at most %d were in flight at the kill)", dups, inFlight)
	if int64(dups) > inFlight {
		t.Errorf("%d duplicates, but only %d notices were in flight at the kill", dups, inFlight)
	}
	out, stderr, err := cli(t, "", "campaign", "status", id, "--json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stderr)
	}
	var st struct {
		State     string
		Total     int64
		ByChannel map[string]map[string]int64 `json:"by_channel"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State != "completed" || st.Total != n || st.ByChannel["email"]["sent"] != n {
		t.Errorf("campaign status --json: %v\n%s", err, out)
	}
}

// flaggedAddresses returns the addresses of campaign id's deliveries the record flags as
// possible duplicates.
func flaggedAddresses(t *testing.T, id string) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `
		SELECT r.email FROM deliveries d JOIN recipients r ON r.campaign_id = d.campaign_id AND r.id = d.recipient_id
		WHERE d.campaign_id = $1 AND d.possible_duplicates > 0`, id)
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	var addr string
	if _, err := pgx.ForEachRow(rows, []any{&addr}, func() error { flagged[addr] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return flagged
}

// count runs a counting query about campaign id.
func count(t *testing.T, query, id string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), query, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// acceptToRecord measures the window in which a killed worker sends a notice twice: from the
// relay accepting a message to its delivery's sent event, as percentiles.
func acceptToRecord(t *testing.T, sink *smtpsink.Sink, id string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `
		SELECT r.email, min(e.at) FROM delivery_events e
		JOIN recipients r ON r.campaign_id = e.campaign_id AND r.id = e.recipient_id
		WHERE e.campaign_id = $1 AND e.state = 'sent' GROUP BY r.email`, id)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]time.Time{}
	var (
		addr string
		at   time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&addr, &at}, func() error { recorded[addr] = at; return nil }); err != nil {
		t.Fatal(err)
	}
	var window []time.Duration
	seen := map[string]bool{}
	for _, m := range sink.Messages() {
		if at, ok := recorded[m.To[0]]; ok && !seen[m.To[0]] {
			seen[m.To[0]] = true
			window = append(window, at.Sub(m.At))
		}
	}
	slices.Sort(window)
	if len(window) == 0 {
		return "nothing recorded"
	}
	q := func(p int) time.Duration { return window[len(window)*p/100].Round(time.Millisecond) }
	return fmt.Sprintf("p50 %v, p90 %v, p99 %v", q(50), q(90), q(99))
}

// TestCLI_WorkerKilledTwiceAtFullRateFewDuplicatesAllCounted kills the worker twice while a
// campaign sends at full rate (no EMAIL_RATE) into an SMTP sink that counts per recipient, and
// flushes Redis after the first kill. Everyone must be reached; the notices sent twice — those
// the relay accepted and the record had not yet written when the worker died — must be few (at
// most maxDupsPerKill a kill on average), each flagged a possible duplicate in the record, and the
// campaign's status must count at least as many possible duplicates as the sink saw. The rate
// at each kill, the window from the relay's accept to the record and the counts are logged.
// (Under -race the in-process sink takes ~250–400 emails/s; without, ~900–1,300/s on the 2-core
// development machine.)
func TestCLI_WorkerKilledTwiceAtFullRateFewDuplicatesAllCounted(t *testing.T) {
	const maxDupsPerKill = 20
	sink, err := smtpsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	const n = 8000
	var list strings.Builder
	list.WriteString("customer_id,email,country\n")
	for i := range n {
		fmt.Fprintf(&list, "D%d,d%d@example.org,PE\n", i, i)
	}
	listFile := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(listFile, []byte(list.String()), 0o600)
	id := createCampaign(t)
	for _, args := range [][]string{{"import", "--campaign", id, listFile}, {"campaign", "approve", id}} {
		if _, stderr, err := cli(t, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
	}
	redisURL := redistest.URL(t, redisDB)
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL,
		"BREACHNOTICE_SECRET=worker-test-secret-worker-test-secret",
		fmt.Sprintf("SMTP_URL=smtp://127.0.0.1:%d?tls=none", sink.Port()),
		"OUTBOX_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	worker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker")
		cmd.Env = env
		var logs strings.Builder
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("worker %d logs:\n%s", cmd.Process.Pid, logs.String())
			}
		})
		return cmd
	}
	w := worker()
	if _, stderr, err := cli(t, "", "campaign", "start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, stderr)
	}
	var killedAt [2]time.Time
	for k, at := range []int{n / 5, n / 2} {
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d sent", at), func() bool { return sink.Count() > int64(at) })
		// The rate at the kill: over the last second.
		before := sink.Count()
		time.Sleep(time.Second)
		rate := float64(sink.Count() - before)
		w.Process.Signal(syscall.SIGKILL)
		w.Wait()
		killedAt[k] = time.Now()
		inFlight := count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sending'`, id)
		t.Logf("kill %d: after %d emails, sending %.0f/s, with %d notices claimed and unrecorded", k+1, sink.Count(), rate, inFlight)
		if k == 0 {
			// And the queues lost, as in the incident that measured 68 duplicates a kill.
			if err := rdb.FlushDB(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		w = worker()
	}
	defer w.Process.Signal(syscall.SIGTERM)
	waitFor(t, 3*time.Minute, "completed", func() bool {
		return count(t, `SELECT count(*) FROM campaigns WHERE id = $1 AND state = 'completed'`, id) == 1
	})
	per := map[string]int{}
	first := map[string]time.Time{}
	for _, m := range sink.Messages() {
		if per[m.To[0]]++; per[m.To[0]] == 1 {
			first[m.To[0]] = m.At
		}
	}
	flagged := flaggedAddresses(t, id)
	dups := 0
	var perKill [2]int // by the kill that left the first send unrecorded
	for i := range n {
		addr := fmt.Sprintf("d%d@example.org", i)
		switch got := per[addr]; {
		case got == 0:
			t.Errorf("customer D%d never got their notice", i)
		case got > 1:
			dups += got - 1
			if first[addr].Before(killedAt[0]) {
				perKill[0] += got - 1
			} else {
				perKill[1] += got - 1
			}
			if !flagged[addr] {
				t.Errorf("customer D%d got %d notices, and the record does not say it may be a duplicate", i, got)
			}
		}
	}
	out, stderr, err := cli(t, "", "campaign", "status", id, "--json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stderr)
	}
	var st struct {
		State              string
		ByChannel          map[string]map[string]int64 `json:"by_channel"`
		PossibleDuplicates int64                       `json:"possible_duplicates"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State != "completed" || st.ByChannel["email"]["sent"] != n {
		t.Errorf("campaign status --json: %v\n%s", err, out)
	}
	t.Logf("from the relay's accept to the record of sent: %s", acceptToRecord(t, sink, id))
	t.Logf("duplicates at the sink: %d (%d after the first kill, %d after the second); possible duplicates in the record: %d",
		dups, perKill[0], perKill[1], st.PossibleDuplicates)
	// Per kill on average: one kill's count swings with the machine's load (the database's
	// commits slow down when other processes take the two cores), the pair's much less.
	if dups > len(perKill)*maxDupsPerKill {
		t.Errorf("%d duplicates over %d kills (%v), want at most %d a kill", dups, len(perKill), perKill, maxDupsPerKill)
	}
	if st.PossibleDuplicates < int64(dups) {
		t.Errorf("the status counts %d possible duplicates, the sink saw %d", st.PossibleDuplicates, dups)
	}
}
