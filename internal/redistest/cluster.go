package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three primaries (no replicas), each a redis-server process of
// the test's own on a free port.
type Cluster struct {
	// URL is the REDIS_URL that reaches the cluster.
	URL string
	*servers
}

// StartCluster starts a three-node cluster in a temporary directory, gives each node a third
// of the hash slots and waits until every node reports the cluster ok. It skips the test when
// redis-server is not installed. The processes stop with the test.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed (apt-get install redis-server, or run scripts/services.sh): the Cluster test needs it")
	}
	c := &Cluster{servers: &servers{dir: tb.TempDir()}}
	tb.Cleanup(c.stop)
	ports := freePorts(tb, 3)
	var addrs []string
	for i, p := range ports {
		name := fmt.Sprintf("node%d", i)
		if err := os.Mkdir(filepath.Join(c.dir, name), 0o700); err != nil {
			tb.Fatal(err)
		}
		c.start(tb, bin, name, fmt.Sprintf("port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\nprotected-mode no\n"+
			"cluster-enabled yes\ncluster-config-file nodes.conf\n", p), filepath.Join(c.dir, name))
		addrs = append(addrs, addr(p))
	}
	c.URL = "redis-cluster://" + strings.Join(addrs, ",")

	ctx := context.Background()
	nodes := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: a})
		defer nodes[i].Close()
	}
	c.waitFor(tb, 20*time.Second, "the nodes to answer", func(ctx context.Context) bool {
		for _, n := range nodes {
			if n.Ping(ctx).Err() != nil {
				return false
			}
		}
		return true
	})
	const slots = 16384
	for i, n := range nodes {
		first, last := i*slots/len(nodes), (i+1)*slots/len(nodes)-1
		if err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err(); err != nil {
			tb.Fatalf("cluster addslotsrange on %s: %v%s", addrs[i], err, c.logs())
		}
		if i > 0 {
			host, port, _ := net.SplitHostPort(addrs[i])
			if err := nodes[0].ClusterMeet(ctx, host, port).Err(); err != nil {
				tb.Fatalf("cluster meet %s: %v", addrs[i], err)
			}
		}
	}
	c.waitFor(tb, 30*time.Second, "the cluster ok on every node", func(ctx context.Context) bool {
		for _, n := range nodes {
			info, err := n.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				return false
			}
		}
		return true
	})
	return c
}
