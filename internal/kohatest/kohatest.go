// Package kohatest gives tests a fresh MariaDB database holding Koha's real
// schema, dropped when the test ends.
package kohatest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// ServerDSNEnv names the DSN of the MariaDB server tests create databases on
// (no database name). The default is root with no password on 127.0.0.1:3306.
const ServerDSNEnv = "KOHA_TEST_SERVER_DSN"

// ServerConfig returns the driver configuration of the test server.
func ServerConfig(t testing.TB) *mysql.Config {
	t.Helper()
	dsn := os.Getenv(ServerDSNEnv)
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", ServerDSNEnv, err)
	}
	return cfg
}

// Database is a throwaway Koha database.
type Database struct {
	DB     *sql.DB       // connection pool with koha-webhooks' driver options
	Config *mysql.Config // its driver configuration; FormatDSN gives a DSN
	Name   string
}

// DSN returns a DSN for the database.
func (d *Database) DSN() string { return d.Config.FormatDSN() }

// NewDB creates a uniquely named database, loads Koha's current schema into
// it and drops it when the test ends.
func NewDB(t testing.TB) *Database {
	t.Helper()
	path, err := kohadb.SchemaPath()
	if err != nil {
		t.Fatal(err)
	}
	return NewDBWithSchema(t, path)
}

// NewDBWithSchema is NewDB with a given schema file, for tests against older
// Koha releases.
func NewDBWithSchema(t testing.TB, schemaPath string) *Database {
	t.Helper()
	ctx := context.Background()
	name := "kwtest_" + randomSuffix()

	server := ServerConfig(t)
	server.DBName = ""
	admin, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database (is MariaDB running?): %v", err)
	}
	t.Cleanup(func() { dropDatabase(server, name) })

	loader := server.Clone()
	loader.DBName = name
	loader.MultiStatements = true
	loadDB, err := sql.Open("mysql", loader.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer loadDB.Close()
	loadDB.SetMaxOpenConns(1)
	if err := kohadb.LoadSchemaFile(ctx, loadDB, schemaPath); err != nil {
		t.Fatal(err)
	}

	cfg := server.Clone()
	cfg.DBName = name
	kohadb.ApplyOptions(cfg)
	db, err := kohadb.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Database{DB: db, Config: cfg, Name: name}
}

func dropDatabase(server *mysql.Config, name string) {
	admin, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		return
	}
	defer admin.Close()
	admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
