package inbound

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Defaults and limits applied by New.
const (
	// DefaultTokenLifetime is the lifetime of issued access tokens.
	DefaultTokenLifetime = time.Hour
	// MinTokenLifetime and MaxTokenLifetime bound Config.TokenLifetime.
	// Clients that need a longer-lived credential get a static token.
	MinTokenLifetime = time.Minute
	MaxTokenLifetime = 24 * time.Hour
	// MinBearerTokenLength is the minimum length in bytes of a configured
	// static token, so that a short token cannot be guessed.
	MinBearerTokenLength = 16
)

// Config configures an API. New applies the defaults and validates it.
type Config struct {
	// DB is the Koha database. Migrate must have created this package's
	// tables in it. Required.
	DB *sql.DB

	// Logger receives request outcomes and errors. Nil selects
	// slog.Default(). Passwords, secrets and tokens are never logged.
	Logger *slog.Logger

	// BearerTokens are static tokens accepted in an "Authorization: Bearer"
	// header with every permission. Each must be at least
	// MinBearerTokenLength bytes without whitespace. They are compared in
	// constant time. Empty disables static tokens.
	BearerTokens []string

	// TokenLifetime is how long an access token issued by the token
	// endpoint stays valid. Zero selects DefaultTokenLifetime. It must lie
	// between MinTokenLifetime and MaxTokenLifetime.
	TokenLifetime time.Duration

	// Now returns the current time. Nil selects time.Now. Tests replace it.
	Now func() time.Time
}

// ConfigError is an invalid Config field.
type ConfigError struct {
	Field  string // the Config field, e.g. "TokenLifetime"
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("inbound API: %s is invalid: %s", e.Field, e.Reason)
}

// API serves the inbound routes. It is safe for concurrent use.
type API struct {
	db            *sql.DB
	log           *slog.Logger
	staticTokens  [][sha256.Size]byte // SHA-256 of each configured token, in order
	tokenLifetime time.Duration
	now           func() time.Time
	rejections    *rejectionLog
}

// New applies defaults to cfg, validates it and returns an API.
func New(cfg Config) (*API, error) {
	if cfg.DB == nil {
		return nil, &ConfigError{Field: "DB", Reason: "it is nil; pass the Koha database"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.TokenLifetime < MinTokenLifetime || cfg.TokenLifetime > MaxTokenLifetime {
		return nil, &ConfigError{Field: "TokenLifetime", Reason: fmt.Sprintf("%s is outside %s to %s", cfg.TokenLifetime, MinTokenLifetime, MaxTokenLifetime)}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hashes := make([][sha256.Size]byte, len(cfg.BearerTokens))
	for i, token := range cfg.BearerTokens {
		// The messages name the token by position, never by value.
		if len(token) < MinBearerTokenLength {
			return nil, &ConfigError{Field: "BearerTokens", Reason: fmt.Sprintf("token #%d is shorter than %d bytes; use a long random value", i+1, MinBearerTokenLength)}
		}
		if strings.IndexFunc(token, unicode.IsSpace) >= 0 {
			return nil, &ConfigError{Field: "BearerTokens", Reason: fmt.Sprintf("token #%d contains whitespace", i+1)}
		}
		hashes[i] = sha256.Sum256([]byte(token))
	}
	return &API{
		db:            cfg.DB,
		log:           cfg.Logger,
		staticTokens:  hashes,
		tokenLifetime: cfg.TokenLifetime,
		now:           cfg.Now,
		rejections:    newRejectionLog(cfg.Logger, cfg.Now),
	}, nil
}

// Paths served by Handler.
const (
	// PathPrefix is the prefix a reverse proxy forwards to koha-webhooks.
	PathPrefix       = "/api/v1/contrib/webhook_notifications/"
	statusPath       = PathPrefix + "message/{message_id}/status"
	contentPath      = PathPrefix + "message/{message_id}/content"
	tokenPath        = "/api/v1/oauth/token"
	contribTokenPath = PathPrefix + "oauth/token"
	openAPIPath      = PathPrefix + "openapi.json"
	openAPIAliasPath = PathPrefix + "openapi"
)

// Handler returns the handler of all inbound routes. Requests for other
// paths get 404, and a wrong method on a known path gets 405.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+statusPath, a.requireCaller(a.handleStatus))
	mux.Handle("POST "+contentPath, a.requireCaller(a.handleContent))
	mux.HandleFunc("POST "+tokenPath, a.handleToken)
	mux.HandleFunc("POST "+contribTokenPath, a.handleToken)
	mux.HandleFunc("GET "+openAPIPath, serveOpenAPI)
	mux.HandleFunc("GET "+openAPIAliasPath, serveOpenAPI)
	return mux
}
