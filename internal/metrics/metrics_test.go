package metrics_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/metrics"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)

// setup returns metrics on a fresh registry with a fixed clock, the
// instance "lib", and a connection to the test server for building rows.
func setup(t *testing.T) (*metrics.Metrics, *metrics.Instance, *sql.DB) {
	t.Helper()
	t.Parallel()
	registry := prometheus.NewRegistry()
	m, err := metrics.New(metrics.Config{Registry: registry, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	server := kohatest.ServerConfig(t)
	server.DBName = ""
	db, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return m, m.Instance("lib"), db
}

// message returns a message_queue-like row as MariaDB returns it.
func message(t *testing.T, db *sql.DB, letter, transport, queued string) *kohadb.Row {
	t.Helper()
	rows, err := kohadb.QueryRows(context.Background(), db,
		`SELECT ? AS letter_code, ? AS message_transport_type, NULLIF(?, '') AS time_queued`, letter, transport, queued)
	if err != nil || len(rows) != 1 {
		t.Fatalf("build row: %v", err)
	}
	return rows[0]
}

func TestRecordedCountsOutcomes(t *testing.T) {
	m, in, db := setup(t)
	row := message(t, db, "HOLD", "sms", "2026-03-01 10:00:00")
	cases := []struct {
		outcome queue.Outcome
		label   string
	}{
		{queue.Outcome{State: queue.StateSent, Attempts: 1}, "sent"},
		{queue.Outcome{State: queue.StateRetry, Attempts: 1, FailureCode: "WEBHOOK_RETRY: attempt 1 of 9"}, "retry"},
		{queue.Outcome{State: queue.StateRetry, Attempts: 1, FailureCode: "WEBHOOK_AUTH_FAILED: attempt 1 of 9"}, "auth_failed"},
		{queue.Outcome{State: queue.StateFailed, Attempts: 3, FailureCode: "WEBHOOK_FAILED: HTTP 400"}, "failed"},
		{queue.Outcome{State: queue.StateFailed, FailureCode: "WEBHOOK_PARSE_ERROR: line 2"}, "parse_error"},
		{queue.Outcome{State: queue.StateFailed, FailureCode: "WEBHOOK_NO_DATA: hold 7"}, "no_data"},
		{queue.Outcome{State: queue.StateSkipped, FailureCode: "WEBHOOK_SKIPPED: patron has email or SMS"}, "skipped"},
		{queue.Outcome{State: queue.StateReturned}, "returned"},
	}
	for _, c := range cases {
		in.Recorded(row, &c.outcome)
	}
	for _, c := range cases {
		got := value(t, m, "koha_webhooks_notices_total", map[string]string{
			"instance": "lib", "outcome": c.label, "letter_code": "HOLD", "transport": "sms"})
		if got != 1 {
			t.Errorf("notices_total{outcome=%q} = %v, want 1", c.label, got)
		}
	}
	// Only the sent and the finally failed notice had delivery attempts.
	if h := histogram(t, m, "koha_webhooks_notice_attempts"); h.GetSampleCount() != 2 || h.GetSampleSum() != 4 {
		t.Errorf("notice_attempts count %d sum %v, want 2 and 4", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestLatencyReadsTimeQueuedInSessionZone(t *testing.T) {
	m, in, db := setup(t)
	// The session is two hours ahead of UTC: 12:00:00 there is 10:00:00 UTC,
	// thirty seconds before now.
	in.SetSessionZone(time.FixedZone("UTC+7200", 2*3600))
	in.Recorded(message(t, db, "HOLD", "email", "2026-03-01 12:00:00"), &queue.Outcome{State: queue.StateSent, Attempts: 1})
	// A row without time_queued adds nothing.
	in.Recorded(message(t, db, "HOLD", "email", ""), &queue.Outcome{State: queue.StateSent, Attempts: 1})

	h := histogram(t, m, "koha_webhooks_delivery_latency_seconds")
	if h.GetSampleCount() != 1 || math.Abs(h.GetSampleSum()-30) > 1e-9 {
		t.Errorf("latency count %d sum %v, want 1 and 30", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestDeliveredCountsAttemptsByResult(t *testing.T) {
	m, in, _ := setup(t)
	in.Delivered(nil, delivery.Result{StatusCode: 200, Duration: 20 * time.Millisecond})
	in.Delivered(nil, delivery.Result{StatusCode: 503, Duration: 40 * time.Millisecond, Err: &delivery.Error{Kind: delivery.KindHTTPServer}})
	for result, want := range map[string]float64{"success": 1, "http_server": 1} {
		got := value(t, m, "koha_webhooks_delivery_attempts_total", map[string]string{"instance": "lib", "result": result})
		if got != want {
			t.Errorf("delivery_attempts_total{result=%q} = %v, want %v", result, got, want)
		}
	}
	if h := histogram(t, m, "koha_webhooks_post_duration_seconds"); h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.06) > 1e-9 {
		t.Errorf("post_duration count %d sum %v, want 2 and 0.06", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestCountTokenRequests(t *testing.T) {
	m, in, _ := setup(t)
	var fail atomic.Bool
	fail.Store(true)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" && fail.Load() {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer server.Close()
	client := &http.Client{Transport: in.CountTokenRequests(http.DefaultTransport, server.URL+"/token")}
	for _, path := range []string{"/token", "/notices", "/token"} {
		resp, err := client.Post(server.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		fail.Store(false)
	}
	for result, want := range map[string]float64{"success": 1, "failure": 1} {
		got := value(t, m, "koha_webhooks_token_requests_total", map[string]string{"instance": "lib", "result": result})
		if got != want {
			t.Errorf("token_requests_total{result=%q} = %v, want %v", result, got, want)
		}
	}
	in.TokenFailed(errors.New("token request failed: HTTP 401"))
	if got := value(t, m, "koha_webhooks_token_failures_total", map[string]string{"instance": "lib"}); got != 1 {
		t.Errorf("token_failures_total = %v, want 1", got)
	}
}

func TestPassFinishedSetsPassMetrics(t *testing.T) {
	m, in, _ := setup(t)
	in.PassFinished(metrics.PassFullScan, &pass.Summary{Selected: 4, Started: now.Add(-time.Second), Finished: now}, nil)
	in.PassFinished(metrics.PassPoll, nil, errors.New("database gone"))
	in.SetRetriesWaiting(7)
	in.SetUp(true)

	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"koha_webhooks_passes_total", map[string]string{"instance": "lib", "kind": "full_scan"}, 1},
		{"koha_webhooks_passes_total", map[string]string{"instance": "lib", "kind": "poll"}, 1},
		{"koha_webhooks_pass_errors_total", map[string]string{"instance": "lib", "kind": "poll"}, 1},
		{"koha_webhooks_pass_errors_total", map[string]string{"instance": "lib", "kind": "full_scan"}, 0},
		{"koha_webhooks_pending_notices", map[string]string{"instance": "lib"}, 4},
		{"koha_webhooks_retries_waiting", map[string]string{"instance": "lib"}, 7},
		{"koha_webhooks_instance_up", map[string]string{"instance": "lib"}, 1},
	}
	for _, w := range want {
		if got := value(t, m, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if h := histogram(t, m, "koha_webhooks_pass_duration_seconds"); h.GetSampleCount() != 1 || h.GetSampleSum() != 1 {
		t.Errorf("pass_duration count %d sum %v, want 1 and 1", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestNewRejectsRegistryInUse(t *testing.T) {
	t.Parallel()
	registry := prometheus.NewRegistry()
	if _, err := metrics.New(metrics.Config{Registry: registry}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(metrics.Config{Registry: registry}); err == nil {
		t.Error("New registered the same metrics twice")
	}
}

// value returns the value of the counter or gauge series name with labels.
func value(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	metric := find(t, m, name, labels)
	return metric.GetCounter().GetValue() + metric.GetGauge().GetValue()
}

// histogram returns the only series of histogram name.
func histogram(t *testing.T, m *metrics.Metrics, name string) *dto.Histogram {
	t.Helper()
	return find(t, m, name, map[string]string{"instance": "lib"}).GetHistogram()
}

// find gathers the registry and returns the series of name with labels.
func find(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, metric := range f.GetMetric() {
			if matches(metric, labels) {
				return metric
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

func matches(metric *dto.Metric, labels map[string]string) bool {
	if len(metric.GetLabel()) != len(labels) {
		return false
	}
	for _, l := range metric.GetLabel() {
		if labels[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}
