// Package metrics is breachnotice's Prometheus instrumentation: one registry per process (not
// the client library's global one, so that tests and commands never share counters), the
// collectors on it, and the /metrics handler served on METRICS_ADDR.
//
// A *Metrics is passed to what it measures (the sending engine, the API's webhooks, the
// importer, the HTTP handler); a nil *Metrics is valid and measures nothing, which is how
// metrics are off (METRICS_ADDR unset) and how the packages' own tests run.
//
// Labels are bounded and carry no personal data: channel, state, result, the route pattern a
// ServeMux matched (never the path, which holds campaign IDs, tokens and customer IDs) and the
// status code. Nothing here ever sees an address, a name or a customer ID.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of breachnotice's own.
const Namespace = "breachnotice"

// Notice states counted by NoticesTotal: the changes of a delivery's state that an on-call
// engineer watches. Retried is a transient failure put back in the queue (queued again).
const (
	StateSent       = "sent"
	StateDelivered  = "delivered"
	StateBounced    = "bounced"
	StateFailed     = "failed"
	StateSuppressed = "suppressed"
	StateRetried    = "retried"
)

// States lists the notice states, in the order dashboards show them.
var States = []string{StateSent, StateDelivered, StateBounced, StateFailed, StateSuppressed, StateRetried}

// Metrics holds a process's registry and breachnotice's own collectors. Build it with New;
// nil is off.
type Metrics struct {
	reg *prometheus.Registry

	notices      *prometheus.CounterVec
	sendDuration *prometheus.HistogramVec
	importRows   *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	rateWait     *prometheus.HistogramVec
}

// New returns the metrics of one process, with the Go runtime's and the process's own
// collectors registered. channels are the delivery channels whose counters start at zero (so
// that a dashboard's rate() sees a series before the first notice).
func New(channels ...string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "notices_total",
			Help: "Changes of a notice's state recorded in PostgreSQL, by channel and new state (sent, delivered, bounced, failed, suppressed, retried).",
		}, []string{"channel", "state"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "send_duration_seconds",
			Help:    "Round trip of handing one notice to its provider (the SMTP transaction, Twilio's API call), by channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"channel"}),
		importRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "import_rows_total",
			Help: "Rows of completed customer-list imports, by result (accepted, rejected, merged).",
		}, []string{"result"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP requests to the API, console, opt-out pages and webhooks, by route pattern (never the path) and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		rateWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "rate_limit_wait_seconds",
			Help:    "Time a notice waited for the shared send rate (EMAIL_RATE, SMS_RATE, EMAIL_DOMAIN_RATES) before it could go, by channel.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.notices, m.sendDuration, m.importRows, m.httpDuration, m.rateWait,
	)
	for _, ch := range channels {
		for _, st := range States {
			m.notices.WithLabelValues(ch, st)
		}
	}
	for _, r := range []string{"accepted", "rejected", "merged"} {
		m.importRows.WithLabelValues(r)
	}
	return m
}

// Registry is the registry the collectors are on, for collectors of other packages (the
// database pool's, the queues').
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Register adds a collector; on nil Metrics it does nothing.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Notices counts n changes of notices on channel to state.
func (m *Metrics) Notices(channel, state string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.notices.WithLabelValues(channel, state).Add(float64(n))
}

// SendDuration observes one provider round trip on channel.
func (m *Metrics) SendDuration(channel string, d time.Duration) {
	if m == nil {
		return
	}
	m.sendDuration.WithLabelValues(channel).Observe(d.Seconds())
}

// RateLimitWait observes how long one notice on channel waited for the shared rate.
func (m *Metrics) RateLimitWait(channel string, d time.Duration) {
	if m == nil {
		return
	}
	m.rateWait.WithLabelValues(channel).Observe(d.Seconds())
}

// ImportRows counts a completed import's rows.
func (m *Metrics) ImportRows(accepted, rejected, merged int64) {
	if m == nil {
		return
	}
	m.importRows.WithLabelValues("accepted").Add(float64(accepted))
	m.importRows.WithLabelValues("rejected").Add(float64(rejected))
	m.importRows.WithLabelValues("merged").Add(float64(merged))
}

// observeRequest observes one HTTP request.
func (m *Metrics) observeRequest(route string, code int, d time.Duration) {
	m.httpDuration.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format (or OpenMetrics, when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}
