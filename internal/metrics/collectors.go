package metrics

import (
	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// WatchQueues registers asynq's own queue collector (asynq_queue_size, asynq_queue_latency_seconds,
// asynq_tasks_enqueued_total{queue,state}, …) on the queues in rdb. The queues are named per
// channel, never per campaign or customer, so its labels stay bounded. rdb stays the caller's to
// close. On nil Metrics it does nothing.
func (m *Metrics) WatchQueues(rdb redis.UniversalClient) error {
	if m == nil || rdb == nil {
		return nil
	}
	return m.reg.Register(asynqmetrics.NewQueueMetricsCollector(asynq.NewInspectorFromRedisClient(rdb)))
}

// WatchPool registers a collector of the PostgreSQL connection pool's use, read from stat at
// each scrape: connections acquired, idle, open and allowed, and the acquisitions that had to
// wait for one (the sign that the pool, not the database, is the bottleneck). On nil Metrics
// it does nothing.
func (m *Metrics) WatchPool(stat func() *pgxpool.Stat) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(poolCollector{stat: stat})
}

// poolCollector turns pgxpool.Stat into metrics.
type poolCollector struct{ stat func() *pgxpool.Stat }

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db_pool", name), help, nil, nil)
}

var (
	poolAcquired      = poolDesc("acquired_connections", "Connections of the PostgreSQL pool in use now.")
	poolIdle          = poolDesc("idle_connections", "Idle connections of the PostgreSQL pool.")
	poolTotal         = poolDesc("total_connections", "Connections the PostgreSQL pool holds (in use, idle and being opened).")
	poolMax           = poolDesc("max_connections", "The most connections the PostgreSQL pool may hold (pool_max_conns).")
	poolAcquires      = poolDesc("acquires_total", "Connections acquired from the PostgreSQL pool.")
	poolAcquireSecs   = poolDesc("acquire_duration_seconds_total", "Time spent acquiring connections from the PostgreSQL pool.")
	poolWaits         = poolDesc("acquire_waits_total", "Acquisitions that found no idle connection and had to wait for one.")
	poolWaitSecs      = poolDesc("acquire_wait_duration_seconds_total", "Time spent by acquisitions that had to wait for a connection.")
	poolCanceled      = poolDesc("canceled_acquires_total", "Acquisitions given up because their context ended.")
	poolNewConnsTotal = poolDesc("new_connections_total", "Connections the PostgreSQL pool has opened.")
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolAcquireSecs,
		poolWaits, poolWaitSecs, poolCanceled, poolNewConnsTotal} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	if s == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolAcquireSecs, s.AcquireDuration().Seconds())
	counter(poolWaits, float64(s.EmptyAcquireCount()))
	counter(poolWaitSecs, s.EmptyAcquireWaitTime().Seconds())
	counter(poolCanceled, float64(s.CanceledAcquireCount()))
	counter(poolNewConnsTotal, float64(s.NewConnsCount()))
}
