package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinel of StartSentinel knows the primary by.
const MasterName = "notices"

// HA is a primary, its replica and a Sentinel watching them, each a redis-server process of
// the test's own on a free port: a test can fail the primary over without touching the
// shared test server.
type HA struct {
	// URL is the REDIS_URL that reaches the primary through the Sentinel.
	URL              string
	primary, replica string
	sentinel         string
	sentinelCtl      *redis.SentinelClient
	*servers
}

// StartSentinel starts an HA set in a temporary directory and waits until the Sentinel knows
// the replica is in sync, so that it can be promoted. It skips the test when redis-server is
// not installed (scripts/services.sh installs it; on Debian the same binary is the Sentinel,
// run with --sentinel). The processes stop with the test.
func StartSentinel(tb testing.TB) *HA {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed (apt-get install redis-server redis-sentinel, or run scripts/services.sh): the Sentinel failover test needs it")
	}
	h := &HA{servers: &servers{dir: tb.TempDir()}}
	ports := freePorts(tb, 3)
	h.primary, h.replica, h.sentinel = addr(ports[0]), addr(ports[1]), addr(ports[2])
	tb.Cleanup(func() {
		if h.sentinelCtl != nil {
			h.sentinelCtl.Close()
		}
		h.stop()
	})
	common := "bind 127.0.0.1\nsave \"\"\nappendonly no\nprotected-mode no\n"
	h.start(tb, bin, "primary", fmt.Sprintf("port %d\n%s", ports[0], common), h.dir)
	h.start(tb, bin, "replica", fmt.Sprintf("port %d\n%sreplicaof 127.0.0.1 %d\n", ports[1], common, ports[0]), h.dir)
	// A long down-after: only the test's SENTINEL FAILOVER moves the primary, never a slow
	// machine's missed ping.
	h.start(tb, bin, "sentinel", fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\n"+
		"sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %[2]s 30000\nsentinel failover-timeout %[2]s 10000\n",
		ports[2], MasterName, ports[0]), h.dir, "--sentinel")
	h.sentinelCtl = redis.NewSentinelClient(&redis.Options{Addr: h.sentinel})
	h.URL = fmt.Sprintf("redis-sentinel://%s?master=%s", h.sentinel, MasterName)

	h.waitFor(tb, 20*time.Second, "the Sentinel to see the replica in sync", func(ctx context.Context) bool {
		replicas, err := h.sentinelCtl.Replicas(ctx, MasterName).Result()
		if err != nil {
			return false
		}
		for _, r := range replicas {
			if r["name"] == h.replica && r["flags"] == "slave" && r["master-link-status"] == "ok" {
				return true
			}
		}
		return false
	})
	return h
}

// Primary is the address the Sentinel gives for the primary now.
func (h *HA) Primary(ctx context.Context) (string, error) {
	a, err := h.sentinelCtl.GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel get-master-addr-by-name: %w", err)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// Failover has the Sentinel promote the replica (SENTINEL FAILOVER) and waits until it names
// the replica as the primary. The Sentinel makes the old primary a replica of the new one a
// few seconds later; until then, a client that has not yet heard of the switch may still write
// to it, and those writes are lost, as in a real failover.
func (h *HA) Failover(tb testing.TB) {
	tb.Helper()
	if err := h.sentinelCtl.Failover(context.Background(), MasterName).Err(); err != nil {
		tb.Fatalf("sentinel failover: %v%s", err, h.logs())
	}
	h.waitFor(tb, 30*time.Second, "the replica promoted", func(ctx context.Context) bool {
		p, err := h.Primary(ctx)
		return err == nil && p == h.replica
	})
}
