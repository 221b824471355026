package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// benchDB is the throwaway database one benchmark run creates.
type benchDB struct {
	server *mysql.Config // the server, without a database name
	name   string
	config *mysql.Config // the database with koha-webhooks' driver options
	db     *sql.DB
}

// serverConfig parses the server DSN and rejects any address that is not
// TCP on loopback, because the benchmark creates and drops databases there.
func serverConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid -server %q: %w (expected e.g. root@tcp(127.0.0.1:3306)/)", dsn, err)
	}
	if cfg.Net != "tcp" {
		return nil, fmt.Errorf("invalid -server %q: only tcp to a loopback address is allowed", dsn)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("invalid -server address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("invalid -server address %q: the benchmark only connects to loopback (127.0.0.1 or ::1)", cfg.Addr)
	}
	cfg.DBName = ""
	return cfg, nil
}

// createDatabase creates kwbench_<random>, loads Koha's schema into it and
// opens it with the driver options koha-webhooks uses.
func createDatabase(ctx context.Context, server *mysql.Config, schemaPath string) (*benchDB, error) {
	suffix := make([]byte, 6)
	rand.Read(suffix)
	b := &benchDB{server: server, name: "kwbench_" + hex.EncodeToString(suffix)}

	admin, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+b.name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return nil, fmt.Errorf("create database %s on %s (is MariaDB running?): %w", b.name, server.Addr, err)
	}

	if err := b.loadSchema(ctx, schemaPath); err != nil {
		return b, err
	}
	b.config = server.Clone()
	b.config.DBName = b.name
	kohadb.ApplyOptions(b.config)
	b.db, err = kohadb.Open(ctx, b.config)
	return b, err
}

func (b *benchDB) loadSchema(ctx context.Context, path string) error {
	loader := b.server.Clone()
	loader.DBName = b.name
	loader.MultiStatements = true
	db, err := sql.Open("mysql", loader.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return kohadb.LoadSchemaFile(ctx, db, path)
}

// dsn returns the DSN the koha-webhooks child connects with.
func (b *benchDB) dsn() string { return b.config.FormatDSN() }

// drop closes the pool and drops the database. It uses its own context so
// that it also runs after an interrupt.
func (b *benchDB) drop() error {
	if b == nil {
		return nil
	}
	if b.db != nil {
		b.db.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("mysql", b.server.FormatDSN())
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+b.name+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", b.name, err)
	}
	return nil
}

// globalCounters reads the server-wide statement counters. They count every
// client's statements, so they describe one program only on an otherwise
// idle server.
func globalCounters(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SHOW GLOBAL STATUS WHERE Variable_name IN
		('Com_select', 'Com_insert', 'Com_update', 'Com_delete', 'Com_insert_select', 'Com_begin', 'Com_commit', 'Com_rollback', 'Questions')`)
	if err != nil {
		return nil, fmt.Errorf("read SHOW GLOBAL STATUS: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var value int64
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("read SHOW GLOBAL STATUS: %w", err)
		}
		out[name] = value
	}
	return out, rows.Err()
}

func counterDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

func serverVersion(ctx context.Context, db *sql.DB) string {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return v
}
