// Package site opens one Koha site for delivery: it connects to the
// database, creates the project's tables, checks the archive directory, and
// builds the delivery client and the pass runner from the site's settings.
// The run and serve commands share it.
package site

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/archive"
	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/retry"
	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// Options holds the settings that differ between the commands that open
// a site.
type Options struct {
	// Interface is written to action_logs.interface: "cron" or "daemon".
	Interface string
	// LogEveryPass writes action_logs rows for passes that found nothing.
	LogEveryPass bool
	// GracePeriod bounds the deliveries in flight after a stop; zero takes
	// the pass default.
	GracePeriod time.Duration
	// Observer receives deliveries and outcomes; may be nil.
	Observer pass.Observer
	// Transport sends the HTTP requests; nil takes the delivery default.
	Transport http.RoundTripper
	// Migrate creates further tables after the project's own, e.g. the
	// inbound API's; may be nil.
	Migrate func(ctx context.Context, db *sql.DB) error
	// Logger receives the passes' log lines.
	Logger *slog.Logger
}

// Site is an opened Koha site.
type Site struct {
	DB     *sql.DB
	Runner *pass.Runner
	client *delivery.Client
}

// Close closes the delivery client and the database pool.
func (s *Site) Close() {
	if s.client != nil {
		s.client.Close()
	}
	s.DB.Close()
}

// Open connects to the site's database and builds its pass runner. In test
// mode it creates no tables and builds no delivery client.
func Open(ctx context.Context, s *config.Settings, opt Options) (*Site, error) {
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
	site := &Site{DB: db}
	if err := site.build(ctx, s, opt); err != nil {
		site.Close()
		return nil, err
	}
	return site, nil
}

func (site *Site) build(ctx context.Context, s *config.Settings, opt Options) error {
	schema, err := kohadb.ReadSchema(ctx, site.DB)
	if err != nil {
		return err
	}
	if !s.TestMode {
		if err := queue.Migrate(ctx, site.DB); err != nil {
			return err
		}
		if opt.Migrate != nil {
			if err := opt.Migrate(ctx, site.DB); err != nil {
				return err
			}
		}
	}
	if s.ArchivePath != "" {
		if err := archive.EnsureDir(s.ArchivePath); err != nil {
			return err
		}
	}
	q, err := queue.New(queue.Config{DB: site.DB, Lease: s.Lease})
	if err != nil {
		return err
	}
	cfg := pass.Config{
		DB: site.DB, Schema: schema, Queue: q,
		Retry:   retry.Policy{Schedule: s.RetrySchedule},
		Payload: s.Payload, ArchiveDir: s.ArchivePath, TestMode: s.TestMode,
		SkipOverdueCalls: s.SkipOverdueCalls, BatchSize: s.BatchSize, Concurrency: s.Concurrency,
		GracePeriod: opt.GracePeriod, Interface: opt.Interface, LogEveryPass: opt.LogEveryPass,
		Version: version.Version, Logger: opt.Logger, Observer: opt.Observer,
	}
	if !s.TestMode {
		site.client, err = delivery.New(delivery.Config{
			AuthURL: s.AuthURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
			NoticeURL: s.NoticeURL, CustomerID: s.CustomerID, SigningSecret: s.SigningSecret,
			Timeout: s.Timeout, MaxConcurrency: s.Concurrency, Transport: opt.Transport,
		})
		if err != nil {
			return DeliverySettingError(s, err)
		}
		cfg.Deliverer = site.client
	}
	site.Runner, err = pass.New(cfg)
	return err
}

// DeliverySettingError returns err as a config.SettingError naming the
// setting behind a delivery.ConfigError, and other errors unchanged.
func DeliverySettingError(s *config.Settings, err error) error {
	var ce *delivery.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	names := map[string]string{"AuthURL": "auth_url", "ClientID": "client_id", "ClientSecret": "client_secret",
		"NoticeURL": "notice_url", "CustomerID": "customer_id", "SigningSecret": "signing_secret"}
	if name, ok := names[ce.Field]; ok {
		v := s.Values[name]
		if v.Spec == nil {
			v.Spec = config.SpecByName(name)
		}
		return &config.SettingError{Value: v, Reason: strings.TrimSpace(ce.Problem)}
	}
	return err
}
