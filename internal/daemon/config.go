// Package daemon runs koha-webhooks as a service for one or more Koha
// instances. For each instance it keeps a poll loop that delivers notices
// queued since the previous poll, due retries and notices whose lease
// expired, and that periodically scans the whole of message_queue for rows
// a librarian set back to pending. One HTTP server serves the inbound API of
// every instance, /healthz, /readyz and Prometheus /metrics.
//
// An instance that cannot start (invalid settings, database unreachable) is
// logged and started again with exponential backoff; the other instances
// keep running.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/metrics"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
)

// Config configures a Daemon. New applies the defaults and validates it.
type Config struct {
	// Instances are the Koha instances served, at least one, with unique
	// names.
	Instances []Instance
	// Listen is the TCP address Run listens on. Default "127.0.0.1:8090".
	Listen string
	// Logger receives the daemon's and the passes' log lines; each
	// instance's lines carry an "instance" attribute. Default
	// slog.Default().
	Logger *slog.Logger
	// Metrics receives every instance's metrics and is served on /metrics.
	// Nil creates one with its own registry.
	Metrics *metrics.Metrics
	// RestartBackoff is the wait before an instance that failed to start is
	// started again. It doubles after each further failure up to
	// MaxRestartBackoff. Default 1s. A poll that fails waits the poll
	// interval, doubled the same way.
	RestartBackoff time.Duration
	// MaxRestartBackoff caps the doubled waits after failed starts and
	// failed polls. Default 5m.
	MaxRestartBackoff time.Duration
	// ReadyTimeout bounds the database ping of each instance in /readyz.
	// Default 2s.
	ReadyTimeout time.Duration
	// GracePeriod is how long deliveries in flight may run after a stop is
	// requested, before they are abandoned and their notices released.
	// Default 30s; a service manager's stop timeout must be longer.
	GracePeriod time.Duration
	// ShutdownTimeout bounds the wait for HTTP requests in progress when
	// the daemon stops. Default 10s.
	ShutdownTimeout time.Duration
	// OnEvent, when set, is called after each start attempt and each pass
	// of every instance, from that instance's loop. It must not block for
	// long. Tests wait on it instead of on time.
	OnEvent func(Event)
}

// Event kinds.
const (
	// EventStarted: the instance's database is open and polling begins.
	EventStarted = "started"
	// EventStartFailed: the instance could not start, and Err is the error.
	EventStartFailed = "start_failed"
	// EventPass: a pass finished; Summary and Err are its results.
	EventPass = "pass"
)

// Event is a step of one instance's loop, reported to Config.OnEvent.
type Event struct {
	// Instance is the instance's name.
	Instance string
	// Kind is EventStarted, EventStartFailed or EventPass.
	Kind string
	// PassKind is metrics.PassPoll or metrics.PassFullScan for EventPass.
	PassKind string
	// Summary is the pass's summary for EventPass; nil when the pass could
	// not begin.
	Summary *pass.Summary
	// Err is the failure of EventStartFailed or of the pass.
	Err error
}

// Instance is one Koha instance served by the daemon.
type Instance struct {
	// Name identifies the instance in logs, metrics, /readyz and the
	// inbound API paths (/instances/<name>/…). It may contain letters,
	// digits, '.', '_' and '-'.
	Name string
	// Settings returns the instance's settings. It is called at each start
	// attempt, so a setting corrected in koha-conf.xml or in Koha's
	// database is picked up when a failed instance is started again.
	Settings func(ctx context.Context) (*config.Settings, error)
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (c *Config) applyDefaults() error {
	if len(c.Instances) == 0 {
		return errors.New("daemon: no Koha instance to serve")
	}
	seen := map[string]bool{}
	for _, in := range c.Instances {
		if !instanceName.MatchString(in.Name) {
			return fmt.Errorf("daemon: invalid instance name %q: use letters, digits, '.', '_' and '-'", in.Name)
		}
		if seen[in.Name] {
			return fmt.Errorf("daemon: instance %q is listed twice", in.Name)
		}
		seen[in.Name] = true
		if in.Settings == nil {
			return fmt.Errorf("daemon: instance %q has no Settings function", in.Name)
		}
	}

	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		m, err := metrics.New(metrics.Config{})
		if err != nil {
			return err
		}
		c.Metrics = m
	}

	setDefault(&c.RestartBackoff, time.Second)
	setDefault(&c.MaxRestartBackoff, 5*time.Minute)
	setDefault(&c.ReadyTimeout, 2*time.Second)
	setDefault(&c.GracePeriod, 30*time.Second)
	setDefault(&c.ShutdownTimeout, 10*time.Second)
	if c.MaxRestartBackoff < c.RestartBackoff {
		c.MaxRestartBackoff = c.RestartBackoff
	}
	return nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}
