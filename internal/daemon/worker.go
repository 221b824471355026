package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/metrics"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
)

// worker runs one instance: it starts the instance's backend, restarting
// it with backoff after a failure, and polls until the daemon stops.
type worker struct {
	instance Instance
	cfg      *Config
	log      *slog.Logger
	metrics  *metrics.Instance

	mu      sync.Mutex
	current *backend // nil until started
	failure error    // error of the last failed start; nil while running

	// watermark is the highest message_id the polls have covered: every
	// committed row up to it has been looked at. Only the poll loop uses it.
	watermark int64
}

func newWorker(in Instance, cfg *Config) *worker {
	return &worker{
		instance: in,
		cfg:      cfg,
		log:      cfg.Logger.With("instance", in.Name),
		metrics:  cfg.Metrics.Instance(in.Name),
		failure:  errors.New("starting"),
	}
}

// state returns the running backend, or nil and the reason it is not
// running.
func (w *worker) state() (*backend, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current, w.failure
}

func (w *worker) setState(b *backend, failure error) {
	w.mu.Lock()
	w.current, w.failure = b, failure
	w.mu.Unlock()
	w.metrics.SetUp(b != nil)
}

// run starts the instance and polls until ctx ends. A failed start is
// retried with exponential backoff.
func (w *worker) run(ctx context.Context) {
	delay := w.cfg.RestartBackoff
	for ctx.Err() == nil {
		b, err := w.start(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Failure policy: fail open for the other instances and keep
			// retrying this one, because a database that is down at boot
			// or a koha-conf.xml being edited usually recovers.
			w.setState(nil, err)
			w.emit(Event{Kind: EventStartFailed, Err: err})
			w.log.Error("cannot start instance; will retry", "error", err, "retry_in", delay.String())
			if !wait(ctx, delay) {
				return
			}
			delay = min(2*delay, w.cfg.MaxRestartBackoff)
			continue
		}
		delay = w.cfg.RestartBackoff
		w.setState(b, nil)
		w.emit(Event{Kind: EventStarted})
		w.log.Info("instance started", "poll_interval", b.serve.pollInterval.String(),
			"full_scan_interval", b.serve.fullScanInterval.String())
		w.pollLoop(ctx, b)
		w.setState(nil, errors.New("stopping"))
		b.close()
	}
}

func (w *worker) start(ctx context.Context) (*backend, error) {
	settings, err := w.instance.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return openBackend(ctx, settings, w.metrics, w.log, w.cfg.GracePeriod)
}

// pollLoop polls every poll interval until ctx ends. The first pass and
// then one pass every full-scan interval start from message_id 0; the
// others start after the watermark. A failed poll waits with backoff.
func (w *worker) pollLoop(ctx context.Context, b *backend) {
	w.watermark = 0
	var nextFullScan time.Time
	failures := 0
	for {
		full := !time.Now().Before(nextFullScan)
		err := w.poll(ctx, b, full)
		if ctx.Err() != nil {
			return
		}
		delay := b.serve.pollInterval
		if err != nil {
			failures++
			delay = backoff(b.serve.pollInterval, failures, w.cfg.MaxRestartBackoff)
			w.log.Warn("poll failed; will poll again", "error", err, "retry_in", delay.String())
		} else {
			failures = 0
			if full {
				nextFullScan = time.Now().Add(b.serve.fullScanInterval)
			}
		}
		if !wait(ctx, delay) {
			return
		}
	}
}

// poll runs one pass. A poll reads only the message_queue rows after the
// watermark, because the primary key bounds the scan, so an idle poll costs
// a few index lookups whatever the table's size. A full scan reads the whole
// table, because Koha's schema has no index on message_queue.status.
func (w *worker) poll(ctx context.Context, b *backend, full bool) error {
	kind, after := metrics.PassPoll, w.watermark
	if full {
		kind, after = metrics.PassFullScan, 0
	}
	h, err := b.readHead(ctx)
	if err != nil {
		w.metrics.PassFinished(kind, nil, err)
		w.emit(Event{Kind: EventPass, PassKind: kind, Err: err})
		return err
	}
	w.metrics.SetSessionZone(h.zone)

	summary, err := b.Runner.Run(ctx, pass.Options{AfterMessageID: after})
	if ctx.Err() != nil {
		// Stopping: the pass released what it did not start.
		return nil
	}
	w.metrics.PassFinished(kind, summary, err)
	defer w.emit(Event{Kind: EventPass, PassKind: kind, Summary: summary, Err: err})
	if err != nil {
		return err
	}
	// Rows up to the head read before the pass were committed before its
	// search began, so the search saw them. A row committed later with a
	// lower id (out of order) waits for the next full scan.
	w.watermark = max(w.watermark, summary.LastMessageID, h.maxMessageID)

	retries, err := b.countRetries(ctx)
	if err != nil {
		// Failure policy: fail open, because the gauge is informational and
		// the next poll refreshes it.
		w.log.Warn("cannot count the notices waiting for a retry", "error", err)
		return nil
	}
	w.metrics.SetRetriesWaiting(retries)
	return nil
}

func (w *worker) emit(e Event) {
	if w.cfg.OnEvent != nil {
		e.Instance = w.instance.Name
		w.cfg.OnEvent(e)
	}
}

// backoff returns base doubled failures-1 times, capped at limit.
func backoff(base time.Duration, failures int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, max(limit, base))
}

// wait blocks for d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
