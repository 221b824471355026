package daemon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/inbound"
	"github.com/koha-webhooks/koha-webhooks/internal/metrics"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/site"
)

// backend is a started instance: its opened site and inbound API.
type backend struct {
	*site.Site
	db    *sql.DB
	api   http.Handler
	serve serveSettings
}

func (b *backend) close() { b.Close() }

// openBackend validates an instance's settings, opens its site (database,
// the project's and the inbound API's tables, pass runner) and builds the
// inbound API.
func openBackend(ctx context.Context, s *config.Settings, obs *metrics.Instance, log *slog.Logger, grace time.Duration) (*backend, error) {
	serve, err := parseServeSettings(s)
	if err != nil {
		return nil, err
	}
	opened, err := site.Open(ctx, s, site.Options{
		Interface: "daemon", GracePeriod: grace, Observer: obs, Logger: log, Migrate: inbound.Migrate,
		Transport: obs.CountTokenRequests(newTransport(s.Concurrency), s.AuthURL),
	})
	if err != nil {
		return nil, err
	}
	b := &backend{Site: opened, db: opened.DB, serve: serve}
	if b.api, err = newInboundAPI(b.db, s, serve.apiTokens, log); err != nil {
		opened.Close()
		return nil, err
	}
	return b, nil
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
