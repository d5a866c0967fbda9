package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// With -perf FILE, the plain send run is recorded by `perf record` across the whole machine
// (worker, PostgreSQL, Redis, sink and kernel alike), with call graphs: Go keeps frame
// pointers, so `perf report -i FILE --sort comm,dso` shows who used the cores and
// `perf report -i FILE --comm breachnotice` where the worker spent its time.

// startPerf starts recording to path; stop ends the recording and waits for perf to write it.
func startPerf(path string) (stop func() error, err error) {
	cmd := exec.Command("perf", "record", "--all-cpus", "--call-graph", "fp", "-F", "499", "-o", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("-perf: %w", err)
	}
	return func() error {
		cmd.Process.Signal(syscall.SIGINT)
		return cmd.Wait()
	}, nil
}
