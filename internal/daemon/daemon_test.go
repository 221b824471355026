package daemon_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/daemon"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
)

func TestDaemonDeliversNoticeQueuedWhileRunning(t *testing.T) {
	f := setup(t)
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	r.waitFor("lib", "the first pass", func(e daemon.Event) bool { return e.Kind == daemon.EventPass })

	id := f.enqueue()
	queued := time.Now()
	if !f.service.WaitAccepted(1, waitLimit) {
		t.Fatalf("notice %d was not delivered", id)
	}
	// The poll interval is 50ms; a pass takes a few milliseconds more. The
	// bound is loose so that a busy test machine does not fail it.
	if took := time.Since(queued); took > 5*time.Second {
		t.Errorf("notice delivered %s after it was queued, want about one poll interval", took)
	}
	r.waitSent("lib", 1)
	r.stop()
	if got := f.statuses(); got["sent"] != 1 || len(got) != 1 {
		t.Errorf("message_queue statuses = %v, want one sent row", got)
	}
}

func TestDaemonMetricsCountDeliveries(t *testing.T) {
	f := setup(t)
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	f.enqueue()
	f.enqueue()
	r.waitSent("lib", 2)

	code, body := r.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics status = %d", code)
	}
	want := map[string]string{
		`koha_webhooks_notices_total{instance="lib",letter_code="HOLD",outcome="sent",transport="email"}`: "2",
		`koha_webhooks_delivery_attempts_total{instance="lib",result="success"}`:                          "2",
		`koha_webhooks_post_duration_seconds_count{instance="lib"}`:                                       "2",
		`koha_webhooks_delivery_latency_seconds_count{instance="lib"}`:                                    "2",
		`koha_webhooks_notice_attempts_count{instance="lib"}`:                                             "2",
		`koha_webhooks_token_requests_total{instance="lib",result="success"}`:                             "1",
		`koha_webhooks_token_requests_total{instance="lib",result="failure"}`:                             "0",
		`koha_webhooks_retries_waiting{instance="lib"}`:                                                   "0",
		`koha_webhooks_instance_up{instance="lib"}`:                                                       "1",
		`koha_webhooks_pass_errors_total{instance="lib",kind="poll"}`:                                     "0",
		`koha_webhooks_passes_total{instance="lib",kind="full_scan"}`:                                     "1",
	}
	for series, value := range want {
		got, err := metricValue(body, series)
		if err != nil {
			t.Error(err)
		} else if got != value {
			t.Errorf("%s = %s, want %s", series, got, value)
		}
	}
	if _, err := metricValue(body, `koha_webhooks_passes_total{instance="lib",kind="poll"}`); err != nil {
		t.Error(err)
	}
}

func TestDaemonMetricsCountRetriesWaiting(t *testing.T) {
	f := setup(t)
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply {
		return noticeservice.Reply{Status: http.StatusServiceUnavailable}
	}
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	f.enqueue()
	r.waitFor("lib", "a pass that scheduled a retry", func(e daemon.Event) bool {
		return e.Kind == daemon.EventPass && e.Summary != nil && e.Summary.Retry == 1
	})

	_, body := r.get("/metrics")
	want := map[string]string{
		`koha_webhooks_retries_waiting{instance="lib"}`:                                                    "1",
		`koha_webhooks_notices_total{instance="lib",letter_code="HOLD",outcome="retry",transport="email"}`: "1",
		`koha_webhooks_delivery_attempts_total{instance="lib",result="http_server"}`:                       "1",
	}
	for series, value := range want {
		if got, err := metricValue(body, series); err != nil || got != value {
			t.Errorf("%s = %q (%v), want %s", series, got, err, value)
		}
	}
}

func TestDaemonStopMidDeliveryLosesNothing(t *testing.T) {
	f := setup(t, func(s map[string]string) { s["concurrency"] = "2" })
	const notices = 5
	for range notices {
		f.enqueue()
	}
	arrived := make(chan struct{}, notices)
	release := make(chan struct{})
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply {
		arrived <- struct{}{}
		<-release
		return noticeservice.Reply{}
	}

	// Stop while two POSTs are in flight and three notices wait for them.
	first := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(waitLimit):
			t.Fatal("no POST arrived")
		}
	}
	first.cancel()
	close(release)
	first.stop()

	statuses := f.statuses()
	if statuses["pending"] != 0 || statuses["sent"] != 2 || statuses["deleted"] != notices-2 {
		t.Fatalf("after the stop: statuses %v, want the 2 in flight sent and the others claimed, none pending", statuses)
	}
	if got := f.service.Accepted(); got != 2 {
		t.Errorf("accepted before the stop = %d, want the 2 in flight", got)
	}

	// The released notices are delivered by the next daemon.
	f.service.Respond = nil
	second := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	if !f.service.WaitAccepted(notices, waitLimit) {
		t.Fatalf("accepted %d notices in all, want %d", f.service.Accepted(), notices)
	}
	second.waitSent("lib", notices-2)
	second.stop()
	if got := f.statuses(); got["sent"] != notices {
		t.Errorf("statuses = %v, want %d sent", got, notices)
	}
	perMessage := map[int64]int{}
	for _, rec := range f.service.Received() {
		perMessage[rec.MessageID]++
	}
	for id, n := range perMessage {
		if n != 1 {
			t.Errorf("notice %d was POSTed %d times, want once", id, n)
		}
	}
}

func TestDaemonKeepsServingBesideBrokenInstance(t *testing.T) {
	f := setup(t)
	broken := map[string]string{}
	for k, v := range f.settings {
		broken[k] = v
	}
	// Nothing listens on port 1 of the loopback address.
	broken["database"] = "koha:pw@tcp(127.0.0.1:1)/koha_broken"
	r := start(t,
		daemon.Instance{Name: "good", Settings: settingsOf(f.settings)},
		daemon.Instance{Name: "broken", Settings: settingsOf(broken)},
	)
	r.waitFor("broken", "a failed start", func(e daemon.Event) bool { return e.Kind == daemon.EventStartFailed })
	r.waitFor("broken", "a second failed start", func(e daemon.Event) bool { return e.Kind == daemon.EventStartFailed })
	f.enqueue()
	if !f.service.WaitAccepted(1, waitLimit) {
		t.Fatal("the good instance delivered nothing")
	}
	r.waitSent("good", 1)

	code, body := r.get("/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("/readyz status = %d, want 503", code)
	}
	ready := parseReadiness(t, body)
	byName := map[string]bool{}
	for _, in := range ready.Instances {
		byName[in.Name] = in.Ready
		if in.Name == "broken" && !strings.Contains(in.Error, "cannot connect to database") {
			t.Errorf("/readyz error of broken = %q, want the connection failure", in.Error)
		}
		if strings.Contains(in.Error, ":pw@") {
			t.Errorf("/readyz reveals the password: %q", in.Error)
		}
	}
	if !byName["good"] || byName["broken"] || len(byName) != 2 {
		t.Errorf("/readyz instances = %v, want good ready and broken not", byName)
	}

	if code, _ := r.get("/instances/broken/api/v1/contrib/webhook_notifications/openapi.json"); code != http.StatusServiceUnavailable {
		t.Errorf("inbound API of the broken instance: status %d, want 503", code)
	}
	if code, _ := r.get("/instances/good/api/v1/contrib/webhook_notifications/openapi.json"); code != http.StatusOK {
		t.Errorf("inbound API of the good instance: status %d, want 200", code)
	}
	if code, _ := r.get("/instances/nosuch/api/v1/contrib/webhook_notifications/openapi.json"); code != http.StatusNotFound {
		t.Errorf("inbound API of an unknown instance: status %d, want 404", code)
	}
}

func TestDaemonRetriesInstanceWithBadSettings(t *testing.T) {
	f := setup(t)
	bad := map[string]string{}
	for k, v := range f.settings {
		bad[k] = v
	}
	bad["poll_interval"] = "soon"
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(bad)})
	e := r.waitFor("lib", "a failed start", func(e daemon.Event) bool { return e.Kind == daemon.EventStartFailed })
	if e.Err == nil || !strings.Contains(e.Err.Error(), "WEBHOOK_POLL_INTERVAL") {
		t.Errorf("start error = %v, want it to name WEBHOOK_POLL_INTERVAL", e.Err)
	}
	r.waitFor("lib", "a retried start", func(e daemon.Event) bool { return e.Kind == daemon.EventStartFailed })
	if code, body := r.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "poll_interval") {
		t.Errorf("/readyz = %d %s, want 503 naming poll_interval", code, body)
	}
}

func TestDaemonHealthAndReady(t *testing.T) {
	f := setup(t)
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	if code, body := r.get("/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %s, want 200 ok", code, body)
	}
	r.waitFor("lib", "the start", func(e daemon.Event) bool { return e.Kind == daemon.EventStarted })
	code, body := r.get("/readyz")
	if code != http.StatusOK {
		t.Errorf("/readyz status = %d, body %s, want 200", code, body)
	}
	if ready := parseReadiness(t, body); ready.Status != "ready" || len(ready.Instances) != 1 || !ready.Instances[0].Ready {
		t.Errorf("/readyz = %+v, want lib ready", ready)
	}
}

func TestDaemonServesInboundAPI(t *testing.T) {
	f := setup(t)
	r := start(t, daemon.Instance{Name: "lib", Settings: settingsOf(f.settings)})
	r.waitFor("lib", "the start", func(e daemon.Event) bool { return e.Kind == daemon.EventStarted })

	code, body := r.get("/api/v1/contrib/webhook_notifications/openapi.json")
	if code != http.StatusOK || !strings.Contains(body, "openapi") {
		t.Errorf("OpenAPI document: status %d, want 200 with the document", code)
	}
	if code, _ := r.do(http.MethodPost, "/api/v1/contrib/webhook_notifications/message/1/status?status=sent"); code != http.StatusUnauthorized {
		t.Errorf("status report without credentials: status %d, want 401", code)
	}
	if code, _ := r.get("/instances/lib/api/v1/contrib/webhook_notifications/openapi.json"); code != http.StatusOK {
		t.Errorf("OpenAPI document under the instance prefix: status %d, want 200", code)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	noSettings := func(context.Context) (*config.Settings, error) { return nil, nil }
	cases := map[string][]daemon.Instance{
		"no instance":    nil,
		"duplicate name": {{Name: "a", Settings: noSettings}, {Name: "a", Settings: noSettings}},
		"path in name":   {{Name: "../a", Settings: noSettings}},
		"no settings":    {{Name: "a"}},
	}
	for name, instances := range cases {
		if _, err := daemon.New(daemon.Config{Instances: instances}); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
}
