package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
)

// loadConf writes content to a koha-conf.xml and reads it.
func loadConf(t *testing.T, content string) *kohaconf.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "koha-conf.xml")
	writeFile(t, path, content)
	conf, err := kohaconf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestResolvePrecedence(t *testing.T) {
	t.Parallel()
	conf := loadConf(t, `<yazgfs><config><webhook_customer_id>from-conf</webhook_customer_id>
		<webhook_archive_path>/srv/conf-archive</webhook_archive_path></config></yazgfs>`)
	flags := config.MapLayer(config.SourceFlag, map[string]string{"customer_id": "from-flag", "archive_path": "/srv/flag-archive"})
	env := config.EnvLayer(func(name string) string {
		return map[string]string{"WEBHOOK_CUSTOMER_ID": "from-env", "WEBHOOK_ARCHIVE_PATH": "/srv/env-archive"}[name]
	})
	stored := config.StoredLayer(&config.Stored{
		Credentials: map[string]string{"customer_id": "from-database"},
		PluginData:  map[string]string{"archive_dir": "/srv/database-archive"},
	})
	kohaConf := config.KohaConfLayer(conf)
	instance := config.MapLayer(config.SourceDefault, map[string]string{"archive_path": config.InstanceArchivePath("library")})

	cases := []struct {
		name                    string
		layers                  []config.Layer
		wantCustomer, wantPath  string
		wantSource, wantArchive config.Source
	}{
		{"flag", []config.Layer{flags, env, stored, kohaConf, instance}, "from-flag", "/srv/flag-archive", config.SourceFlag, config.SourceFlag},
		{"environment", []config.Layer{env, stored, kohaConf, instance}, "from-env", "/srv/env-archive", config.SourceEnv, config.SourceEnv},
		{"database", []config.Layer{stored, kohaConf, instance}, "from-database", "/srv/database-archive", config.SourceDatabase, config.SourceDatabase},
		{"koha-conf", []config.Layer{kohaConf, instance}, "from-conf", "/srv/conf-archive", config.SourceKohaConf, config.SourceKohaConf},
		{"default", []config.Layer{instance}, "", "/var/lib/koha/library/webhook_notifications_archive", config.SourceDefault, config.SourceDefault},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values := config.Resolve(c.layers...)
			if got := values["customer_id"]; got.Value != c.wantCustomer || got.Source != c.wantSource {
				t.Errorf("customer_id = %q from %s, want %q from %s", got.Value, got.Source, c.wantCustomer, c.wantSource)
			}
			if got := values["archive_path"]; got.Value != c.wantPath || got.Source != c.wantArchive {
				t.Errorf("archive_path = %q from %s, want %q from %s", got.Value, got.Source, c.wantPath, c.wantArchive)
			}
		})
	}
}

func TestStoredLayerEmptyValueCountsAsUnset(t *testing.T) {
	t.Parallel()
	conf := loadConf(t, `<yazgfs><config><webhook_customer_id>from-conf</webhook_customer_id></config></yazgfs>`)
	stored := config.StoredLayer(&config.Stored{Credentials: map[string]string{"customer_id": ""}, PluginData: map[string]string{"archive_dir": ""}})
	values := config.Resolve(stored, config.KohaConfLayer(conf))
	if got := values["customer_id"]; got.Value != "from-conf" || got.Source != config.SourceKohaConf {
		t.Errorf("customer_id = %q from %s, want from-conf from koha-conf.xml", got.Value, got.Source)
	}
	if got := values["archive_path"]; got.Source != config.SourceDefault {
		t.Errorf("archive_path source = %s, want default", got.Source)
	}
}

func TestLocateKohaConf(t *testing.T) {
	t.Parallel()
	sitesDir := t.TempDir()
	minimal := `<yazgfs><config><database>koha_x</database></config></yazgfs>`
	for _, name := range []string{"library", "other"} {
		writeFile(t, filepath.Join(sitesDir, name, "koha-conf.xml"), minimal)
	}
	custom := filepath.Join(t.TempDir(), "custom.xml")
	writeFile(t, custom, minimal)
	library := filepath.Join(sitesDir, "library", "koha-conf.xml")
	other := filepath.Join(sitesDir, "other", "koha-conf.xml")

	cases := []struct {
		name             string
		flags, env       map[string]string
		wantPath, wantIn string
	}{
		{"none", nil, nil, "", ""},
		{"instance flag", map[string]string{"instance": "library"}, nil, library, "library"},
		{"instance environment", nil, map[string]string{"KOHA_INSTANCE": "library"}, library, "library"},
		{"KOHA_CONF names its instance", nil, map[string]string{"KOHA_CONF": other}, other, "other"},
		{"custom path has no instance", nil, map[string]string{"KOHA_CONF": custom}, custom, ""},
		{"instance flag beats KOHA_CONF", map[string]string{"instance": "library"}, map[string]string{"KOHA_CONF": other}, library, "library"},
		{"koha-conf flag beats KOHA_INSTANCE", map[string]string{"koha_conf": custom}, map[string]string{"KOHA_INSTANCE": "other"}, custom, "other"},
		{"both flags: path read, name kept", map[string]string{"koha_conf": custom, "instance": "library"}, nil, custom, "library"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{config.SitesDirEnv: sitesDir}
			for k, v := range c.env {
				env[k] = v
			}
			src, err := config.Open(config.Inputs{Flags: c.flags, Getenv: func(name string) string { return env[name] }})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			gotPath := ""
			if src.KohaConf != nil {
				gotPath = src.KohaConf.Path
			}
			if gotPath != c.wantPath {
				t.Errorf("koha-conf.xml = %q, want %q", gotPath, c.wantPath)
			}
			if src.Instance != c.wantIn {
				t.Errorf("instance = %q, want %q", src.Instance, c.wantIn)
			}
		})
	}
}

func TestOpenRejectsBadSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.xml")
	writeFile(t, malformed, "<yazgfs><config><database>koha</config></yazgfs>")
	unreadable := filepath.Join(dir, "unreadable.xml")
	writeFile(t, unreadable, "<yazgfs><config/></yazgfs>")
	os.Chmod(unreadable, 0)

	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"invalid environment value", map[string]string{"WEBHOOK_JSON_VALUES": "numbers"}, "setting json_values is invalid"},
		{"missing file", map[string]string{"KOHA_CONF": filepath.Join(dir, "absent.xml")}, "koha-conf.xml not found at"},
		{"malformed file", map[string]string{"KOHA_CONF": malformed}, "invalid XML in " + malformed},
		{"unsafe instance name", map[string]string{"KOHA_INSTANCE": "../etc"}, "invalid Koha instance name"},
	}
	if os.Geteuid() != 0 {
		cases = append(cases, struct {
			name string
			env  map[string]string
			want string
		}{"unreadable file", map[string]string{"KOHA_CONF": unreadable}, "permission denied reading " + unreadable})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Open(config.Inputs{Getenv: func(name string) string { return c.env[name] }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDatabaseConfigMissing(t *testing.T) {
	t.Parallel()
	src, err := config.Open(config.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.DatabaseConfig()
	for _, want := range []string{"setting database is missing", "KOHA_DB_DSN", "--instance", "--koha-conf"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DatabaseConfig error = %v, want it to contain %q", err, want)
		}
	}
}

func TestDatabaseConfigFromKohaConf(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "koha-conf.xml")
	writeFile(t, path, `<yazgfs><config><database>koha_library</database><hostname>db.example.org</hostname>
		<port>3307</port><user>koha_library</user><pass>p@ss</pass><timezone>Europe/Helsinki</timezone></config></yazgfs>`)
	src, err := config.Open(config.Inputs{Getenv: func(name string) string { return map[string]string{"KOHA_CONF": path}[name] }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := src.DatabaseConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "db.example.org:3307" || cfg.DBName != "koha_library" || cfg.Passwd != "p@ss" {
		t.Errorf("config = %s / %s, want db.example.org:3307 / koha_library", cfg.Addr, cfg.DBName)
	}
	if !cfg.InterpolateParams || cfg.Collation != "utf8mb4_unicode_ci" {
		t.Error("driver options of kohadb.ApplyOptions are not applied")
	}
	if cfg.Params["time_zone"] != "'Europe/Helsinki'" {
		t.Errorf("time_zone = %q, want the <timezone> of koha-conf.xml", cfg.Params["time_zone"])
	}
}

func TestDSNOutranksKohaConf(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "koha-conf.xml")
	writeFile(t, path, `<yazgfs><config><database>from_conf</database><user>u</user></config></yazgfs>`)
	env := map[string]string{"KOHA_CONF": path, "KOHA_DB_DSN": "u:pw@tcp(127.0.0.1:3306)/from_env"}
	src, err := config.Open(config.Inputs{Getenv: func(name string) string { return env[name] }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := src.DatabaseConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBName != "from_env" {
		t.Errorf("database = %s, want from_env (KOHA_DB_DSN outranks koha-conf.xml)", cfg.DBName)
	}
}

func TestParseStored(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value, want, wantErr string
	}{
		{"auth_url", " https://auth.example.org/token ", "https://auth.example.org/token", ""},
		{"notice_url", "ftp://x", "", "absolute http or https URL"},
		{"client_secret", " keep spaces ", " keep spaces ", ""},
		{"client_secret", config.Mask, config.Mask, ""},
		{"customer_id", "", "", ""},
		{"payload_format", "MINIMAL", "minimal", ""},
		{"payload_format", "tiny", "", "use full or minimal"},
		{"json_values", "Strings", "strings", ""},
		{"json_values", "numbers", "", "use typed or strings"},
		{"skip_overdue_calls", "yes", "1", ""},
		{"skip_overdue_calls", "off", "0", ""},
		{"archive_path", "relative/dir", "", "absolute directory path"},
		{"lease", "5m", "", "cannot be stored in Koha"},
		{"nonsense", "1", "", "cannot be stored in Koha"},
	}
	for _, c := range cases {
		_, got, err := config.ParseStored(c.name, c.value)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseStored(%s, %q) error = %v, want %q", c.name, c.value, err, c.wantErr)
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseStored(%s, %q): %v", c.name, c.value, err)
		case c.wantErr == "" && got != c.want:
			t.Errorf("ParseStored(%s, %q) = %q, want %q", c.name, c.value, got, c.want)
		}
	}
}

func TestMaskAndDisplay(t *testing.T) {
	t.Parallel()
	for _, mask := range []string{config.Mask, "••••••••••••", " •• "} {
		if !config.IsMask(mask) {
			t.Errorf("IsMask(%q) = false", mask)
		}
	}
	for _, notMask := range []string{"", "•a•", "secret"} {
		if config.IsMask(notMask) {
			t.Errorf("IsMask(%q) = true", notMask)
		}
	}
	values := config.Resolve(config.EnvLayer(func(name string) string {
		return map[string]string{
			"WEBHOOK_CLIENT_SECRET": "topsecret",
			"KOHA_DB_DSN":           "koha:dbsecret@tcp(127.0.0.1:3306)/koha_lib",
			"WEBHOOK_CLIENT_ID":     "visible-id",
		}[name]
	}))
	if got := values["client_secret"].Display(); got != config.Mask {
		t.Errorf("client_secret shown as %q, want the mask", got)
	}
	if got := values["database"].Display(); strings.Contains(got, "dbsecret") || !strings.Contains(got, "koha_lib") {
		t.Errorf("database shown as %q, want the DSN without its password", got)
	}
	if got := values["client_id"].Display(); got != "visible-id" {
		t.Errorf("client_id shown as %q", got)
	}
	if got := values["client_secret"].Origin(); got != "environment WEBHOOK_CLIENT_SECRET" {
		t.Errorf("client_secret origin = %q", got)
	}
}

func TestSettingErrorNamesSource(t *testing.T) {
	t.Parallel()
	stored := config.StoredLayer(&config.Stored{PluginData: map[string]string{"payload_format": "tiny"}})
	_, err := config.Build(config.Resolve(stored))
	var settingErr *config.SettingError
	if !errors.As(err, &settingErr) {
		t.Fatalf("Build error = %v, want a *SettingError", err)
	}
	for _, want := range []string{"payload_format is invalid", "plugin_data payload_format", "koha-webhooks config set payload_format=", "WEBHOOK_PAYLOAD_FORMAT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
