// Package metrics exposes what the koha-webhooks daemon does as Prometheus
// metrics: notices by outcome, delivery latency, POST durations, attempts,
// token requests, retries waiting, pending notices and passes. Every metric
// carries an "instance" label naming the Koha instance.
//
// Instance implements the pass package's Observer, so a pass reports each
// POST and each recorded outcome as it happens. The daemon reports whole
// passes, the retry backlog and the database session's time zone.
package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "koha_webhooks"

// Config configures Metrics. New applies the defaults.
type Config struct {
	// Registry receives the collectors and is what Handler serves. Nil
	// selects a new registry that also contains the Go runtime and process
	// collectors.
	Registry *prometheus.Registry
	// LatencyBuckets are the upper bounds, in seconds, of the histogram of
	// time from queueing to delivery. Nil selects 1s to about 3 days,
	// spanning the default retry schedule.
	LatencyBuckets []float64
	// DurationBuckets are the upper bounds, in seconds, of the histograms
	// of POST and pass durations. Nil selects 5ms to 60s.
	DurationBuckets []float64
	// Now returns the current time, for the latency histogram. Nil selects
	// time.Now.
	Now func() time.Time
}

// Default histogram buckets, in seconds.
var (
	defaultLatencyBuckets  = []float64{1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600, 24 * 3600, 72 * 3600}
	defaultDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	attemptBuckets         = []float64{1, 2, 3, 4, 5, 6, 8, 10, 15}
)

// Metrics holds the collectors shared by every instance.
type Metrics struct {
	registry *prometheus.Registry
	now      func() time.Time

	notices        *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	postDuration   *prometheus.HistogramVec
	posts          *prometheus.CounterVec
	attempts       *prometheus.HistogramVec
	tokenRequests  *prometheus.CounterVec
	tokenFailures  *prometheus.CounterVec
	retriesWaiting *prometheus.GaugeVec
	pending        *prometheus.GaugeVec
	passes         *prometheus.CounterVec
	passErrors     *prometheus.CounterVec
	passDuration   *prometheus.HistogramVec
	up             *prometheus.GaugeVec
}

// New applies the defaults to cfg, creates the collectors and registers
// them.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.LatencyBuckets == nil {
		cfg.LatencyBuckets = defaultLatencyBuckets
	}
	if cfg.DurationBuckets == nil {
		cfg.DurationBuckets = defaultDurationBuckets
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Metrics{registry: cfg.Registry, now: cfg.Now}
	m.define(cfg)
	for _, c := range m.collectors() {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) define(cfg Config) {
	m.notices = counter("notices_total",
		"Notices by recorded outcome: sent, retry, auth_failed, failed, parse_error, no_data, skipped or returned (to Koha).",
		"instance", "outcome", "letter_code", "transport")
	m.latency = histogram("delivery_latency_seconds",
		"Time from message_queue.time_queued to the accepted POST, retries included.", cfg.LatencyBuckets)
	m.postDuration = histogram("post_duration_seconds",
		"Duration of one delivery to the notice URL, including the wait for a token and a free connection.", cfg.DurationBuckets)
	m.posts = counter("delivery_attempts_total",
		"Delivery attempts (POSTs) by result: success or the failure kind (timeout, http_server, http_client, auth, …).",
		"instance", "result")
	m.attempts = histogram("notice_attempts",
		"Attempts a notice took until it was finally sent or failed.", attemptBuckets)
	m.tokenRequests = counter("token_requests_total",
		"Requests to the OAuth2 token endpoint by result: success (2xx) or failure.", "instance", "result")
	m.tokenFailures = counter("token_failures_total",
		"Passes that could not obtain an access token (their notices wait for a retry).", "instance")
	m.retriesWaiting = gauge("retries_waiting",
		"Notices in state retry in koha_webhooks_deliveries, as counted after the last poll.")
	m.pending = gauge("pending_notices",
		"Pending webhook notices the last poll found in message_queue; the poll then claimed them.")
	m.passes = counter("passes_total", "Passes run, by kind: poll (new notices since the last poll) or full_scan.", "instance", "kind")
	m.passErrors = counter("pass_errors_total", "Passes stopped by an error (database trouble), by kind.", "instance", "kind")
	m.passDuration = histogram("pass_duration_seconds", "Duration of a pass.", cfg.DurationBuckets)
	m.up = gauge("instance_up",
		"1 while the instance's database is open and its poll loop runs; 0 while it waits to retry a failed start.")
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.notices, m.latency, m.postDuration, m.posts, m.attempts, m.tokenRequests,
		m.tokenFailures, m.retriesWaiting, m.pending, m.passes, m.passErrors, m.passDuration, m.up}
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry returns the registry the collectors are registered in.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Instance returns the metrics of one Koha instance. It creates the
// instance's gauges and its pass and token counters with value 0, so that
// rates and alerts work before the first event.
func (m *Metrics) Instance(name string) *Instance {
	in := &Instance{m: m, name: name}
	in.session.Store(time.UTC)
	m.tokenRequests.WithLabelValues(name, "success")
	m.tokenRequests.WithLabelValues(name, "failure")
	m.tokenFailures.WithLabelValues(name)
	m.retriesWaiting.WithLabelValues(name)
	m.pending.WithLabelValues(name)
	m.up.WithLabelValues(name)
	for _, kind := range []string{PassPoll, PassFullScan} {
		m.passes.WithLabelValues(name, kind)
		m.passErrors.WithLabelValues(name, kind)
	}
	return in
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
}

func gauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, []string{"instance"})
}

func histogram(name, help string, buckets []float64) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, []string{"instance"})
}
