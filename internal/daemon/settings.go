package daemon

import (
	"fmt"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
)

// MinPollInterval is the shortest poll interval accepted.
const MinPollInterval = 10 * time.Millisecond

// serveSettings are the settings only the daemon reads.
type serveSettings struct {
	pollInterval     time.Duration
	fullScanInterval time.Duration
	// apiTokens are the static bearer tokens of the inbound API.
	apiTokens []string
}

// CheckSettings reports the first setting that keeps an instance from being
// served: an invalid poll_interval, full_scan_interval or api_tokens, test
// mode, a missing database or delivery setting.
func CheckSettings(s *config.Settings) error {
	_, err := parseServeSettings(s)
	return err
}

func parseServeSettings(s *config.Settings) (serveSettings, error) {
	var out serveSettings
	if s.TestMode {
		return out, &config.SettingError{Value: value(s, "test_mode"),
			Reason: "not supported by serve, which would archive the same notices on every poll; use koha-webhooks run --test-mode"}
	}
	if s.DSN == "" && s.Database == nil {
		return out, &config.SettingError{Value: value(s, "database"), Reason: "missing"}
	}
	if err := s.CheckDelivery(); err != nil {
		return out, err
	}

	var err error
	if out.pollInterval, err = parseInterval(s, "poll_interval", MinPollInterval); err != nil {
		return out, err
	}
	if out.fullScanInterval, err = parseInterval(s, "full_scan_interval", out.pollInterval); err != nil {
		return out, err
	}
	for _, token := range strings.Split(value(s, "api_tokens").Value, ",") {
		if token = strings.TrimSpace(token); token != "" {
			out.apiTokens = append(out.apiTokens, token)
		}
	}
	return out, nil
}

func parseInterval(s *config.Settings, name string, minimum time.Duration) (time.Duration, error) {
	v := value(s, name)
	d, err := time.ParseDuration(strings.TrimSpace(v.Value))
	if err != nil || d < minimum {
		return 0, &config.SettingError{Value: v,
			Reason: fmt.Sprintf("invalid (%q); use a Go duration of at least %s, e.g. %s", v.Value, minimum, v.Spec.Default)}
	}
	return d, nil
}

// value returns the resolved setting name, or its default when the
// settings were built without it.
func value(s *config.Settings, name string) config.Value {
	if v, ok := s.Values[name]; ok && v.Spec != nil {
		return v
	}
	for i := range config.Specs {
		if spec := &config.Specs[i]; spec.Name == name {
			return config.Value{Spec: spec, Value: spec.Default, Source: config.SourceDefault}
		}
	}
	panic("daemon: unknown setting " + name)
}
