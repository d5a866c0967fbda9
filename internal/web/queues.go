package web

import (
	"net/http"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
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
