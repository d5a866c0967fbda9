package web

import (
	"net/http"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
)

// sharedRedis hands asynqmon a Redis client the caller already has (the engine's, which may
// be the in-process Redis of `breachnotice run`), instead of a second connection to set up.
type sharedRedis struct{ redis.UniversalClient }

func (s sharedRedis) MakeRedisClient() any { return s.UniversalClient }

// Queues returns the queue dashboard (asynqmon) on rdb, to serve under QueuesPath (set it as
// Server.Queues). It shows the sending engine's tasks; PostgreSQL, not the queue, is the
// record of what was sent. rdb stays the caller's to close.
func Queues(rdb redis.UniversalClient) http.Handler {
	return asynqmon.New(asynqmon.Options{RootPath: QueuesPath, RedisConnOpt: sharedRedis{rdb}})
}

// auditQueues writes an audit row for every request to the queue dashboard that is not a
// read — deleting a queue, running, archiving or cancelling tasks — as "queues.<method>"
// with the path, which names queues and task IDs only (payloads carry IDs, never personal
// data). The row is written after the dashboard answered, with its status, so that a refused
// change reads as one.
func (s *Server) auditQueues(next http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		rec := &api.StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
		next.ServeHTTP(rec, r)
		method := strings.ToLower(r.Method)
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			method = "other" // a method name is the client's text: kept out of the action's name
		}
		s.audit(r, breach.ActionQueuesPrefix+method, "", map[string]any{"path": r.URL.Path, "status": rec.Status})
	}
}
