package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servers are redis-server processes of one test's own, with their configuration files and
// logs in dir.
type servers struct {
	dir   string
	names []string // in the order they started
	procs []*exec.Cmd
}

// start runs server name with configuration conf, working directory dir (a cluster node's
// nodes.conf is per directory) and flags; its configuration file and log go in h.dir.
func (h *servers) start(tb testing.TB, bin, name, conf, dir string, flags ...string) {
	tb.Helper()
	h.names = append(h.names, name)
	path := filepath.Join(h.dir, name+".conf")
	if err := os.WriteFile(path, []byte(conf+fmt.Sprintf("dir %s\n", dir)), 0o600); err != nil {
		tb.Fatal(err)
	}
	log, err := os.Create(filepath.Join(h.dir, name+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, append([]string{path}, flags...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	h.procs = append(h.procs, cmd)
}

func (h *servers) stop() {
	for _, p := range h.procs {
		p.Process.Kill()
		p.Wait()
	}
}

func (h *servers) waitFor(tb testing.TB, limit time.Duration, what string, ok func(context.Context) bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		done := ok(ctx)
		cancel()
		if done {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: after %v, still waiting for %s%s", limit, what, h.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logs is the tail of each server's log, to tell why a wait failed.
func (h *servers) logs() string {
	var b strings.Builder
	for _, name := range h.names {
		data, _ := os.ReadFile(filepath.Join(h.dir, name+".log"))
		s := string(data)
		if len(s) > 1500 {
			s = s[len(s)-1500:]
		}
		fmt.Fprintf(&b, "\n--- %s log ---\n%s", name, s)
	}
	return b.String()
}

// freePorts asks the kernel for n free ports on loopback.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
