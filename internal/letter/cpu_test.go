package letter

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime is the CPU time the process has used (user and system, all threads, the garbage
// collector's too). Benchmarks report it per operation besides the wall time, which on a
// shared machine says more about the neighbours than about the code.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports the CPU milliseconds per operation of a benchmark since start.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(CPUTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
