// Package logtest gives a test a log it can read while the code under test writes to it from
// many goroutines (HTTP handlers, several engines): every write and every read takes one lock.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer for a slog handler whose content a test reads with String. Its zero
// value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
