package dispatch

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/redistest"
)

// slowRedis is a TCP proxy to the test's Redis that holds each answer for delay: a Redis a
// long way off, or struggling. It returns the client.
func slowRedis(t *testing.T, delay time.Duration) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(redistest.URL(t, redisDB))
	if err != nil {
		t.Fatal(err)
	}
	target := opt.Addr
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(r, c); r.Close() }()
			go func() {
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := r.Read(buf)
					if n > 0 {
						time.Sleep(delay)
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	opt.Addr = l.Addr().String()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// A shared rate holds its pace with Redis 100 ms away: a bucket asks for what the round trip
// takes at the rate, not a fixed twentieth of a second's worth — which held 200 a second to 100
// here, and to 2.4 with Redis 2 s away (a review).
func TestBucket_KeepsItsRateWithASlowRedis(t *testing.T) {
	rdb := slowRedis(t, 100*time.Millisecond)
	key := "breachnotice:test:rate:" + t.Name() + time.Now().Format("150405.000000")
	b := newBucket(redis_rate.NewLimiter(rdb), key, 200)
	ctx := context.Background()
	for range 250 { // the burst a fresh key allows, and then some: the pace is steady after
		if err := b.take(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start, n := time.Now(), 0
	for time.Since(start) < 3*time.Second {
		if err := b.take(ctx); err != nil {
			t.Fatal(err)
		}
		n++
	}
	// 600 at the rate; a twentieth of a second's worth per round trip gave about 290.
	t.Logf("%d tokens in 3 s with Redis 100 ms away (rate 200/s)", n)
	if n < 420 {
		t.Errorf("%d tokens in 3 s at a rate of 200 a second, want 420 or more: the round trip held the rate down", n)
	}
	if n > 680 {
		t.Errorf("%d tokens in 3 s at a rate of 200 a second: the shared rate was not kept", n)
	}
}
