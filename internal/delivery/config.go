package delivery

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxConcurrency = 16
	// DefaultGzipThreshold is 3 MiB: a JSON body longer than this many
	// bytes is sent gzip-compressed.
	DefaultGzipThreshold = 3 * 1024 * 1024
)

// signingSecretPrefix marks a Standard Webhooks secret whose key follows as
// base64.
const signingSecretPrefix = "whsec_"

// Config configures a Client. New applies the defaults and validates it.
type Config struct {
	// AuthURL is the OAuth2 token endpoint, an absolute http or https URL.
	// Required.
	AuthURL string

	// ClientID is the OAuth2 client id. Required.
	ClientID string

	// ClientSecret is the OAuth2 client secret, sent in the form body of
	// the token request. Required. It never appears in an error message.
	ClientSecret string

	// NoticeURL is the webhook URL that notices are POSTed to, an absolute
	// http or https URL. Required.
	NoticeURL string

	// CustomerID is sent as the customer-id header when not empty.
	CustomerID string

	// SigningSecret enables the Standard Webhooks signature headers when
	// not empty. A value starting with "whsec_" is decoded from base64
	// after the prefix, and any other value is used as raw key bytes.
	SigningSecret string

	// UserAgent is the User-Agent header. Empty selects
	// "koha-webhooks/<version>".
	UserAgent string

	// Timeout bounds one POST to the notice URL and one token request,
	// from dialing until the response body is read. Zero selects
	// DefaultTimeout.
	Timeout time.Duration

	// ConnectTimeout bounds establishing a TCP connection. Zero selects
	// DefaultConnectTimeout. It has no effect when Transport is set.
	ConnectTimeout time.Duration

	// MaxConcurrency is the maximum number of POSTs in flight at once and
	// the number of idle connections kept per host. Zero selects
	// DefaultMaxConcurrency.
	MaxConcurrency int

	// GzipThreshold is the body size in bytes above which the body is
	// gzip-compressed. Zero selects DefaultGzipThreshold, and a negative
	// value disables compression.
	GzipThreshold int

	// Transport sends the HTTP requests. Nil selects an http.Transport
	// with keep-alive, HTTP/2, proxy settings from the environment, and
	// the connect timeout and connection limits above. Tests set it.
	Transport http.RoundTripper
}

// ConfigError is an invalid Config field. The caller maps Field to the
// setting name shown to the user, such as WEBHOOK_NOTICE_URL.
type ConfigError struct {
	// Field is the Config field name, such as "NoticeURL".
	Field string
	// Problem describes what is wrong, such as "is missing".
	Problem string
}

func (e *ConfigError) Error() string {
	return "delivery config: " + e.Field + " " + e.Problem
}

// withDefaults returns cfg with zero fields set to their defaults, or a
// ConfigError for the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	if err := checkURL("AuthURL", cfg.AuthURL); err != nil {
		return cfg, err
	}
	if cfg.ClientID == "" {
		return cfg, &ConfigError{Field: "ClientID", Problem: "is missing"}
	}
	if cfg.ClientSecret == "" {
		return cfg, &ConfigError{Field: "ClientSecret", Problem: "is missing"}
	}
	if err := checkURL("NoticeURL", cfg.NoticeURL); err != nil {
		return cfg, err
	}

	if cfg.UserAgent == "" {
		cfg.UserAgent = "koha-webhooks/" + version.Version
	}
	durations := []struct {
		field string
		value *time.Duration
		def   time.Duration
	}{
		{"Timeout", &cfg.Timeout, DefaultTimeout},
		{"ConnectTimeout", &cfg.ConnectTimeout, DefaultConnectTimeout},
	}
	for _, d := range durations {
		if *d.value < 0 {
			return cfg, &ConfigError{Field: d.field, Problem: fmt.Sprintf("must not be negative, got %s", *d.value)}
		}
		if *d.value == 0 {
			*d.value = d.def
		}
	}
	if cfg.MaxConcurrency < 0 {
		return cfg, &ConfigError{Field: "MaxConcurrency", Problem: fmt.Sprintf("must not be negative, got %d", cfg.MaxConcurrency)}
	}
	if cfg.MaxConcurrency == 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.GzipThreshold == 0 {
		cfg.GzipThreshold = DefaultGzipThreshold
	}
	return cfg, nil
}

// checkURL returns a ConfigError unless value is an absolute http or https
// URL with a host. The message shows the URL with any password redacted.
func checkURL(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return &ConfigError{Field: field, Problem: "is missing"}
	}
	u, err := url.Parse(value)
	if err != nil {
		return &ConfigError{Field: field, Problem: "is not a valid URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &ConfigError{Field: field, Problem: fmt.Sprintf("must be an http or https URL, got %q", u.Redacted())}
	}
	if u.Host == "" {
		return &ConfigError{Field: field, Problem: fmt.Sprintf("has no host, got %q", u.Redacted())}
	}
	return nil
}

// decodeSigningSecret returns the HMAC key for a signing secret, or nil
// when the secret is empty.
func decodeSigningSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	encoded, ok := strings.CutPrefix(secret, signingSecretPrefix)
	if !ok {
		return []byte(secret), nil
	}

	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// Secrets printed without padding are accepted too.
		key, err = base64.RawStdEncoding.DecodeString(encoded)
	}
	if err != nil {
		return nil, &ConfigError{Field: "SigningSecret", Problem: "is not valid base64 after the whsec_ prefix"}
	}
	if len(key) == 0 {
		return nil, &ConfigError{Field: "SigningSecret", Problem: "has an empty key after the whsec_ prefix"}
	}
	return key, nil
}

// newTransport returns the default transport: keep-alive connections,
// HTTP/2 when the server offers it, and an idle pool large enough that
// every concurrent POST can reuse a connection.
func newTransport(cfg Config) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   cfg.ConnectTimeout,
		KeepAlive: 30 * time.Second,
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, 2*cfg.MaxConcurrency),
		MaxIdleConnsPerHost:   cfg.MaxConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ExpectContinueTimeout: time.Second,
	}
}
