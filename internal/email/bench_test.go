package email

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkSendToSink measures the raw rate of go-mail to an in-process go-smtp sink over 8
// connections: the bound that DESIGN's end-to-end send target is measured against.
func BenchmarkSendToSink(b *testing.B) {
	snk := newSink(b)
	snk.discard = true
	s := NewSender(snk.config(), nil, 8)
	defer s.Close()

	var n atomic.Int64
	b.SetParallelism(16) // enough goroutines to keep 8 connections busy on any core count
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			to := fmt.Sprintf("customer%d@example.net", n.Add(1))
			if _, err := s.Send(context.Background(), testMessage(to)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDKIMSign measures building and RSA-2048-signing messages on every core: signing is
// CPU-bound, so this bounds the send rate with DKIM on.
func BenchmarkDKIMSign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := &DKIM{Domain: "example.com", Selector: "sel", Signer: key}
	m := testMessage("customer@example.net")

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Build(m, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBuildNotice measures building one real notice (the example campaign's, in Spanish
// and in Korean) without DKIM: the worker builds one per customer.
func BenchmarkBuildNotice(b *testing.B) {
	for _, locale := range []string{"es-PE", "ko-KR"} {
		b.Run(locale, func(b *testing.B) {
			m := exampleNotice(b, locale)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(m, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuildNoticeReused is BenchmarkBuildNotice into a reused buffer, as Sender builds
// (its buffers are pooled): what building costs per notice once the buffers are warm.
func BenchmarkBuildNoticeReused(b *testing.B) {
	for _, locale := range []string{"es-PE", "ko-KR"} {
		b.Run(locale, func(b *testing.B) {
			m := exampleNotice(b, locale)
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				raw, _, _, err := render(buf[:0], m, nil)
				if err != nil {
					b.Fatal(err)
				}
				buf = raw
			}
		})
	}
}
