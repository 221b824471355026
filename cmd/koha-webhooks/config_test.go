package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
)

// showLine returns the `config show` line of setting name.
func showLine(t *testing.T, output, name string) string {
	t.Helper()
	for _, line := range strings.Split(output, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == name {
			return line
		}
	}
	t.Fatalf("config show has no line for %s:\n%s", name, output)
	return ""
}

func TestConfigSetStoresForPlugin(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	out := s.mustCommand(nil, "config", "set", "--instance", siteInstance,
		"auth_url=https://auth.example.org/token", "client_id=koha-library", "client_secret=first secret",
		"notice_url=https://notices.example.org/koha", "customer_id=cust-42",
		"archive_path=/srv/archive", "payload_format=minimal", "skip_overdue_calls=yes", "json_values=strings")
	if strings.Contains(out, "first secret") {
		t.Errorf("output reveals the secret:\n%s", out)
	}

	want := map[string]string{"auth_url": "https://auth.example.org/token", "client_id": "koha-library",
		"client_secret": "first secret", "notice_url": "https://notices.example.org/koha", "customer_id": "cust-42"}
	stored := s.credentials()
	for field, value := range want {
		if stored[field] != value {
			t.Errorf("stored %s = %q, want %q", field, stored[field], value)
		}
	}
	for key, value := range map[string]string{"archive_dir": "/srv/archive", "payload_format": "minimal",
		"skip_odue_if_other_if_sms_or_email": "1", "json_values": "strings"} {
		if got := s.pluginData(key); got != value {
			t.Errorf("plugin_data %s = %q, want %q", key, got, value)
		}
	}

	out = s.mustCommand(nil, "config", "set", "--instance", siteInstance, "client_secret="+config.Mask, "client_id=koha-2")
	if !strings.Contains(out, "client_secret: kept the stored value") {
		t.Errorf("saving the mask does not report the kept secret:\n%s", out)
	}
	if stored := s.credentials(); stored["client_secret"] != "first secret" || stored["client_id"] != "koha-2" {
		t.Errorf("after saving the mask: client_id %q, secret kept %v", stored["client_id"], stored["client_secret"] == "first secret")
	}
	s.mustCommand(nil, "config", "set", "--instance", siteInstance, "client_secret=second secret")
	if stored := s.credentials(); stored["client_secret"] != "second secret" {
		t.Error("a new secret was not stored")
	}
}

func TestConfigShowValuesAndSources(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "<webhook_notice_url>https://conf.example.org/notices</webhook_notice_url>\n"+
		"<webhook_customer_id>conf-customer</webhook_customer_id>")
	s.mustCommand(nil, "config", "set", "--instance", siteInstance, "client_secret=do-not-print", "auth_url=https://auth.example.org/token",
		"archive_path=/srv/archive")

	out := s.mustCommand(map[string]string{"WEBHOOK_CUSTOMER_ID": "env-customer", "KOHA_INSTANCE": siteInstance}, "config", "show")
	if strings.Contains(out, "do-not-print") {
		t.Errorf("config show reveals the secret:\n%s", out)
	}
	cases := []struct{ name, value, source string }{
		{"client_secret", config.Mask, "system preference WebhookCredentials (client_secret)"},
		{"auth_url", "https://auth.example.org/token", "system preference WebhookCredentials (auth_url)"},
		{"archive_path", "/srv/archive", "plugin_data archive_dir"},
		{"notice_url", "https://conf.example.org/notices", "koha-conf.xml <webhook_notice_url>"},
		{"customer_id", "env-customer", "environment WEBHOOK_CUSTOMER_ID"},
		{"instance", siteInstance, "environment KOHA_INSTANCE"},
		{"database", s.db.Name, "koha-conf.xml"},
		{"payload_format", "full", "default"},
	}
	for _, c := range cases {
		line := showLine(t, out, c.name)
		if !strings.Contains(line, c.value) || !strings.HasSuffix(strings.TrimSpace(line), c.source) {
			t.Errorf("line %q, want value %q from %q", line, c.value, c.source)
		}
	}
	if !strings.Contains(out, "WebhookCredentials:  decrypted") {
		t.Errorf("config show does not report the decrypted preference:\n%s", out)
	}
}

func TestConfigSetRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown setting", []string{"lease=5m"}, nil, `setting "lease" cannot be stored in Koha`},
		{"invalid URL", []string{"notice_url=notices.example.org"}, nil, "invalid value for notice_url"},
		{"not an assignment", []string{"client_id"}, nil, "is not NAME=VALUE"},
		{"no key without koha-conf.xml", []string{"client_id=x"}, map[string]string{"KOHA_DB_DSN": s.db.DSN()}, "encryption_key of koha-conf.xml is needed"},
	}
	for _, c := range cases {
		args := append([]string{"config", "set"}, c.args...)
		if c.env == nil {
			args = append([]string{"config", "set", "--instance", siteInstance}, c.args...)
		}
		code, _, stderr := s.command(c.env, args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, stderr, exitUsage, c.want)
		}
	}
	var count int
	s.db.DB.QueryRow(`SELECT COUNT(*) FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&count)
	if count != 0 {
		t.Error("a rejected command stored credentials")
	}
}

func TestConfigSetNotesOverride(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	out := s.mustCommand(map[string]string{"WEBHOOK_CUSTOMER_ID": "env"}, "config", "set", "--instance", siteInstance, "customer_id=stored")
	if !strings.Contains(out, "note: customer_id is also set by environment WEBHOOK_CUSTOMER_ID") {
		t.Errorf("no note about the overriding environment variable:\n%s", out)
	}
}

func TestConfigMigrateRunsOnce(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, `<webhook_auth_url>https://auth.example.org/token</webhook_auth_url>
<webhook_client_id>conf-id</webhook_client_id>
<webhook_client_secret>conf-secret</webhook_client_secret>
<webhook_notice_url>https://notices.example.org/koha</webhook_notice_url>
<webhook_customer_id>cust-7</webhook_customer_id>`)

	out := s.mustCommand(nil, "config", "migrate", "--instance", siteInstance)
	if !strings.Contains(out, "Copied auth_url, client_id, client_secret, notice_url, customer_id") || strings.Contains(out, "conf-secret") {
		t.Errorf("first migrate output:\n%s", out)
	}
	stored := s.credentials()
	if stored["client_secret"] != "conf-secret" || stored["customer_id"] != "cust-7" {
		t.Errorf("migrated credentials: customer_id %q, secret copied %v", stored["customer_id"], stored["client_secret"] == "conf-secret")
	}
	var before string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&before)

	out = s.mustCommand(nil, "config", "migrate", "--instance", siteInstance)
	if !strings.Contains(out, "Already done") || !strings.Contains(out, "nothing changed") {
		t.Errorf("second migrate output:\n%s", out)
	}
	var after string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&after)
	if after != before {
		t.Error("the second migrate rewrote the preference")
	}
}

func TestConfigMigrateWithoutCredentials(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	out := s.mustCommand(nil, "config", "migrate", "--instance", siteInstance)
	if !strings.Contains(out, "Nothing to migrate") {
		t.Errorf("migrate output:\n%s", out)
	}
}

var checkLine = regexp.MustCompile(`(?m)^(OK|FAILED|SKIPPED)\s+(\S.*?)\s{2,}`)

// checkSteps returns the state of each step in `config check` output.
func checkSteps(output string) map[string]string {
	steps := map[string]string{}
	for _, m := range checkLine.FindAllStringSubmatch(output, -1) {
		steps[m[2]] = m[1]
	}
	return steps
}

func TestConfigCheckReportsEachStep(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	svc := noticeservice.Start("koha", "right-secret")
	defer svc.Close()
	s.mustCommand(nil, "config", "set", "--instance", siteInstance, "auth_url="+svc.TokenURL(), "client_id=koha",
		"client_secret=right-secret", "notice_url="+svc.NoticeURL(), "archive_path="+t.TempDir())

	out := s.mustCommand(nil, "config", "check", "--instance", siteInstance)
	steps := checkSteps(out)
	for _, step := range []string{"koha-conf.xml", "database", "schema", "stored settings", "settings", "archive directory", "access token"} {
		if steps[step] != "OK" {
			t.Errorf("step %q = %q, want OK:\n%s", step, steps[step], out)
		}
	}
	if svc.TokenRequests() != 1 {
		t.Errorf("token requests = %d, want 1", svc.TokenRequests())
	}

	s.mustCommand(nil, "config", "set", "--instance", siteInstance, "client_secret=wrong-secret")
	code, out, _ := s.command(nil, "config", "check", "--instance", siteInstance)
	if code != exitFailed || checkSteps(out)["access token"] != "FAILED" || !strings.Contains(out, "fix: check auth_url, client_id and client_secret") {
		t.Errorf("wrong secret: exit %d, output:\n%s", code, out)
	}
	if strings.Contains(out, "wrong-secret") {
		t.Errorf("check output reveals the secret:\n%s", out)
	}
}

func TestConfigCheckDatabaseFailure(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	code := runMain([]string{"config", "check", "--dsn", "koha:pw@tcp(127.0.0.1:1)/koha_lib"}, &stdout, &stderr, envOf(nil))
	steps := checkSteps(stdout.String())
	if code != exitFailed || steps["database"] != "FAILED" || !strings.Contains(stdout.String(), "fix: check <hostname>") {
		t.Errorf("exit %d, output:\n%s", code, stdout.String())
	}
	if _, ran := steps["access token"]; ran {
		t.Error("check went on after the database failed")
	}
}

func TestConfigSetKeepsUnreadablePreference(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	other, err := kohacrypt.New("another-instance-key")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.EncryptHex([]byte(`{"client_id":"theirs"}`))
	if err != nil {
		t.Fatal(err)
	}
	s.db.DB.Exec(`INSERT INTO systempreferences (variable, value) VALUES (?, ?)`, config.CredentialsPreference, foreign)

	code, _, stderr := s.command(nil, "config", "set", "--instance", siteInstance, "client_id=mine")
	if code != exitUsage || !strings.Contains(stderr, "different key") {
		t.Errorf("exit %d, stderr %q; want exit %d naming the key mismatch", code, stderr, exitUsage)
	}
	var after string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&after)
	if after != foreign {
		t.Error("the preference encrypted with another key was overwritten")
	}
}
