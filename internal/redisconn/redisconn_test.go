package redisconn

import (
	"slices"
	"strings"
	"testing"
)

func TestParse_SingleServerForms(t *testing.T) {
	for _, tc := range []struct {
		url, network, addr, password string
		db                           int
		tls                          bool
	}{
		{"redis://127.0.0.1:6379/2", "tcp", "127.0.0.1:6379", "", 2, false},
		{"rediss://:s3cret@cache.example:6380", "tcp", "cache.example:6380", "s3cret", 0, true},
		{"unix://:s3cret@/run/redis.sock?db=3", "unix", "/run/redis.sock", "s3cret", 3, false},
		// asynq's spelling of a socket.
		{"redis-socket://:s3cret@/run/redis.sock?db=3", "unix", "/run/redis.sock", "s3cret", 3, false},
	} {
		o, err := Parse(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		s := o.Single
		if s == nil || o.Failover != nil || o.Cluster != nil {
			t.Errorf("%s: %+v, want a single server", tc.url, o)
			continue
		}
		if s.Network != tc.network || s.Addr != tc.addr || s.Password != tc.password || s.DB != tc.db || (s.TLSConfig != nil) != tc.tls {
			t.Errorf("%s: %s %s password %q db %d tls %v", tc.url, s.Network, s.Addr, s.Password, s.DB, s.TLSConfig != nil)
		}
	}
}

func TestParse_SentinelFollowsAsynqsForm(t *testing.T) {
	// asynq.ParseRedisURI's form, with a database, the primary's password and a go-redis option.
	o, err := Parse("redis-sentinel://:sentinel-pw@10.0.0.1:26379,10.0.0.2:26380,sentinel3.example,[::1]:26381/4?master=notices&password=primary-pw&dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	f := o.Failover
	if f == nil || o.Single != nil || o.Cluster != nil {
		t.Fatalf("%+v, want a failover client", o)
	}
	want := []string{"10.0.0.1:26379", "10.0.0.2:26380", "sentinel3.example:26379", "[::1]:26381"}
	if !slices.Equal(f.SentinelAddrs, want) {
		t.Errorf("sentinels %v, want %v", f.SentinelAddrs, want)
	}
	if f.MasterName != "notices" || f.SentinelPassword != "sentinel-pw" || f.Password != "primary-pw" || f.DB != 4 || f.DialTimeout.Seconds() != 2 {
		t.Errorf("master %q, sentinel password %q, password %q, db %d, dial timeout %v", f.MasterName, f.SentinelPassword, f.Password, f.DB, f.DialTimeout)
	}
	if f.TLSConfig != nil {
		t.Error("redis-sentinel:// uses TLS")
	}
	if s := o.String(); strings.Contains(s, "pw") || !strings.Contains(s, "notices") {
		t.Errorf("String() = %q: want the primary's name and no password", s)
	}

	// go-redis's name for the primary works too, and rediss- means TLS.
	o, err = Parse("rediss-sentinel://s1:26379?master_name=notices")
	if err != nil {
		t.Fatal(err)
	}
	if o.Failover.MasterName != "notices" || o.Failover.TLSConfig == nil {
		t.Errorf("rediss-sentinel: master %q, tls %v", o.Failover.MasterName, o.Failover.TLSConfig != nil)
	}
}

func TestParse_Cluster(t *testing.T) {
	o, err := Parse("redis-cluster://:cluster-pw@10.0.0.1:7000,10.0.0.2:7001,node3.example?pool_size=20")
	if err != nil {
		t.Fatal(err)
	}
	c := o.Cluster
	if c == nil || o.Single != nil || o.Failover != nil {
		t.Fatalf("%+v, want a cluster client", o)
	}
	if want := []string{"10.0.0.1:7000", "10.0.0.2:7001", "node3.example:6379"}; !slices.Equal(c.Addrs, want) {
		t.Errorf("nodes %v, want %v", c.Addrs, want)
	}
	if c.Password != "cluster-pw" || c.PoolSize != 20 || c.TLSConfig != nil {
		t.Errorf("password %q, pool size %d, tls %v", c.Password, c.PoolSize, c.TLSConfig != nil)
	}
	if o, err := Parse("rediss-cluster://n1:7000"); err != nil || o.Cluster.TLSConfig == nil {
		t.Errorf("rediss-cluster: %v, want TLS", err)
	}
}

func TestParse_ErrorsSayWhatIsWrongAndNeverThePassword(t *testing.T) {
	for url, want := range map[string]string{
		"redis-sentinel://:hunter2@10.0.0.1:26379,10.0.0.2:26379": "?master=NAME",
		"redis-sentinel://:hunter2@10.0.0.1:26379,,10.0.0.2":      "empty address",
		"redis-cluster://:hunter2@10.0.0.1:7000/3":                "only database 0",
		"redis-cluster://:hunter2@10.0.0.1:7000?bogus=1":          "unexpected option: bogus",
		"memcached://:hunter2@10.0.0.1:11211":                     "is not one of",
		"redis://:hunter2@10.0.0.1:6379/x":                        "invalid database number",
		"redis://:hunter2@10.0.0.1:6379 /0":                       "not a URL",
		"127.0.0.1:6379":                                          "not a URL",
	} {
		_, err := Parse(url)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", url, err, want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error %q shows the password", url, err)
		}
	}
}
