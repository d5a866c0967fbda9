package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// ReadyCheck is one dependency the readiness probe asks: PostgreSQL, Redis, the schema's
// migrations. Check answers nil when the dependency is ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// ReadyTimeout bounds each readiness check: a dependency that hangs makes the probe answer 503
// within it, not hang the probe (and the orchestrator's view of every replica) with it.
const ReadyTimeout = 2 * time.Second

// readyBody is /readyz's answer: "ready" or "unavailable", and each check's "ok" or why not.
type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz answers 200 when every ReadyCheck passes and 503 naming those that failed. Unlike
// /healthz (the process answers: liveness, restart it if not), it says whether this process
// should be sent traffic now. A failure is named with the application's own message when it
// has one for a state that passes (EUNAVAILABLE: a schema behind the binary) and only
// "unavailable" or "failed" otherwise: the probe is public, and a driver's error names hosts
// and ports, a secret's refusal who bound the database; the log gets the detail.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status, body := s.readiness.get(func() (int, readyBody) { return s.checkReady(context.WithoutCancel(r.Context())) })
	writeJSON(w, status, body)
}

// readyReuse is how long one round of readiness checks answers every /readyz: the probe is
// public, and each round costs a PostgreSQL query, a Redis ping and the secret's check — a
// client asking thousands of times a second must not turn into as many queries. An
// orchestrator probes every few seconds: a second's delay in seeing a change is nothing to it.
const readyReuse = time.Second

// readyCache shares one round of readiness checks between the requests of readyReuse; requests
// that come while a round runs wait for it.
type readyCache struct {
	mu     sync.Mutex
	at     time.Time
	status int
	body   readyBody
}

func (c *readyCache) get(check func() (int, readyBody)) (int, readyBody) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= readyReuse {
		c.status, c.body = check()
		c.at = time.Now()
	}
	return c.status, c.body
}

// checkReady runs every ReadyCheck at once, each within ReadyTimeout.
func (s *Server) checkReady(ctx context.Context) (int, readyBody) {
	body := readyBody{Status: "ready", Checks: make(map[string]string, len(s.Ready))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, c := range s.Ready {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
			defer cancel()
			err := c.Check(ctx)
			verdict := "ok"
			switch {
			case err == nil:
			case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
				verdict = "no answer within " + ReadyTimeout.String()
			case breach.ErrorCode(err) == breach.EUNAVAILABLE:
				verdict = breach.ErrorMessage(err)
			case breach.ErrorCode(err) != breach.EINTERNAL:
				// A refusal (the secret is not the database's) may name hosts, accounts and
				// campaigns: the log has it.
				verdict = "failed: see the log"
			default:
				verdict = "unavailable"
			}
			if err != nil {
				s.Log.Warn("not ready", "check", c.Name, "err", err)
			}
			mu.Lock()
			body.Checks[c.Name] = verdict
			if err != nil {
				body.Status = "unavailable"
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	status := http.StatusOK
	if body.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	return status, body
}
