package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"runtime"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/email"
)

// DKIM: the limit with signing on is the rate at which this machine can build and RSA-sign
// notices, with the product's own code (email.Build with a DKIM, which signs with go-msgauth),
// on every core. Signing is CPU-bound, so the worker, which also talks to PostgreSQL, Redis
// and the sink, can at best approach it.

// The DKIM identity of the benchmark's key; no DNS is involved, the sink does not verify.
const (
	dkimDomain   = "notificaciones.andinatel.com.pe"
	dkimSelector = "bn2026"
)

// writeDKIMKey generates an RSA-2048 key and writes it as PEM to path (for DKIM_KEY_FILE).
func writeDKIMKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// signingRate builds and signs n notices taken in turn from ms (each to its own address) on
// GOMAXPROCS goroutines with the key in keyFile, loaded as the worker loads it, and returns
// messages per second.
func signingRate(keyFile string, ms []email.Message, n int) (float64, error) {
	d, err := email.LoadDKIM(dkimDomain, dkimSelector, keyFile)
	if err != nil {
		return 0, err
	}
	return parallelRate(n, runtime.GOMAXPROCS(0), func(i, _ int) error {
		msg := ms[i%len(ms)]
		msg.To = "signed" + strconv.Itoa(i) + "@example.com"
		_, err := email.Build(msg, d)
		return err
	})
}
