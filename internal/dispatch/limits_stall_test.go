package dispatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/redistest"
)

// While Redis stalls, a send waiting for a bucket that another send is asking Redis for
// leaves when its own deadline passes, not when Redis answers the other.
func TestBucket_AWaiterLeavesAtItsDeadlineWhileRedisStalls(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t, redisDB))
	if err != nil {
		t.Fatal(err)
	}
	rdb, admin := redis.NewClient(opt), redis.NewClient(opt)
	defer rdb.Close()
	defer admin.Close()
	b := newBucket(redis_rate.NewLimiter(rdb), "breachnotice:test:stall", 1)
	if err := rdb.Ping(t.Context()).Err(); err != nil { // connected before the pause
		t.Fatal(err)
	}

	const pause = 2 * time.Second
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		held <- b.take(ctx) // asks the paused Redis
	}()
	time.Sleep(200 * time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = b.take(ctx)
	waited := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want its deadline's error", err)
	}
	if waited > time.Second {
		t.Errorf("waiter left after %v, its deadline was 100ms (Redis paused for %v)", waited, pause)
	}
	if err := <-held; err != nil {
		t.Errorf("the send asking Redis: %v, want its token once Redis answers", err)
	}
}
