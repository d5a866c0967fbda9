package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startCPUProfile records the process's CPU profile to path (BREACHNOTICE_CPU_PROFILE) until
// stop is called, for `go tool pprof`: where a worker's time goes during a benchmark's send
// (bnbench -worker-profile) or a real campaign. Empty path: nothing is recorded. A profile
// costs a few percent of CPU, so it is off unless asked for.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("BREACHNOTICE_CPU_PROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("BREACHNOTICE_CPU_PROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
