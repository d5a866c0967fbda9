package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/redisconn"
	"github.com/breachnotice/breachnotice/internal/redistest"
)

// A sending process refuses to start, saying why, when its Redis cannot be used: a worker
// started without one said "worker started" and then logged the same error twenty times a
// second (acceptance walk: an unknown Sentinel master name, a port nothing listens on).
func TestCheckRedis_RefusesWhatCannotBeUsedAndSaysWhy(t *testing.T) {
	ha := redistest.StartSentinel(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		url, want string
	}{
		{ha.URL, ""},
		{strings.Replace(ha.URL, "master="+redistest.MasterName, "master=nosuch", 1), "know no primary"},
		{"redis://" + closed + "/0", "no answer from Redis within"},
	} {
		opt, err := redisconn.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		rdb := opt.NewClient()
		start := time.Now()
		err = checkRedis(t.Context(), rdb, 2*time.Second)
		rdb.Close()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want it used", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		case time.Since(start) > 10*time.Second:
			t.Errorf("%s: answered after %v", tc.url, time.Since(start))
		}
	}
}
