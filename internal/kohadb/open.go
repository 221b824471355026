package kohadb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ConfigError reports a database setting that cannot be used.
type ConfigError struct {
	Setting string // the setting's name, e.g. KOHA_DB_DSN
	Reason  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s is invalid: %s", e.Setting, e.Reason)
}

// ParseDSN parses a Go MySQL driver DSN and sets the options koha-webhooks
// needs: utf8mb4 with Koha's collation, dates returned as the text MariaDB
// stores (never converted to time.Time), client-side parameter interpolation
// so that each statement costs one round trip, and bounded dial and I/O
// timeouts when the DSN sets none.
func ParseDSN(dsn string) (*mysql.Config, error) {
	if dsn == "" {
		return nil, &ConfigError{Setting: "KOHA_DB_DSN", Reason: "it is empty; set it to a DSN such as koha_user:password@tcp(127.0.0.1:3306)/koha_library, or point --koha-conf at the instance's koha-conf.xml"}
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, &ConfigError{Setting: "KOHA_DB_DSN", Reason: err.Error() + " (expected user:password@tcp(host:3306)/database)"}
	}
	if cfg.DBName == "" {
		return nil, &ConfigError{Setting: "KOHA_DB_DSN", Reason: "no database name; append /<koha database>, e.g. .../koha_library"}
	}
	ApplyOptions(cfg)
	return cfg, nil
}

// ApplyOptions sets the driver options described at ParseDSN on cfg.
func ApplyOptions(cfg *mysql.Config) {
	cfg.Collation = "utf8mb4_unicode_ci"
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// Koha writes and compares in a session without strict mode; keep the
	// same so that rows Koha wrote (zero dates, long text) read back as-is.
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = "'NO_ENGINE_SUBSTITUTION'"
	}
}

// Open connects to the database described by cfg and pings it.
func Open(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database settings: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(30 * time.Minute)

	pingCtx, cancel := context.WithTimeout(ctx, cfg.Timeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to database %q at %s: %w (check the host, port, user and password)", cfg.DBName, cfg.Addr, err)
	}
	return db, nil
}
