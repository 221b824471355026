package inbound_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/inbound"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	// sql.Open does not connect, so no database is needed.
	db, err := sql.Open("mysql", "user@tcp(127.0.0.1:1)/koha")
	must(t, err)
	defer db.Close()

	tests := []struct {
		name      string
		config    inbound.Config
		wantField string // "" when New must succeed
	}{
		{"defaults", inbound.Config{DB: db}, ""},
		{"nil DB", inbound.Config{}, "DB"},
		{"short token", inbound.Config{DB: db, BearerTokens: []string{"short"}}, "BearerTokens"},
		{"token with space", inbound.Config{DB: db, BearerTokens: []string{"0123456789 abcdefgh"}}, "BearerTokens"},
		{"lifetime too short", inbound.Config{DB: db, TokenLifetime: time.Second}, "TokenLifetime"},
		{"lifetime too long", inbound.Config{DB: db, TokenLifetime: 48 * time.Hour}, "TokenLifetime"},
		{"lifetime at maximum", inbound.Config{DB: db, TokenLifetime: inbound.MaxTokenLifetime}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, err := inbound.New(tt.config)
			if tt.wantField == "" {
				if err != nil || api == nil {
					t.Fatalf("New() error = %v, want none", err)
				}
				return
			}
			var configErr *inbound.ConfigError
			if !errors.As(err, &configErr) {
				t.Fatalf("New() error = %v, want *ConfigError", err)
			}
			if configErr.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", configErr.Field, tt.wantField)
			}
		})
	}
}

func TestConfigErrorHidesToken(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("mysql", "user@tcp(127.0.0.1:1)/koha")
	must(t, err)
	defer db.Close()
	_, err = inbound.New(inbound.Config{DB: db, BearerTokens: []string{"0123456789abcdef", "secret token!"}})
	if err == nil {
		t.Fatal("New() accepted a token with a space")
	}
	if strings.Contains(err.Error(), "secret token!") {
		t.Errorf("error %q contains the token", err)
	}
	if !strings.Contains(err.Error(), "#2") {
		t.Errorf("error %q does not name token #2", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	f := setup(t)
	must(t, inbound.Migrate(f.ctx, f.db))
	must(t, inbound.Migrate(f.ctx, f.db))
}
