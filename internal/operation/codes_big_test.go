package operation_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// generated streams a CSV of n lines written by line(i), never held whole.
func generated(header string, n int, line func(b []byte, i int) []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		b := []byte(header)
		for i := range n {
			b = line(b, i)
			if len(b) > 64<<10 {
				if _, err := pw.Write(b); err != nil {
					return
				}
				b = b[:0]
			}
		}
		pw.Write(b)
		pw.Close()
	}()
	return pr
}

// peakHeap samples the heap in use until stop is called, and returns the peak.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); return peak.Load() }
}

// A pool of millions of codes imports in bounded memory: BREACHNOTICE_BIG_POOL=customers,codes
// (e.g. 1000000,2000000) runs it and logs the times and the peak heap.
func TestImportCodes_MillionsOfCodesInBoundedMemory(t *testing.T) {
	spec := os.Getenv("BREACHNOTICE_BIG_POOL")
	if spec == "" {
		t.Skip("set BREACHNOTICE_BIG_POOL=customers,codes to measure a big pool")
	}
	var customers, codes int
	if _, err := fmt.Sscanf(spec, "%d,%d", &customers, &codes); err != nil {
		t.Fatal(err)
	}
	ops, _ := service(t)
	actor := breach.CLIActor("bench")
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	list := generated("customer_id,email,country\n", customers, func(b []byte, i int) []byte {
		b = append(b, 'C')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ",c"...)
		b = strconv.AppendInt(b, int64(i), 10)
		return append(b, "@example.com,PE\n"...)
	})
	if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{List: list}); err != nil {
		t.Fatal(err)
	}
	t.Logf("list of %d customers imported in %s", customers, time.Since(start).Round(time.Millisecond))

	runtime.GC()
	stop := peakHeap()
	start = time.Now()
	file := generated("code,batch\n", codes, func(b []byte, i int) []byte {
		b = append(b, "VND-"...)
		b = strconv.AppendInt(b, int64(i), 36)
		return append(b, ",2026-11\n"...)
	})
	ci, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: file})
	if err != nil {
		t.Fatal(err)
	}
	took, peak := time.Since(start), stop()
	t.Logf("%d codes imported and %d assigned in %s (%.0f codes/s), peak heap %.1f MB; pool %+v",
		ci.Added, ci.Assigned, took.Round(time.Millisecond), float64(codes)/took.Seconds(), float64(peak)/1e6, *ci.Pool)
	if ci.Added != int64(codes) || ci.Pool.Missing != int64(max(0, customers-codes)) {
		t.Fatalf("import = %s", ci.Summary())
	}
	if peak > 200<<20 {
		t.Errorf("peak heap %d MB: the codes are held in memory", peak>>20)
	}
}
