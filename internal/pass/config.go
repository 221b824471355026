// Package pass runs one pass of koha-webhooks: it claims due retries and
// pending webhook notices in batches, and for each batch parses the notices,
// loads their records, builds the payloads, delivers them and records the
// outcomes in Koha's message_queue.
package pass

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/retry"
)

// Deliverer sends payloads to the notice service.
type Deliverer interface {
	// Token makes sure an access token is at hand.
	Token(ctx context.Context) error
	// Deliver POSTs one payload.
	Deliver(ctx context.Context, n delivery.Notice) delivery.Result
}

// Config holds what a pass needs. Runner applies the defaults.
type Config struct {
	// DB is the Koha database.
	DB *sql.DB
	// Schema describes the live Koha schema.
	Schema *kohadb.Schema
	// Queue claims notices and records outcomes.
	Queue *queue.Queue
	// Deliverer sends payloads; it may be nil in test mode.
	Deliverer Deliverer
	// Retry decides when failed deliveries are tried again.
	Retry retry.Policy
	// Payload sets the payload shape and value typing.
	Payload payload.Options
	// ArchiveDir receives one archive file and log per pass that handled
	// notices; empty disables the archive.
	ArchiveDir string
	// TestMode builds and archives payloads but POSTs nothing and writes
	// nothing to the database.
	TestMode bool
	// SkipOverdueCalls skips phone notices for overdue letters when the
	// patron has an email address or SMS number.
	SkipOverdueCalls bool
	// BatchSize is the number of notices claimed, loaded and delivered
	// together. Default 500.
	BatchSize int
	// Concurrency bounds the deliveries in flight. Default 16.
	Concurrency int
	// GracePeriod is how long in-flight deliveries may run after a stop is
	// requested. Default 30s.
	GracePeriod time.Duration
	// Interface is written to action_logs.interface: "cron" for run,
	// "daemon" for serve. Default "cron".
	Interface string
	// LogEveryPass writes STARTED and DONE rows to action_logs even for a
	// pass that found nothing, as a cron run does. The daemon leaves it off
	// and logs only passes that handled notices.
	LogEveryPass bool
	// Version is reported in archive files as webhook_plugin_version.
	Version string
	// Logger receives the pass's log lines. Default slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Observer, when set, receives every delivery attempt and outcome
	// (metrics use it).
	Observer Observer
}

// Observer receives events of a pass as they happen. Calls may come from
// several goroutines at once.
type Observer interface {
	// Delivered is called after each POST with the notice's message_queue
	// row and the result.
	Delivered(message *kohadb.Row, res delivery.Result)
	// Recorded is called for each outcome written to the database (in test
	// mode, each outcome the pass would have written).
	Recorded(message *kohadb.Row, o *queue.Outcome)
	// TokenFailed is called when no access token could be obtained.
	TokenFailed(err error)
}

func (c *Config) applyDefaults() error {
	if c.DB == nil || c.Schema == nil || c.Queue == nil {
		return errors.New("pass: DB, Schema and Queue are required")
	}
	if c.Deliverer == nil && !c.TestMode {
		return errors.New("pass: a Deliverer is required outside test mode")
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.GracePeriod <= 0 {
		c.GracePeriod = 30 * time.Second
	}
	if c.Interface == "" {
		c.Interface = "cron"
	}
	if c.Payload.Format == "" {
		c.Payload.Format = payload.Full
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Retry.Schedule) == 0 {
		c.Retry.Schedule = retry.DefaultSchedule()
	}
	return c.Retry.Validate()
}

// Options are the per-pass filters Koha's hook and the command line pass.
type Options struct {
	// Filter narrows the notices handled.
	Filter queue.Filter
	// Limit caps the notices handled in the pass; 0 means no cap.
	Limit int
	// Skip makes the pass do nothing (transport type "skip_webhook").
	Skip bool
	// AfterMessageID starts the search for new notices after this
	// message_id, so that a poll reads only rows queued since the last one
	// (the message_id primary key bounds the scan). Due retries are found
	// whatever it is. Zero scans the whole table.
	AfterMessageID int64
}
