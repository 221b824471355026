package config

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// Loaded holds the resolved settings and the open database connection they
// were partly read from.
type Loaded struct {
	*Sources
	Settings *Settings
	// DB is connected to Koha's database. Close closes it.
	DB *sql.DB
}

// Close closes the database connection.
func (l *Loaded) Close() error { return l.DB.Close() }

// Load reads every source in order: flags and environment, koha-conf.xml,
// then Koha's database through the connection those name. It returns the
// validated settings with the connection still open.
func Load(ctx context.Context, in Inputs) (*Loaded, error) {
	src, err := Open(in)
	if err != nil {
		return nil, err
	}
	dbConfig, err := src.DatabaseConfig()
	if err != nil {
		return nil, err
	}
	db, err := kohadb.Open(ctx, dbConfig)
	if err != nil {
		// Failure policy: fail closed, because the settings stored in Koha
		// outrank koha-conf.xml and cannot be known without the database.
		return nil, src.withoutDatabase(err)
	}
	loaded, err := src.finish(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return loaded, nil
}

func (s *Sources) finish(ctx context.Context, db *sql.DB) (*Loaded, error) {
	if err := s.ReadStored(ctx, db); err != nil {
		return nil, err
	}
	settings, err := s.Settings()
	if err != nil {
		return nil, err
	}
	if s.in.RequireDelivery && !settings.TestMode {
		if err := settings.CheckDelivery(); err != nil {
			return nil, err
		}
	}
	return &Loaded{Sources: s, Settings: settings, DB: db}, nil
}

// withoutDatabase adds to a connection error any setting that is missing or
// invalid in the other sources, so that one run reports both problems.
func (s *Sources) withoutDatabase(connectErr error) error {
	settings, err := s.Settings()
	if err == nil && s.in.RequireDelivery && !settings.TestMode {
		err = settings.CheckDelivery()
	}
	if err == nil {
		return connectErr
	}
	return fmt.Errorf("%w; so the settings stored in Koha were not read, and %w", connectErr, err)
}
