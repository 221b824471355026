package delivery

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

func validConfig() Config {
	return Config{
		AuthURL:      "https://auth.example/oauth/token",
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		NoticeURL:    "https://notices.example/hook",
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		change      func(*Config)
		wantField   string
		wantProblem string
	}{
		{"auth url missing", func(c *Config) { c.AuthURL = "" }, "AuthURL", "is missing"},
		{"auth url blank", func(c *Config) { c.AuthURL = "  " }, "AuthURL", "is missing"},
		{"auth url scheme", func(c *Config) { c.AuthURL = "ftp://auth.example/token" }, "AuthURL", `must be an http or https URL, got "ftp://auth.example/token"`},
		{"auth url relative", func(c *Config) { c.AuthURL = "/oauth/token" }, "AuthURL", "must be an http or https URL"},
		{"auth url unparsable", func(c *Config) { c.AuthURL = "http://[::1" }, "AuthURL", "is not a valid URL"},
		{"client id missing", func(c *Config) { c.ClientID = "" }, "ClientID", "is missing"},
		{"client secret missing", func(c *Config) { c.ClientSecret = "" }, "ClientSecret", "is missing"},
		{"notice url missing", func(c *Config) { c.NoticeURL = "" }, "NoticeURL", "is missing"},
		{"notice url no host", func(c *Config) { c.NoticeURL = "https:///hook" }, "NoticeURL", "has no host"},
		{"notice url password redacted", func(c *Config) { c.NoticeURL = "ws://user:pw@notices.example/" }, "NoticeURL", `got "ws://user:xxxxx@notices.example/"`},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout", "must not be negative, got -1s"},
		{"negative connect timeout", func(c *Config) { c.ConnectTimeout = -time.Second }, "ConnectTimeout", "must not be negative"},
		{"negative concurrency", func(c *Config) { c.MaxConcurrency = -1 }, "MaxConcurrency", "must not be negative, got -1"},
		{"bad signing secret", func(c *Config) { c.SigningSecret = "whsec_!!!" }, "SigningSecret", "is not valid base64 after the whsec_ prefix"},
		{"empty signing key", func(c *Config) { c.SigningSecret = "whsec_" }, "SigningSecret", "has an empty key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tc.change(&cfg)

			c, err := New(cfg)

			if c != nil {
				c.Close()
			}
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) {
				t.Fatalf("New() error = %v, want *ConfigError", err)
			}
			if cfgErr.Field != tc.wantField {
				t.Errorf("Field = %q, want %q", cfgErr.Field, tc.wantField)
			}
			if !strings.Contains(cfgErr.Problem, tc.wantProblem) {
				t.Errorf("Problem = %q, want it to contain %q", cfgErr.Problem, tc.wantProblem)
			}
			if strings.Contains(err.Error(), testClientSecret) {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(validConfig())
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(c.Close)

	if got, want := c.cfg.UserAgent, "koha-webhooks/"+version.Version; got != want {
		t.Errorf("UserAgent = %q, want %q", got, want)
	}
	if c.cfg.Timeout != DefaultTimeout {
		t.Errorf("Timeout = %s, want %s", c.cfg.Timeout, DefaultTimeout)
	}
	if c.cfg.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("ConnectTimeout = %s, want %s", c.cfg.ConnectTimeout, DefaultConnectTimeout)
	}
	if c.cfg.MaxConcurrency != DefaultMaxConcurrency {
		t.Errorf("MaxConcurrency = %d, want %d", c.cfg.MaxConcurrency, DefaultMaxConcurrency)
	}
	if c.cfg.GzipThreshold != 3*1024*1024 {
		t.Errorf("GzipThreshold = %d, want %d", c.cfg.GzipThreshold, 3*1024*1024)
	}
	if cap(c.slots) != DefaultMaxConcurrency {
		t.Errorf("concurrency slots = %d, want %d", cap(c.slots), DefaultMaxConcurrency)
	}
	if c.signingKey != nil {
		t.Errorf("signing key = %q, want none", c.signingKey)
	}
}

func TestNewTransport(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.MaxConcurrency = 40
	cfg.ConnectTimeout = 3 * time.Second
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults() error = %v", err)
	}
	tr := newTransport(cfg)

	if tr.MaxIdleConnsPerHost != 40 {
		t.Errorf("MaxIdleConnsPerHost = %d, want 40", tr.MaxIdleConnsPerHost)
	}
	if tr.MaxIdleConns < 40 {
		t.Errorf("MaxIdleConns = %d, want at least 40", tr.MaxIdleConns)
	}
	if !tr.ForceAttemptHTTP2 {
		t.Error("ForceAttemptHTTP2 = false, want true")
	}
	if tr.DisableKeepAlives {
		t.Error("DisableKeepAlives = true, want false")
	}
	if tr.TLSHandshakeTimeout != 3*time.Second {
		t.Errorf("TLSHandshakeTimeout = %s, want 3s", tr.TLSHandshakeTimeout)
	}
}

func TestDecodeSigningSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		want   []byte
	}{
		{"empty", "", nil},
		{"raw", "plain-secret", []byte("plain-secret")},
		{"whsec padded", "whsec_c2VjcmV0LWtleQ==", []byte("secret-key")},
		{"whsec unpadded", "whsec_c2VjcmV0LWtleQ", []byte("secret-key")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeSigningSecret(tc.secret)
			if err != nil {
				t.Fatalf("decodeSigningSecret(%q) error = %v", tc.secret, err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("decodeSigningSecret(%q) = %q, want %q", tc.secret, got, tc.want)
			}
		})
	}
}
