// Package config resolves koha-webhooks' settings from their sources, in
// order of precedence: command-line flag, environment variable, settings
// stored in Koha's database, koha-conf.xml, default. Each resolved value
// remembers its source so that `koha-webhooks config show` can tell where a
// setting came from.
package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
	"github.com/koha-webhooks/koha-webhooks/internal/retry"
)

// Source names where a setting's value came from.
type Source string

// The sources, highest precedence first.
const (
	SourceFlag     Source = "flag"
	SourceEnv      Source = "environment"
	SourceDatabase Source = "Koha database"
	SourceKohaConf Source = "koha-conf.xml"
	SourceDefault  Source = "default"
)

// Spec describes one setting.
type Spec struct {
	Name        string // setting name used in messages and `config show`
	Env         string // environment variable
	KohaConf    string // koha-conf.xml element under <config>, "" if none
	Credential  string // field of the encrypted WebhookCredentials preference, "" if none
	PluginData  string // plugin_data key of the Perl plugin, "" if none
	Default     string
	Secret      bool   // never printed or logged
	Description string // help text: what it sets, in what unit
}

// Specs lists every setting.
var Specs = []Spec{
	{Name: "koha_conf", Env: "KOHA_CONF", Description: "path of the Koha instance's koha-conf.xml, read for the database connection, encryption_key and webhook_* settings"},
	{Name: "instance", Env: "KOHA_INSTANCE", Description: "Koha instance name: reads " + kohaconf.DefaultSitesDir + "/NAME/koha-conf.xml unless koha_conf is set, and archives to /var/lib/koha/NAME/webhook_notifications_archive by default"},
	{Name: "database", Env: "KOHA_DB_DSN", Description: "Koha database as a Go MySQL driver DSN, e.g. koha_lib:pw@tcp(127.0.0.1:3306)/koha_lib (default: the database settings of koha-conf.xml)", Secret: true},
	{Name: "auth_url", Env: "WEBHOOK_AUTH_URL", KohaConf: "webhook_auth_url", Credential: "auth_url", Description: "OAuth2 token endpoint (client credentials grant)"},
	{Name: "client_id", Env: "WEBHOOK_CLIENT_ID", KohaConf: "webhook_client_id", Credential: "client_id", Description: "OAuth2 client id"},
	{Name: "client_secret", Env: "WEBHOOK_CLIENT_SECRET", KohaConf: "webhook_client_secret", Credential: "client_secret", Secret: true, Description: "OAuth2 client secret"},
	{Name: "notice_url", Env: "WEBHOOK_NOTICE_URL", KohaConf: "webhook_notice_url", Credential: "notice_url", Description: "URL notices are POSTed to"},
	{Name: "customer_id", Env: "WEBHOOK_CUSTOMER_ID", KohaConf: "webhook_customer_id", Credential: "customer_id", Description: "value of the customer-id header; empty sends none"},
	{Name: "signing_secret", Env: "WEBHOOK_SIGNING_SECRET", KohaConf: "webhook_signing_secret", Secret: true, Description: "Standard Webhooks signing secret (whsec_…); empty sends no signature"},
	{Name: "archive_path", Env: "WEBHOOK_ARCHIVE_PATH", KohaConf: "webhook_archive_path", PluginData: "archive_dir", Description: "directory for the per-pass archive of payloads; empty disables it"},
	{Name: "test_mode", Env: "WEBHOOK_TEST_MODE", KohaConf: "webhook_test_mode", Default: "0", Description: "1: build and archive payloads, POST nothing, write nothing to the database"},
	{Name: "verbose", Env: "WEBHOOK_VERBOSE", KohaConf: "webhook_verbose", Default: "0", Description: "log detail, 0 to 3"},
	{Name: "payload_format", Env: "WEBHOOK_PAYLOAD_FORMAT", PluginData: "payload_format", Default: "full", Description: "full (the notice's rows) or minimal (ids only)"},
	{Name: "json_values", Env: "WEBHOOK_JSON_VALUES", KohaConf: "webhook_json_values", PluginData: "json_values", Default: "typed", Description: "typed (numbers as JSON numbers) or strings (every value a string, as the Perl plugin sent)"},
	{Name: "skip_overdue_calls", Env: "WEBHOOK_SKIP_OVERDUE_CALLS", PluginData: "skip_odue_if_other_if_sms_or_email", Default: "0", Description: "1: skip phone notices for overdue letters when the patron has email or SMS"},
	{Name: "lease", Env: "WEBHOOK_LEASE", Default: "5m", Description: "how long a claimed notice is held before another pass may take it (Go duration)"},
	{Name: "retry_schedule", Env: "WEBHOOK_RETRY_SCHEDULE", Default: "5s,5m,30m,2h,5h,10h,14h,20h,24h", Description: "delays between delivery attempts, comma-separated Go durations"},
	{Name: "timeout", Env: "WEBHOOK_TIMEOUT", Default: "60s", Description: "total time allowed for one POST (Go duration)"},
	{Name: "concurrency", Env: "WEBHOOK_CONCURRENCY", Default: "16", Description: "deliveries in flight at once"},
	{Name: "batch_size", Env: "WEBHOOK_BATCH_SIZE", Default: "500", Description: "notices claimed and loaded together"},
	{Name: "poll_interval", Env: "WEBHOOK_POLL_INTERVAL", Default: "5s", Description: "serve: how often to look for new notices (Go duration)"},
	{Name: "full_scan_interval", Env: "WEBHOOK_FULL_SCAN_INTERVAL", Default: "5m", Description: "serve: how often to scan all of message_queue for notices set back to pending (Go duration)"},
	{Name: "listen", Env: "WEBHOOK_LISTEN", Default: "127.0.0.1:8090", Description: "serve: address of the inbound API, /metrics, /healthz and /readyz"},
	{Name: "log_format", Env: "WEBHOOK_LOG_FORMAT", Default: "text", Description: "log format: text or json"},
	{Name: "api_tokens", Env: "WEBHOOK_API_TOKENS", Secret: true, Description: "serve: comma-separated bearer tokens accepted by the inbound API besides Koha API keys and staff logins"},
}

// Value is a resolved setting.
type Value struct {
	Spec   *Spec
	Value  string
	Source Source
}

// Layer is one source of raw setting values.
type Layer struct {
	Source Source
	Lookup func(s *Spec) (string, bool)
}

// Resolve returns every setting's value from the first layer that has it,
// falling back to the default.
func Resolve(layers ...Layer) map[string]Value {
	out := map[string]Value{}
	for i := range Specs {
		s := &Specs[i]
		v := Value{Spec: s, Value: s.Default, Source: SourceDefault}
		for _, l := range layers {
			if l.Lookup == nil {
				continue
			}
			if raw, ok := l.Lookup(s); ok {
				v = Value{Spec: s, Value: raw, Source: l.Source}
				break
			}
		}
		out[s.Name] = v
	}
	return out
}

// EnvLayer reads environment variables through getenv; empty values count
// as unset.
func EnvLayer(getenv func(string) string) Layer {
	return Layer{Source: SourceEnv, Lookup: func(s *Spec) (string, bool) {
		v := getenv(s.Env)
		return v, v != ""
	}}
}

// MapLayer reads values from m, keyed by setting name.
func MapLayer(source Source, m map[string]string) Layer {
	return Layer{Source: source, Lookup: func(s *Spec) (string, bool) {
		v, ok := m[s.Name]
		return v, ok
	}}
}

// Settings are the typed, validated settings.
type Settings struct {
	// DSN is the database setting as given, "" when the connection comes
	// from koha-conf.xml. Database, when set, is the connection to use:
	// Sources.Settings sets it from DSN or from koha-conf.xml.
	DSN              string
	Database         *mysql.Config
	AuthURL          string
	ClientID         string
	ClientSecret     string
	NoticeURL        string
	CustomerID       string
	SigningSecret    string
	ArchivePath      string
	TestMode         bool
	Verbose          int
	Payload          payload.Options
	SkipOverdueCalls bool
	Lease            time.Duration
	RetrySchedule    []time.Duration
	Timeout          time.Duration
	Concurrency      int
	BatchSize        int
	// Values keeps every resolved value with its source.
	Values map[string]Value
}

// SettingError names a setting that is missing or invalid and gives the
// fix.
type SettingError struct {
	Value  Value
	Reason string
	// Hint, when set, is a further way to fix the setting, such as naming
	// the Koha instance for the database.
	Hint string
}

func (e *SettingError) Error() string {
	spec := e.Value.Spec
	message := fmt.Sprintf("setting %s is %s; ", spec.Name, e.Reason)
	switch e.Value.Source {
	case SourceDatabase:
		message += fmt.Sprintf("the value is stored in Koha (%s): change it with \"koha-webhooks config set %s=...\" or override it with %s",
			e.Value.Origin(), spec.Name, spec.Env)
	case SourceKohaConf:
		message += fmt.Sprintf("the value comes from <%s> in koha-conf.xml: fix it there or override it with %s", spec.KohaConf, spec.Env)
	case SourceFlag:
		message += "set " + spec.Env + " (value from flag)"
	default:
		message += "set " + spec.Env
	}
	if e.Hint != "" {
		message += ", " + e.Hint
	}
	return message
}

// Build parses and validates resolved values. It does not require the
// delivery settings; CheckDelivery does.
func Build(values map[string]Value) (*Settings, error) {
	s := &Settings{Values: values}
	var err error
	get := func(name string) string { return strings.TrimSpace(values[name].Value) }
	bad := func(name, reason string) error { return &SettingError{Value: values[name], Reason: reason} }

	s.DSN = get("database")
	s.AuthURL, s.ClientID, s.ClientSecret = get("auth_url"), get("client_id"), values["client_secret"].Value
	s.NoticeURL, s.CustomerID, s.SigningSecret = get("notice_url"), get("customer_id"), values["signing_secret"].Value
	s.ArchivePath = get("archive_path")

	if s.TestMode, err = parseBool(get("test_mode")); err != nil {
		return nil, bad("test_mode", "invalid ("+err.Error()+"); use 0 or 1")
	}
	if s.SkipOverdueCalls, err = parseBool(get("skip_overdue_calls")); err != nil {
		return nil, bad("skip_overdue_calls", "invalid ("+err.Error()+"); use 0 or 1")
	}
	if s.Verbose, err = strconv.Atoi(get("verbose")); err != nil || s.Verbose < 0 || s.Verbose > 3 {
		return nil, bad("verbose", fmt.Sprintf("invalid (%q); use 0, 1, 2 or 3", get("verbose")))
	}
	if s.Payload.Format, err = payload.ParseFormat(get("payload_format")); err != nil {
		return nil, bad("payload_format", fmt.Sprintf("invalid (%q); use full or minimal", get("payload_format")))
	}
	switch strings.ToLower(get("json_values")) {
	case "", "typed":
	case "strings":
		s.Payload.StringValues = true
	default:
		return nil, bad("json_values", fmt.Sprintf("invalid (%q); use typed or strings", get("json_values")))
	}
	if err := s.parseTuning(values, bad); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Settings) parseTuning(values map[string]Value, bad func(string, string) error) error {
	var err error
	get := func(name string) string { return strings.TrimSpace(values[name].Value) }
	if s.Lease, err = time.ParseDuration(get("lease")); err != nil || s.Lease < time.Second {
		return bad("lease", fmt.Sprintf("invalid (%q); use a Go duration of at least 1s, e.g. 5m", get("lease")))
	}
	if s.RetrySchedule, err = retry.ParseSchedule(get("retry_schedule")); err != nil {
		return bad("retry_schedule", "invalid ("+err.Error()+"); use comma-separated Go durations, e.g. 5s,5m,30m")
	}
	if s.Timeout, err = time.ParseDuration(get("timeout")); err != nil || s.Timeout <= 0 {
		return bad("timeout", fmt.Sprintf("invalid (%q); use a positive Go duration, e.g. 60s", get("timeout")))
	}
	if s.Concurrency, err = strconv.Atoi(get("concurrency")); err != nil || s.Concurrency < 1 || s.Concurrency > 256 {
		return bad("concurrency", fmt.Sprintf("invalid (%q); use a number from 1 to 256", get("concurrency")))
	}
	if s.BatchSize, err = strconv.Atoi(get("batch_size")); err != nil || s.BatchSize < 1 || s.BatchSize > 5000 {
		return bad("batch_size", fmt.Sprintf("invalid (%q); use a number from 1 to 5000", get("batch_size")))
	}
	return nil
}

// CheckDelivery reports the first missing or invalid delivery setting.
func (s *Settings) CheckDelivery() error {
	for _, name := range []string{"auth_url", "notice_url"} {
		v := s.Values[name]
		raw := strings.TrimSpace(v.Value)
		if raw == "" {
			return &SettingError{Value: v, Reason: "missing"}
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &SettingError{Value: v, Reason: fmt.Sprintf("not an http or https URL (%q)", raw)}
		}
	}
	for _, name := range []string{"client_id", "client_secret"} {
		if strings.TrimSpace(s.Values[name].Value) == "" {
			return &SettingError{Value: s.Values[name], Reason: "missing"}
		}
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "no", "false", "off":
		return false, nil
	case "1", "yes", "true", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q", s)
}
