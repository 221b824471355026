package metrics

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

// Pass kinds, the values of the "kind" label.
const (
	// PassPoll is a pass that looks for notices queued since the last one.
	PassPoll = "poll"
	// PassFullScan is a pass over the whole of message_queue.
	PassFullScan = "full_scan"
)

// timeQueuedLayout is the layout of a TIMESTAMP column as MariaDB returns
// it in text.
const timeQueuedLayout = "2006-01-02 15:04:05"

// Instance records the metrics of one Koha instance. It implements
// pass.Observer and is safe for concurrent use.
type Instance struct {
	m    *Metrics
	name string
	// session is the time zone in which the database session shows
	// TIMESTAMP values such as message_queue.time_queued.
	session atomic.Pointer[time.Location]
}

var _ pass.Observer = (*Instance)(nil)

// SetSessionZone sets the time zone in which the instance's database
// session shows TIMESTAMP columns. The delivery latency reads
// message_queue.time_queued, which MariaDB returns as "YYYY-MM-DD HH:MM:SS"
// in the session's time zone, so the daemon sets the zone it reads from the
// session (the offset of NOW() from UTC_TIMESTAMP()) before each pass.
// Until it is set, UTC is assumed.
func (in *Instance) SetSessionZone(loc *time.Location) {
	if loc != nil {
		in.session.Store(loc)
	}
}

// Delivered counts one POST and observes its duration.
func (in *Instance) Delivered(_ *kohadb.Row, res delivery.Result) {
	result := "success"
	if res.Err != nil {
		result = string(res.Err.Kind)
	}
	in.m.posts.WithLabelValues(in.name, result).Inc()
	in.m.postDuration.WithLabelValues(in.name).Observe(res.Duration.Seconds())
}

// Recorded counts one outcome. A notice that was sent adds its time since
// queueing to the latency histogram, and a notice that was finally sent or
// failed after delivery attempts adds its number of attempts.
func (in *Instance) Recorded(message *kohadb.Row, o *queue.Outcome) {
	in.m.notices.WithLabelValues(in.name, OutcomeLabel(o),
		message.String("letter_code"), message.String("message_transport_type")).Inc()
	if o.Attempts > 0 && (o.State == queue.StateSent || o.State == queue.StateFailed) {
		in.m.attempts.WithLabelValues(in.name).Observe(float64(o.Attempts))
	}
	if o.State != queue.StateSent {
		return
	}
	queued, err := time.ParseInLocation(timeQueuedLayout, message.String("time_queued"), in.session.Load())
	if err != nil {
		// A NULL or zero time_queued: Koha sets it when it queues a notice,
		// so the row was written by something else and has no latency.
		return
	}
	in.m.latency.WithLabelValues(in.name).Observe(max(0, in.m.now().Sub(queued).Seconds()))
}

// TokenFailed counts a pass that could not obtain an access token.
func (in *Instance) TokenFailed(error) {
	in.m.tokenFailures.WithLabelValues(in.name).Inc()
}

// PassFinished counts a pass of the given kind (PassPoll or PassFullScan)
// and its error, observes its duration and sets the pending-notices gauge
// to the webhook notices the pass found pending. A summary is nil when the
// pass could not start.
func (in *Instance) PassFinished(kind string, s *pass.Summary, err error) {
	in.m.passes.WithLabelValues(in.name, kind).Inc()
	if err != nil {
		in.m.passErrors.WithLabelValues(in.name, kind).Inc()
	}
	if s == nil {
		return
	}
	if !s.Finished.IsZero() {
		in.m.passDuration.WithLabelValues(in.name).Observe(s.Finished.Sub(s.Started).Seconds())
	}
	in.m.pending.WithLabelValues(in.name).Set(float64(s.Selected))
}

// SetRetriesWaiting sets the number of notices waiting for a retry.
func (in *Instance) SetRetriesWaiting(n int) {
	in.m.retriesWaiting.WithLabelValues(in.name).Set(float64(n))
}

// SetUp sets whether the instance is running (its database open and its
// poll loop started).
func (in *Instance) SetUp(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	in.m.up.WithLabelValues(in.name).Set(v)
}

// OutcomeLabel returns the "outcome" label of a recorded outcome, which is
// its state with three refinements. A retry after a failed token request is
// "auth_failed". A failure is "parse_error" or "no_data" when the notice's
// content or records kept it from being sent.
func OutcomeLabel(o *queue.Outcome) string {
	switch {
	case o.State == queue.StateRetry && strings.HasPrefix(o.FailureCode, "WEBHOOK_AUTH_FAILED"):
		return "auth_failed"
	case o.State == queue.StateFailed && strings.HasPrefix(o.FailureCode, "WEBHOOK_PARSE_ERROR"):
		return "parse_error"
	case o.State == queue.StateFailed && strings.HasPrefix(o.FailureCode, "WEBHOOK_NO_DATA"):
		return "no_data"
	}
	return string(o.State)
}

// CountTokenRequests wraps an HTTP transport so that each request to the
// token endpoint at tokenURL (same scheme, host and path) counts in
// token_requests_total with result "success" for a 2xx response and
// "failure" otherwise. Other requests pass through uncounted.
func (in *Instance) CountTokenRequests(base http.RoundTripper, tokenURL string) http.RoundTripper {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return base
	}
	return &tokenCounter{base: base, target: u, in: in}
}

type tokenCounter struct {
	base   http.RoundTripper
	target *url.URL
	in     *Instance
}

func (t *tokenCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if r.URL.Scheme == t.target.Scheme && r.URL.Host == t.target.Host && r.URL.Path == t.target.Path {
		result := "success"
		if err != nil || resp.StatusCode/100 != 2 {
			result = "failure"
		}
		t.in.m.tokenRequests.WithLabelValues(t.in.name, result).Inc()
	}
	return resp, err
}
