package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/email"
)

// DKIM: the limit with signing on is the rate at which this machine can build, RSA-sign and
// send notices to the sink: the product's own builder and signer (email.Build with a DKIM, which
// signs with go-msgauth) on every core, feeding the raw client's connections (pipelineRate).
// The worker, which also talks to PostgreSQL and Redis, can at best approach it.

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

// rawDKIMRate builds, signs (with the key in keyFile, loaded as the worker loads it) and sends
// to the sink at addr n notices taken in turn from ms, each to its own address, and returns
// messages per second.
func rawDKIMRate(ctx context.Context, addr, keyFile string, ms []email.Message, n, conns int) (float64, error) {
	d, err := email.LoadDKIM(dkimDomain, dkimSelector, keyFile)
	if err != nil {
		return 0, err
	}
	return pipelineRate(ctx, addr, ms[0].From, n, conns, func(i int) ([]byte, error) {
		msg := ms[i%len(ms)]
		msg.To = "signed" + strconv.Itoa(i) + "@example.com"
		return email.Build(msg, d)
	})
}
