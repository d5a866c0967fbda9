package importer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// BenchmarkParse measures the parse pipeline alone (decode, split, validate, E.164), with the
// store's side reduced to discarding batches; b.N rows.
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
	imp := &breach.Import{}
	err = im.parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, imp, &buf, Options{},
		func(context.Context, *breach.ImportBatch) error { return nil },
		func(context.Context, int64) {})
	if err != nil {
		b.Fatal(err)
	}
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
	imp := &breach.Import{}
	err = im.parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, imp, &buf, Options{},
		func(context.Context, *breach.ImportBatch) error { return nil },
		func(context.Context, int64) {})
	if err != nil {
		b.Fatal(err)
	}
	if imp.Read != int64(b.N) || imp.Rejected != 0 {
		b.Fatalf("read %d rejected %d", imp.Read, imp.Rejected)
	}
}
