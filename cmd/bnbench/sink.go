package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// The SMTP sink runs in a process of its own (bnbench started again with -sink), as DESIGN's
// send target requires: in the worker's or the benchmark's process it would share their Go
// scheduler and garbage collector and flatter, or penalise, whichever it shared them with.
//
// The child speaks a line protocol on its standard streams: it prints the address it listens
// on, then answers each "stats" line on stdin with one JSON line (sinkStats). It exits when
// stdin closes, so that it never outlives the benchmark, however the benchmark ends.

// sinkStats is the sink's counters at one moment.
type sinkStats struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"` // message data received, headers included
	First int64 `json:"first"` // unix nanoseconds of the first message accepted, 0 before any
	Last  int64 `json:"last"`  // unix nanoseconds of the latest message accepted
}

func (s sinkStats) first() time.Time { return time.Unix(0, s.First) }
func (s sinkStats) last() time.Time  { return time.Unix(0, s.Last) }

// avgSize is the mean size of the messages received since before.
func (s sinkStats) avgSize(before sinkStats) int64 {
	return (s.Bytes - before.Bytes) / max(s.Count-before.Count, 1)
}

// serveSink is the child's main: a discarding go-smtp sink on addr that also counts the
// bytes it receives (through its Fault hook, which sees every message's data), so that the
// report can show the raw and the product's messages are of the same size.
func serveSink(addr string) error {
	s, err := smtpsink.Start(addr)
	if err != nil {
		return err
	}
	defer s.Close()
	var bytes atomic.Int64
	s.Discard = true
	s.Fault = func(_ string, data []byte) error {
		bytes.Add(int64(len(data)))
		return nil
	}
	fmt.Println(s.Addr)
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) != "stats" {
			continue
		}
		st := sinkStats{Count: s.Count(), Bytes: bytes.Load()}
		if st.Count > 0 {
			st.First, st.Last = s.First().UnixNano(), s.Last().UnixNano()
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
	}
	return nil
}

// sinkProcess is the parent's handle on a sink child.
type sinkProcess struct {
	Addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// startSink starts this executable again as a sink child on a free loopback port, at the
// given niceness (0: as this process).
func startSink(nice int) (*sinkProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := niced(nice, self, "-sink", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &sinkProcess{cmd: cmd, in: in, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("sink child: %w", err)
	}
	p.Addr = strings.TrimSpace(line)
	return p, nil
}

// SMTPURL is the worker's SMTP_URL for this sink: plain SMTP, which is right only because the
// sink is on the same machine.
func (p *sinkProcess) SMTPURL() string { return "smtp://" + p.Addr + "?tls=none" }

// Pid is the child's process ID, for its CPU time.
func (p *sinkProcess) Pid() int { return p.cmd.Process.Pid }

// Stats asks the child for its counters.
func (p *sinkProcess) Stats() (sinkStats, error) {
	var s sinkStats
	if _, err := io.WriteString(p.in, "stats\n"); err != nil {
		return s, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(line, &s)
}

// Close ends the child by closing its stdin and waits for it.
func (p *sinkProcess) Close() error {
	p.in.Close()
	return p.cmd.Wait()
}

// niced is exec.Command(name, args...) run under nice(1) at niceness n (every thread of the
// child inherits it, which renice on a running Go process would not give), or as is for 0.
func niced(n int, name string, args ...string) *exec.Cmd {
	if n == 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("nice", append([]string{"-n", strconv.Itoa(n), name}, args...)...)
}
