package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The public probe shares one round of checks between the requests of a second: a flood of
// /readyz is not a flood of database queries.
func TestReadyz_OneRoundOfChecksAnswersTheProbesOfASecond(t *testing.T) {
	var rounds atomic.Int32
	s := &Server{Log: slog.New(slog.DiscardHandler), Ready: []ReadyCheck{{Name: "postgres", Check: func(context.Context) error {
		rounds.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	}}}}
	probe := func() int {
		w := httptest.NewRecorder()
		s.readyz(w, httptest.NewRequest("GET", "/readyz", nil))
		return w.Code
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if code := probe(); code != http.StatusOK {
				t.Errorf("/readyz: %d", code)
			}
		})
	}
	wg.Wait()
	if n := rounds.Load(); n != 1 {
		t.Errorf("50 probes at once ran %d rounds of checks, want 1", n)
	}
	time.Sleep(readyReuse + 50*time.Millisecond)
	probe()
	if n := rounds.Load(); n != 2 {
		t.Errorf("a probe after %s ran %d rounds in all, want 2", readyReuse, n)
	}
}
