package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// workerProcess is a `breachnotice worker` child: the process whose rate and memory the send
// benchmarks measure.
type workerProcess struct {
	cmd     *exec.Cmd
	started chan struct{} // closed when the worker logs that it started
	exited  chan struct{}

	mu       sync.Mutex
	tail     []string       // its last log lines, for errors
	problems map[string]int // its warnings and errors ("level msg: error"), counted

	stopOnce sync.Once
	peakKB   int64
	stopErr  error
}

// startWorker flushes the benchmark's Redis database (each run starts from empty queues; the
// record in PostgreSQL is what matters) and starts a worker on dbURL sending to smtpURL, with
// env added to its environment. It returns once the worker is idle: started, with its first
// reconciliation done.
func (b *bench) startWorker(ctx context.Context, dbURL, smtpURL string, env ...string) (*workerProcess, error) {
	if err := flushRedis(ctx, b.redisURL); err != nil {
		return nil, err
	}
	cmd := niced(b.workerNice, b.bin, "worker")
	cmd.Env = b.env(append([]string{
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=" + b.redisURL,
		"SMTP_URL=" + smtpURL,
		"OUTBOX_DIR=" + b.dir + "/outbox",
	}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &workerProcess{cmd: cmd, started: make(chan struct{}), exited: make(chan struct{}), problems: map[string]int{}}
	go w.readLog(stderr)
	select {
	case <-w.started:
	case <-w.exited:
		cmd.Wait()
		return nil, fmt.Errorf("worker exited at start: %s", w.Log())
	case <-time.After(30 * time.Second):
		w.Stop()
		return nil, fmt.Errorf("worker did not start in 30 s: %s", w.Log())
	}
	// The conductor reconciles once at start (a few queries); let it finish so that the
	// measurement starts from an idle worker, as in production.
	time.Sleep(time.Second)
	return w, nil
}

// readLog keeps the worker's last log lines and notices its start.
func (w *workerProcess) readLog(r io.Reader) {
	defer close(w.exited)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		w.mu.Lock()
		w.tail = append(w.tail, line)
		if len(w.tail) > 30 {
			w.tail = w.tail[1:]
		}
		if p := problem(line); p != "" {
			w.problems[p]++
		}
		w.mu.Unlock()
		if strings.Contains(line, `msg="worker started"`) {
			once.Do(func() { close(w.started) })
		}
	}
}

// problem is a WARN or ERROR log line (slog's text format) reduced to its level, message and
// error, without the IDs that make each line unique; "" for other lines.
func problem(line string) string {
	level := logField(line, "level")
	if level != "WARN" && level != "ERROR" {
		return ""
	}
	return level + " " + logField(line, "msg") + ": " + logField(line, "error")
}

// logField is the value of key=value or key="quoted value" in a slog text line.
func logField(line, key string) string {
	_, v, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	if q, err := strconv.QuotedPrefix(v); err == nil {
		s, _ := strconv.Unquote(q)
		return s
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// Problems describes the worker's warnings and errors, most frequent first.
func (w *workerProcess) Problems() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.problems) == 0 {
		return "no warning or error"
	}
	var b strings.Builder
	for i, k := range top(w.problems, 5) {
		if i > 0 {
			b.WriteString("\n            ")
		}
		fmt.Fprintf(&b, "%d × %s", w.problems[k], k)
	}
	return b.String()
}

// Log is the worker's last log lines.
func (w *workerProcess) Log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return "\n\t" + strings.Join(w.tail, "\n\t")
}

// Pid is the worker's process ID.
func (w *workerProcess) Pid() int { return w.cmd.Process.Pid }

// Stop reads the worker's peak RSS (kB), then stops it gracefully with SIGTERM, as an operator
// or an orchestrator would, killing it if it does not stop within a minute. Calls after the
// first return the first one's results.
func (w *workerProcess) Stop() (peakKB int64, err error) {
	w.stopOnce.Do(func() { w.peakKB, w.stopErr = w.stop() })
	return w.peakKB, w.stopErr
}

func (w *workerProcess) stop() (peakKB int64, err error) {
	peakKB = peakRSS(w.Pid())
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(time.Minute):
		w.cmd.Process.Kill()
		<-w.exited
		err = errors.New("worker did not stop within a minute of SIGTERM; killed")
	}
	if werr := w.cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("worker: %w:%s", werr, w.Log())
	}
	return peakKB, err
}

// flushRedis empties the benchmark's own Redis database.
func flushRedis(ctx context.Context, url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("redis FLUSHDB: %w (run `make services`)", err)
	}
	return nil
}
