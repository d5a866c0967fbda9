package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/redisconn"
	"github.com/breachnotice/breachnotice/internal/redistest"
)

// The queues and the shared rate limits reach Redis through a Sentinel (REDIS_URL
// redis-sentinel://…?master=NAME); the primary is failed over while the campaign sends. Writes
// the old primary took but had not yet replicated are lost in a failover — PostgreSQL is the
// record and the reconciler queues again what Redis lost — and no notice may go twice.
func TestSend_RedisPrimaryFailedOverMidCampaignLosesNothingSendsNothingTwice(t *testing.T) {
	ha := redistest.StartSentinel(t)
	w := newWorld(t)
	opt, err := redisconn.Parse(ha.URL)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Failover == nil {
		t.Fatalf("%s parsed as %s, want a failover client", ha.URL, opt)
	}
	w.rdb = opt.NewClient()
	t.Cleanup(func() { w.rdb.Close() })
	before, err := ha.Primary(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	w.cfg.EmailRate = 200 // about 5 s for the campaign: time to fail over in the middle
	const n = 1200
	c := w.campaign(n, nil)
	// A patient SMTP client: on a loaded machine the sink's reply to the end of data can come
	// after the harness's 2 s, and the message is then sent again — SMTP's own ambiguity, not
	// the failover's, which is all this test counts.
	mail := email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: time.Minute}, nil, 8)
	t.Cleanup(func() { mail.Close() })
	stop := w.run(w.engine(mail))
	defer stop()
	started := time.Now()
	w.start(c)
	w.wait(c, time.Minute, "a quarter sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > n/4
	})
	began := time.Now()
	ha.Failover(t)
	failedOver := time.Now()
	t.Logf("a quarter sent in %v; the failover took %v", began.Sub(started).Round(time.Millisecond), failedOver.Sub(began).Round(time.Millisecond))
	after, err := ha.Primary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatalf("the primary is still %s after the failover", after)
	}
	if s := w.wait(c, time.Second, "read", func(*breach.CampaignStatus) bool { return true }); s.State == breach.CampaignCompleted {
		t.Fatal("the campaign completed before the failover ended; nothing tested")
	}

	w.wait(c, 2*time.Minute, "completed", completed)
	t.Logf("completed %v after the failover", time.Since(failedOver).Round(time.Millisecond))
	w.assertEachOnce(n)
	for phone, got := range w.twilio.counts() {
		if got != 1 {
			t.Errorf("%s: %d text messages, want 1", phone, got)
		}
	}
	var sentAfter int
	for _, m := range w.sink.Messages() {
		if m.At.After(failedOver) {
			sentAfter++
		}
	}
	if sentAfter == 0 {
		t.Error("no email went out after the failover: the engine did not carry on with the new primary")
	}
	// The engine's queue is on the new primary now.
	if err := w.rdb.Ping(context.Background()).Err(); err != nil {
		t.Errorf("ping through the Sentinel after the failover: %v", err)
	}
}

// The queues and the shared rate limits on a Redis Cluster (REDIS_URL redis-cluster://…):
// asynq keeps each queue's keys in one hash slot, and each rate limit is one key.
func TestSend_OnARedisClusterEachGetsOneNoticeAtTheSharedRate(t *testing.T) {
	cl := redistest.StartCluster(t)
	w := newWorld(t)
	opt, err := redisconn.Parse(cl.URL)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Cluster == nil {
		t.Fatalf("%s parsed as %s, want a cluster client", cl.URL, opt)
	}
	w.rdb = opt.NewClient()
	t.Cleanup(func() { w.rdb.Close() })
	// 300 emails at 100/s take at least 2 s (the bucket allows one second's burst) when the
	// limit in the cluster holds.
	w.cfg.EmailRate = 100
	const n = 375 // 300 with an email
	c := w.campaign(n, nil)
	mail := email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: time.Minute}, nil, 8)
	t.Cleanup(func() { mail.Close() })
	stop := w.run(w.engine(mail))
	defer stop()
	start := time.Now()
	w.start(c)
	w.wait(c, 2*time.Minute, "completed", completed)
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("300 emails at 100/s took %v, want at least 2 s", took)
	}
	w.assertEachOnce(n)
}
