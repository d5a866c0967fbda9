package importer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// processCPU is the CPU time the process has used, every goroutine and the GC included: on a
// shared machine, a benchmark's CPU per row is steadier than its wall time per row.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParse measures the parse pipeline alone (decode, split, validate, E.164, reference
// key), with the store's side reduced to discarding batches; b.N rows. cpu-ns/row is the
// process's CPU time per row.
func BenchmarkParse(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("customer_id,first_name,last_name,email,phone,locale,country,exposed,plan\n")
	for i := range b.N {
		fmt.Fprintf(&buf, "AC-%08d,José,Quispe,cust%d@example%d.com,9%02d %03d %03d,es-PE,PE,name|phone|sim,\"Hogar, Internet\"\n",
			i, i, i%97, rng.IntN(100), rng.IntN(1000), rng.IntN(1000))
	}
	im, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len() / max(b.N, 1)))
	b.ResetTimer()
	cpu := processCPU()
	imp := &breach.Import{}
	keys := notice.NewReferenceKeys([]byte("bench-secret"))
	err = im.parse(context.Background(), &breach.Campaign{ID: "6b0c3c5e-5a1e-4c8e-9f55-0d1f3a7b9e21", DefaultCountry: "PE"}, imp, &buf,
		Options{RefKey: keys.OfRecipient},
		func(context.Context, *breach.ImportBatch) error { return nil },
		func(context.Context, int64) {})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(max(b.N, 1)), "cpu-ns/row")
	if imp.Read != int64(b.N) || imp.Rejected != 0 {
		b.Fatalf("read %d rejected %d", imp.Read, imp.Rejected)
	}
}

// BenchmarkParseWithAddresses is BenchmarkParse on a list whose every row has a postal address
// (checked by the rules of its country, encoded for the store): what addresses cost the import.
func BenchmarkParseWithAddresses(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("customer_id,first_name,last_name,email,phone,locale,country,exposed,plan,address_line1,address_line2,city,postal_code\n")
	for i := range b.N {
		fmt.Fprintf(&buf, "AC-%08d,José,Quispe,cust%d@example%d.com,9%02d %03d %03d,es-PE,PE,name|phone|sim,\"Hogar, Internet\",Jr. Los Pinos %d,Dpto. 302,Miraflores,15074\n",
			i, i, i%97, rng.IntN(100), rng.IntN(1000), rng.IntN(1000), i%900)
	}
	im, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len() / max(b.N, 1)))
	b.ResetTimer()
	cpu := processCPU()
	imp := &breach.Import{}
	keys := notice.NewReferenceKeys([]byte("bench-secret"))
	err = im.parse(context.Background(), &breach.Campaign{ID: "6b0c3c5e-5a1e-4c8e-9f55-0d1f3a7b9e21", DefaultCountry: "PE"}, imp, &buf,
		Options{RefKey: keys.OfRecipient},
		func(context.Context, *breach.ImportBatch) error { return nil },
		func(context.Context, int64) {})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(max(b.N, 1)), "cpu-ns/row")
	if imp.Read != int64(b.N) || imp.Rejected != 0 {
		b.Fatalf("read %d rejected %d", imp.Read, imp.Rejected)
	}
}
