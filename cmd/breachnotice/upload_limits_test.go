package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// maxServeRSS is the peak resident memory serve may reach whatever is uploaded (the issue
// "Memory exhaustion by upload": a 1 MB gzip took it to 14 GB).
const maxServeRSS = 256 << 20

// TestServe_WideRowUploadIsBoundedAndServeKeepsAnswering posts the upload — 200 lines of
// 4,000,000 commas, gzipped to about 1 MB, 800 MB unpacked — to a real `breachnotice serve`, in
// the three shapes it can take, and requires an answer naming the row limit each time, /healthz
// answering 200 all along, and serve's peak RSS (VmHWM) to stay within maxServeRSS.
func TestServe_WideRowUploadIsBoundedAndServeKeepsAnswering(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read serve's peak RSS")
	}
	dir := t.TempDir()
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "BREACHNOTICE_SECRET="+testSecret,
		"OUTBOX_DIR="+filepath.Join(dir, "outbox"), "BREACHNOTICE_STATE_DIR="+dir, "HTTP_ADDR=127.0.0.1:0",
		"LOG_LEVEL=info")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}

	out := &capture{}
	serve := exec.Command(bin, "serve")
	serve.Env = env
	serve.Stdout, serve.Stderr = out.writer("serve"), out.writer("serve")
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			serve.Process.Kill()
			<-done
		}
	})
	var base string
	waitFor(t, 30*time.Second, "serving", func() bool {
		if m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})
	token := strings.TrimSpace(run("token", "create", "--name", "upload-limits-test"))
	api := func(method, path, contentType string, body io.Reader) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// /healthz is polled for the whole test, uploads included.
	health := &uploadHealthProbe{url: base + "/healthz", stop: make(chan struct{})}
	health.wg.Go(health.run)
	t.Cleanup(health.finish)

	// The uploads are built of gzip members, each line of commas compressed once and repeated
	// (as internal/importer's wideRowGzip): a list of members is one gzip file to every reader.
	commas := uploadGzipMember(t, strings.Repeat(",", 4_000_000)+"\n")
	gz := func(s string) []byte { return uploadGzipMember(t, s) }
	const valid = "W1,w1@example.com,Ann\nW2,w2@example.com,Bob\nW3,w3@example.com,Cid\n"
	tests := []struct {
		name        string
		upload      func() []byte
		status      int
		wantMessage string // in the error's message, for a refused file
		// for an accepted file: its counts, and the reason of every reject
		read, accepted, rejected int64
		rejectLines              func(i int) int // the line of the i-th reject
		rejectReason             string
	}{
		{name: "the issue's upload, whose header is a line of commas",
			upload: func() []byte { return bytes.Repeat(commas, 200) },
			status: http.StatusBadRequest, wantMessage: "line 1 (header): the row is longer than 1 MiB"},
		{name: "a header, then only lines of commas",
			upload:      func() []byte { return append(gz("customer_id,email,name\n"), bytes.Repeat(commas, 200)...) },
			status:      http.StatusBadRequest,
			wantMessage: "the first 100 rows of the file, are each longer than 1 MiB or have more than 1,024 fields: this is not a customer list"},
		{name: "lines of commas between valid rows",
			upload: func() []byte {
				b := append(gz("customer_id,email,name\n"+valid), bytes.Repeat(commas, 200)...)
				return append(b, gz(strings.ReplaceAll(valid, "W", "V"))...)
			},
			status: http.StatusCreated, read: 206, accepted: 6, rejected: 200,
			rejectLines: func(i int) int { return 5 + i }, rejectReason: "the row is longer than 1 MiB"},
		// The heaviest list the limits let through: every other row as long as a row may be,
		// the others a byte longer.
		{name: "rows of 1 MiB, between rows of 1 MiB and a byte",
			upload: func() []byte {
				const attrs = 18
				header := "customer_id,email"
				for i := range attrs {
					header += fmt.Sprintf(",a%d", i+1)
				}
				b := gz(header + "\n")
				for i := range 60 {
					for _, size := range []int{1 << 20, 1<<20 + 1} {
						prefix := fmt.Sprintf("L%03d-%d,l%d@example.com,", i, size, i)
						fill := strings.Repeat("x", (size-len(prefix)-(attrs-1))/attrs)
						row := prefix + strings.Repeat(fill+",", attrs-1) + fill
						row += strings.Repeat("y", size-len(row)) + "\n"
						b = append(b, gz(row)...)
					}
				}
				return b
			},
			status: http.StatusCreated, read: 120, accepted: 60, rejected: 60,
			rejectLines: func(i int) int { return 3 + 2*i }, rejectReason: "the row is longer than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := createCampaign(t)
			upload := tt.upload()
			start := time.Now()
			status, body := api("POST", "/api/v1/campaigns/"+id+"/imports?filename=list.csv.gz", "application/gzip", bytes.NewReader(upload))
			t.Logf("%d-byte gzip answered %d in %v: %s", len(upload), status, time.Since(start).Round(time.Millisecond), uploadFirstLine(body))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.wantMessage != "" {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error.Message, tt.wantMessage) {
					t.Errorf("error %q; want it to say %q", e.Error.Message, tt.wantMessage)
				}
				return
			}
			var imp struct {
				ID                               string
				Read, Accepted, Merged, Rejected int64
			}
			if err := json.Unmarshal(body, &imp); err != nil {
				t.Fatalf("import answer %s: %v", body, err)
			}
			if imp.Read != tt.read || imp.Accepted != tt.accepted || imp.Merged != 0 || imp.Rejected != tt.rejected {
				t.Errorf("read %d = accepted %d + merged %d + rejected %d; want %d = %d + 0 + %d",
					imp.Read, imp.Accepted, imp.Merged, imp.Rejected, tt.read, tt.accepted, tt.rejected)
			}
			status, rejects := api("GET", "/api/v1/campaigns/"+id+"/imports/"+imp.ID+"/rejects.csv", "", nil)
			if status != http.StatusOK {
				t.Fatalf("rejects.csv: %d %s", status, rejects)
			}
			records, err := csv.NewReader(bytes.NewReader(rejects)).ReadAll()
			if err != nil || int64(len(records)) != tt.rejected+1 {
				t.Fatalf("rejects.csv: %d records (%v), want a header and %d rejects", len(records), err, tt.rejected)
			}
			for i, r := range records[1:] {
				if r[0] != strconv.Itoa(tt.rejectLines(i)) || r[3] != tt.rejectReason {
					t.Fatalf("reject %d: %q; want line %d, %s", i, r, tt.rejectLines(i), tt.rejectReason)
				}
			}
		})
	}

	health.finish()
	hwm := uploadVmHWM(t, serve.Process.Pid)
	t.Logf("serve's peak RSS (VmHWM) %d MB; /healthz answered %d times, the slowest in %v",
		hwm>>20, health.ok, health.slowest.Round(time.Millisecond))
	if hwm > maxServeRSS {
		t.Errorf("serve's peak RSS was %d MB, want at most %d MB", hwm>>20, maxServeRSS>>20)
	}
	if health.failed != "" {
		t.Errorf("/healthz failed while the uploads were imported: %s", health.failed)
	}
	if health.ok == 0 {
		t.Error("/healthz was never answered")
	}
	if err := serve.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("serve is no longer running: %v\n%s", err, out)
	}
}

// uploadHealthProbe polls /healthz every 100 ms until stopped, and notes the first failure and the
// slowest answer.
type uploadHealthProbe struct {
	url     string
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	ok      int
	slowest time.Duration
	failed  string
}

func (h *uploadHealthProbe) run() {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		start := time.Now()
		resp, err := client.Get(h.url)
		took := time.Since(start)
		switch {
		case err != nil:
			h.failed = uploadFirstOf(h.failed, err.Error())
		case resp.StatusCode != http.StatusOK:
			h.failed = uploadFirstOf(h.failed, fmt.Sprintf("status %d", resp.StatusCode))
		default:
			h.ok++
			h.slowest = max(h.slowest, took)
		}
		if resp != nil {
			resp.Body.Close()
		}
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
	}
}

// finish stops the probe and waits for it; its figures may be read after.
func (h *uploadHealthProbe) finish() {
	h.once.Do(func() { close(h.stop) })
	h.wg.Wait()
}

// uploadFirstOf keeps the first failure.
func uploadFirstOf(first, next string) string {
	if first != "" {
		return first
	}
	return next
}

// uploadVmHWM reads a process's peak resident set size, in bytes, from /proc.
func uploadVmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// uploadGzipMember is s compressed as one gzip member.
func uploadGzipMember(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadFirstLine is an answer for the test's log: its JSON on one line, cut short.
func uploadFirstLine(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		buf.Reset()
		buf.Write(b)
	}
	s, _, _ := strings.Cut(buf.String(), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
