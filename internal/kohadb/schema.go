package kohadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// SchemaEnv is the environment variable naming Koha's kohastructure.sql.
// On a Koha server the installed release's copy is
// /usr/share/koha/intranet/cgi-bin/installer/data/mysql/kohastructure.sql.
const SchemaEnv = "KOHA_SCHEMA_SQL"

// SchemaPath returns the path of kohastructure.sql: $KOHA_SCHEMA_SQL when
// set, else ../shared/koha/kohastructure.sql beside the module root found by
// walking up from the working directory.
func SchemaPath() (string, error) {
	if p := os.Getenv(SchemaEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "koha", "kohastructure.sql")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("Koha schema not found at %s: set %s to the path of kohastructure.sql", p, SchemaEnv)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("Koha schema not found: set %s to the path of kohastructure.sql", SchemaEnv)
		}
		dir = parent
	}
}

// LoadSchemaFile runs every statement of a mysqldump-style schema file (such
// as Koha's kohastructure.sql) in the database db is connected to. db must
// allow multiple statements per query.
func LoadSchemaFile(ctx context.Context, db *sql.DB, path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read Koha schema: %w", err)
	}
	if _, err := db.ExecContext(ctx, string(text)); err != nil {
		return fmt.Errorf("load Koha schema %s: %w", path, err)
	}
	return nil
}

// Schema lists the tables and columns of the connected database, so that code
// written for one Koha release degrades on another instead of failing.
type Schema struct {
	columns map[string]map[string]bool
}

// ReadSchema reads the table and column names of the current database.
func ReadSchema(ctx context.Context, db *sql.DB) (*Schema, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT LOWER(TABLE_NAME), LOWER(COLUMN_NAME) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	s := &Schema{columns: map[string]map[string]bool{}}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		if s.columns[table] == nil {
			s.columns[table] = map[string]bool{}
		}
		s.columns[table][column] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	if !s.HasTable("message_queue") {
		return nil, errors.New("the database has no message_queue table: is this a Koha database?")
	}
	return s, nil
}

// HasTable reports whether the table exists.
func (s *Schema) HasTable(table string) bool {
	return s.columns[strings.ToLower(table)] != nil
}

// HasColumn reports whether table has column.
func (s *Schema) HasColumn(table, column string) bool {
	return s.columns[strings.ToLower(table)][strings.ToLower(column)]
}

// Preferences reads Koha system preferences and caches them for the life
// of the value.
type Preferences struct {
	db    *sql.DB
	mu    sync.Mutex
	cache map[string]*string
}

// NewPreferences returns a preference reader over db.
func NewPreferences(db *sql.DB) *Preferences {
	return &Preferences{db: db, cache: map[string]*string{}}
}

// Get returns the value of system preference name and whether it is set.
// Names are case-insensitive, as in Koha.
func (p *Preferences) Get(ctx context.Context, name string) (string, bool, error) {
	key := strings.ToLower(name)
	p.mu.Lock()
	v, cached := p.cache[key]
	p.mu.Unlock()
	if cached {
		if v == nil {
			return "", false, nil
		}
		return *v, true, nil
	}

	var value sql.NullString
	err := p.db.QueryRowContext(ctx, `SELECT value FROM systempreferences WHERE variable = ?`, name).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v = nil
	case err != nil:
		return "", false, fmt.Errorf("read system preference %s: %w", name, err)
	default:
		s := value.String
		v = &s
	}
	p.mu.Lock()
	p.cache[key] = v
	p.mu.Unlock()
	if v == nil {
		return "", false, nil
	}
	return *v, true, nil
}
