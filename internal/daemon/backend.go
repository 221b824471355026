package daemon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/archive"
	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/inbound"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/metrics"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/retry"
	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// backend is a started instance: its database, pass runner and inbound
// API.
type backend struct {
	db     *sql.DB
	runner *pass.Runner
	api    http.Handler
	serve  serveSettings
	client *delivery.Client
}

func (b *backend) close() {
	b.client.Close()
	b.db.Close()
}

// openBackend validates an instance's settings, connects to its database,
// creates the project's tables and builds the pass runner and inbound API.
func openBackend(ctx context.Context, s *config.Settings, obs *metrics.Instance, log *slog.Logger, grace time.Duration) (*backend, error) {
	serve, err := parseServeSettings(s)
	if err != nil {
		return nil, err
	}
	db, err := openDatabase(ctx, s)
	if err != nil {
		return nil, err
	}
	b := &backend{db: db, serve: serve}
	if err := b.build(ctx, s, obs, log, grace); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

func openDatabase(ctx context.Context, s *config.Settings) (*sql.DB, error) {
	dbConfig := s.Database
	if dbConfig == nil {
		var err error
		if dbConfig, err = kohadb.ParseDSN(s.DSN); err != nil {
			return nil, err
		}
	}
	db, err := kohadb.Open(ctx, dbConfig)
	if err != nil {
		return nil, err
	}
	if err := queue.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := inbound.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (b *backend) build(ctx context.Context, s *config.Settings, obs *metrics.Instance, log *slog.Logger, grace time.Duration) error {
	schema, err := kohadb.ReadSchema(ctx, b.db)
	if err != nil {
		return err
	}
	if s.ArchivePath != "" {
		if err := archive.EnsureDir(s.ArchivePath); err != nil {
			return err
		}
	}
	q, err := queue.New(queue.Config{DB: b.db, Lease: s.Lease})
	if err != nil {
		return err
	}
	b.client, err = delivery.New(delivery.Config{
		AuthURL: s.AuthURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		NoticeURL: s.NoticeURL, CustomerID: s.CustomerID, SigningSecret: s.SigningSecret,
		Timeout: s.Timeout, MaxConcurrency: s.Concurrency,
		Transport: obs.CountTokenRequests(newTransport(s.Concurrency), s.AuthURL),
	})
	if err != nil {
		return deliverySettingError(s, err)
	}
	b.runner, err = pass.New(pass.Config{
		DB: b.db, Schema: schema, Queue: q, Deliverer: b.client,
		Retry:   retry.Policy{Schedule: s.RetrySchedule},
		Payload: s.Payload, ArchiveDir: s.ArchivePath,
		SkipOverdueCalls: s.SkipOverdueCalls, BatchSize: s.BatchSize, Concurrency: s.Concurrency,
		GracePeriod: grace, Interface: "daemon", LogEveryPass: false,
		Version: version.Version, Logger: log, Observer: obs,
	})
	if err == nil {
		b.api, err = newInboundAPI(b.db, s, b.serve.apiTokens, log)
	}
	if err != nil {
		b.client.Close()
	}
	return err
}

func newInboundAPI(db *sql.DB, s *config.Settings, tokens []string, log *slog.Logger) (http.Handler, error) {
	api, err := inbound.New(inbound.Config{DB: db, Logger: log, BearerTokens: tokens})
	var ce *inbound.ConfigError
	if errors.As(err, &ce) && ce.Field == "BearerTokens" {
		return nil, &config.SettingError{Value: value(s, "api_tokens"), Reason: "invalid: " + ce.Reason}
	}
	if err != nil {
		return nil, err
	}
	return api.Handler(), nil
}

// newTransport returns an HTTP transport like the delivery client's own
// default: keep-alive, HTTP/2, proxy settings from the environment, a 10s
// connect timeout and an idle connection per concurrent delivery.
// NOTE: the daemon builds its own transport only so that metrics can count
// token requests; the delivery package has no hook for them.
func newTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: delivery.DefaultConnectTimeout, KeepAlive: 30 * time.Second}
	t.DialContext = dialer.DialContext
	t.MaxIdleConns = max(100, 2*concurrency)
	t.MaxIdleConnsPerHost = concurrency
	t.TLSHandshakeTimeout = delivery.DefaultConnectTimeout
	return t
}

// deliverySettingError names the setting behind a delivery.ConfigError.
func deliverySettingError(s *config.Settings, err error) error {
	var ce *delivery.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	names := map[string]string{"AuthURL": "auth_url", "ClientID": "client_id", "ClientSecret": "client_secret",
		"NoticeURL": "notice_url", "CustomerID": "customer_id", "SigningSecret": "signing_secret"}
	if name, ok := names[ce.Field]; ok {
		return &config.SettingError{Value: value(s, name), Reason: strings.TrimSpace(ce.Problem)}
	}
	return err
}

// head holds the values a poll reads before its pass.
type head struct {
	// maxMessageID is the highest message_id committed in message_queue.
	maxMessageID int64
	// zone is the session's time zone as an offset from UTC.
	zone *time.Location
}

// readHead reads the highest message_id (from the primary key index, one
// row) and the session's offset from UTC in one round trip.
func (b *backend) readHead(ctx context.Context) (head, error) {
	var h head
	var offset int
	err := b.db.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(message_id), 0), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW()) FROM message_queue`).
		Scan(&h.maxMessageID, &offset)
	if err != nil {
		return h, fmt.Errorf("read the newest message_id: %w", err)
	}
	// NOTE: a fixed offset is read before each pass, so a notice queued
	// before a daylight saving change and delivered after it gets a latency
	// off by the change.
	h.zone = time.FixedZone(fmt.Sprintf("UTC%+d", offset), offset)
	return h, nil
}

// countRetries returns the notices waiting for a retry; the state index
// bounds the rows read to those notices.
func (b *backend) countRetries(ctx context.Context) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+queue.DeliveriesTable+` WHERE state = 'retry'`).Scan(&n)
	return n, err
}
