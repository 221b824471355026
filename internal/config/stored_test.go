package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
)

var allCredentials = map[string]string{
	"auth_url": "https://auth.example.org/token", "client_id": "koha-library", "client_secret": "s3cret value",
	"notice_url": "https://notices.example.org/koha", "customer_id": "cust-42",
}

func TestLoadReadsStoredSettings(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	s.storeCredentials(allCredentials)
	s.storePluginData("archive_dir", "/srv/archive")
	s.storePluginData("payload_format", "minimal")
	s.storePluginData("skip_odue_if_other_if_sms_or_email", "1")
	s.storePluginData("json_values", "strings")

	loaded := s.load(nil)
	got := loaded.Settings
	if got.AuthURL != allCredentials["auth_url"] || got.ClientID != allCredentials["client_id"] ||
		got.ClientSecret != allCredentials["client_secret"] || got.NoticeURL != allCredentials["notice_url"] ||
		got.CustomerID != allCredentials["customer_id"] {
		t.Errorf("credentials = %q %q %q %q, want the stored ones", got.AuthURL, got.ClientID, got.NoticeURL, got.CustomerID)
	}
	if got.ArchivePath != "/srv/archive" {
		t.Errorf("ArchivePath = %q, want /srv/archive", got.ArchivePath)
	}
	if got.Payload.Format != payload.Minimal || !got.Payload.StringValues {
		t.Errorf("Payload = %+v, want minimal with string values", got.Payload)
	}
	if !got.SkipOverdueCalls {
		t.Error("SkipOverdueCalls = false, want true from plugin_data")
	}
	for _, name := range []string{"auth_url", "client_secret", "archive_path", "payload_format", "json_values", "skip_overdue_calls"} {
		if source := got.Values[name].Source; source != config.SourceDatabase {
			t.Errorf("%s source = %s, want %s", name, source, config.SourceDatabase)
		}
	}
	if err := got.CheckDelivery(); err != nil {
		t.Errorf("CheckDelivery: %v", err)
	}
}

func TestLoadPrecedenceAcrossSources(t *testing.T) {
	t.Parallel()
	s := newSite(t, "<webhook_customer_id>from-conf</webhook_customer_id>")
	s.storeCredentials(map[string]string{"customer_id": "from-database"})

	check := func(label string, flags, env map[string]string, want string, wantSource config.Source) {
		t.Helper()
		inputs := map[string]string{"instance": s.instance}
		for k, v := range flags {
			inputs[k] = v
		}
		loaded, err := config.Load(s.ctx, config.Inputs{Flags: inputs, Getenv: s.env(env)})
		if err != nil {
			t.Fatalf("%s: Load: %v", label, err)
		}
		defer loaded.Close()
		if v := loaded.Settings.Values["customer_id"]; v.Value != want || v.Source != wantSource {
			t.Errorf("%s: customer_id = %q from %s, want %q from %s", label, v.Value, v.Source, want, wantSource)
		}
	}
	env := map[string]string{"WEBHOOK_CUSTOMER_ID": "from-env"}
	check("flag", map[string]string{"customer_id": "from-flag"}, env, "from-flag", config.SourceFlag)
	check("environment", nil, env, "from-env", config.SourceEnv)
	check("database", nil, nil, "from-database", config.SourceDatabase)
	s.storeCredentials(map[string]string{"customer_id": ""})
	check("koha-conf.xml", nil, nil, "from-conf", config.SourceKohaConf)
	s.writeConf("")
	check("default", nil, nil, "", config.SourceDefault)
}

func TestLoadDatabaseFromKohaConf(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	loaded := s.load(nil)
	if loaded.Settings.DSN != "" {
		t.Errorf("DSN = %q, want empty (the connection comes from koha-conf.xml)", loaded.Settings.DSN)
	}
	if loaded.Settings.Database == nil || loaded.Settings.Database.DBName != s.db.Name {
		t.Fatalf("Database = %+v, want database %s", loaded.Settings.Database, s.db.Name)
	}
	v := loaded.Settings.Values["database"]
	if v.Source != config.SourceKohaConf || !strings.Contains(v.Display(), s.db.Name) {
		t.Errorf("database value = %q from %s, want a description of %s from koha-conf.xml", v.Display(), v.Source, s.db.Name)
	}
}

func TestLoadInstanceArchiveDefault(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	if got := s.load(nil).Settings.ArchivePath; got != "/var/lib/koha/library/webhook_notifications_archive" {
		t.Errorf("ArchivePath = %q, want the instance default", got)
	}
	s.writeConf("<webhook_archive_path>/srv/conf-archive</webhook_archive_path>")
	if got := s.load(nil).Settings.ArchivePath; got != "/srv/conf-archive" {
		t.Errorf("ArchivePath = %q, want koha-conf.xml's", got)
	}
	s.storePluginData("archive_dir", "/srv/plugin-archive")
	if got := s.load(nil).Settings.ArchivePath; got != "/srv/plugin-archive" {
		t.Errorf("ArchivePath = %q, want plugin_data's", got)
	}
}

// vector is one value of Koha's encryption test vectors.
type vector struct {
	CiphertextHex string `json:"ciphertext_hex"`
	EncryptionKey string `json:"encryption_key"`
	Plaintext     string `json:"plaintext"`
}

func TestLoadDecryptsPerlEncryptedCredentials(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(sharedKohaFile(t, "KOHA_ENCRYPTION_VECTORS", "encryption-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	var credentials *vector
	for i, v := range vectors.Vectors {
		if strings.Contains(v.Plaintext, `"notice_url"`) {
			credentials = &vectors.Vectors[i]
			break
		}
	}
	if credentials == nil {
		t.Fatal("no WebhookCredentials vector in the encryption vectors")
	}
	var want map[string]string
	if err := json.Unmarshal([]byte(credentials.Plaintext), &want); err != nil {
		t.Fatal(err)
	}

	s := newSite(t, "")
	writeFile(t, s.confPath(), kohaConfXML(t, s.db, "<encryption_key>"+credentials.EncryptionKey+"</encryption_key>"))
	s.storeCredentialsHex(credentials.CiphertextHex)
	got := s.load(nil).Settings
	if got.AuthURL != want["auth_url"] || got.ClientID != want["client_id"] || got.ClientSecret != want["client_secret"] ||
		got.NoticeURL != want["notice_url"] || got.CustomerID != want["customer_id"] {
		t.Errorf("settings from the Perl-encrypted preference do not match its plaintext")
	}
}

func TestLoadCredentialErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		conf     string // <encryption_key> element
		noConf   bool
		wantText []string
	}{
		{"placeholder key", "<encryption_key>__ENCRYPTION_KEY__</encryption_key>", false,
			[]string{"WebhookCredentials", "__ENCRYPTION_KEY__", "<encryption_key>"}},
		{"missing key", "", false, []string{"WebhookCredentials", "encryption key is missing"}},
		{"other key", "<encryption_key>not-the-key</encryption_key>", false,
			[]string{"WebhookCredentials", "different key", "koha-webhooks config set"}},
		{"no koha-conf.xml", "", true, []string{"WebhookCredentials", "--instance", "WEBHOOK_AUTH_URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, "")
			s.storeCredentials(allCredentials)
			writeFile(t, s.confPath(), kohaConfXML(t, s.db, c.conf))
			inputs := config.Inputs{Flags: map[string]string{"instance": s.instance}, Getenv: s.env(nil)}
			if c.noConf {
				inputs.Flags = map[string]string{"database": s.db.DSN()}
			}
			_, err := config.Load(s.ctx, inputs)
			var credentialsErr *config.CredentialsError
			if !errors.As(err, &credentialsErr) {
				t.Fatalf("Load error = %v, want a *CredentialsError", err)
			}
			for _, want := range c.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestLoadPlaceholderKeyWithoutPreference(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	writeFile(t, s.confPath(), kohaConfXML(t, s.db, "<encryption_key>__ENCRYPTION_KEY__</encryption_key>"))
	if loaded := s.load(nil); loaded.Stored.Credentials != nil {
		t.Errorf("Credentials = %v, want nil without the preference", loaded.Stored.Credentials)
	}
}

func TestLoadSkipsDecryptionWhenOverridden(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	s.storeCredentials(allCredentials)
	writeFile(t, s.confPath(), kohaConfXML(t, s.db, "<encryption_key>__ENCRYPTION_KEY__</encryption_key>"))
	env := map[string]string{
		"WEBHOOK_AUTH_URL": "http://127.0.0.1:1/token", "WEBHOOK_CLIENT_ID": "id", "WEBHOOK_CLIENT_SECRET": "secret",
		"WEBHOOK_NOTICE_URL": "http://127.0.0.1:1/notices", "WEBHOOK_CUSTOMER_ID": "c",
	}
	loaded := s.load(env)
	if !loaded.Stored.Skipped {
		t.Error("Stored.Skipped = false, want true when the environment sets every credential")
	}
	if loaded.Settings.ClientID != "id" {
		t.Errorf("ClientID = %q, want the environment's", loaded.Settings.ClientID)
	}
}

func TestLoadConnectionFailureNamesMissingSetting(t *testing.T) {
	t.Parallel()
	env := map[string]string{"KOHA_DB_DSN": "koha:pw@tcp(127.0.0.1:1)/koha_lib"}
	_, err := config.Load(context.Background(), config.Inputs{Getenv: func(name string) string { return env[name] }, RequireDelivery: true})
	for _, want := range []string{`cannot connect to database "koha_lib"`, "settings stored in Koha were not read", "setting auth_url is missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want it to contain %q", err, want)
		}
	}
}

func newCipher(t *testing.T) *kohacrypt.Cipher {
	t.Helper()
	cipher, err := kohacrypt.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return cipher
}

func TestSaveCredentials(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	cipher := newCipher(t)

	changed, err := config.SaveCredentials(s.ctx, s.db.DB, cipher, "test", allCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 5 {
		t.Errorf("changed = %v, want all five fields", changed)
	}
	for field, want := range allCredentials {
		if got := s.storedCredentials()[field]; got != want {
			t.Errorf("stored %s = %v, want %q", field, got, want)
		}
	}

	// A field the Perl plugin might add survives a write.
	stored := s.storedCredentials()
	stored["added_by_plugin"] = "kept"
	plaintext, _ := json.Marshal(stored)
	s.storeCredentialsHex(encrypt(t, testKey, plaintext))

	changed, err = config.SaveCredentials(s.ctx, s.db.DB, cipher, "test",
		map[string]string{"client_id": "new-id", "client_secret": config.Mask})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0] != "client_id" {
		t.Errorf("changed = %v, want [client_id]", changed)
	}
	after := s.storedCredentials()
	if after["client_id"] != "new-id" || after["client_secret"] != allCredentials["client_secret"] || after["added_by_plugin"] != "kept" {
		t.Errorf("after update: client_id %v, client_secret kept %v, extra field %v",
			after["client_id"], after["client_secret"] == allCredentials["client_secret"], after["added_by_plugin"])
	}

	var before string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&before)
	changed, err = config.SaveCredentials(s.ctx, s.db.DB, cipher, "test", map[string]string{"client_id": "new-id"})
	if err != nil || changed != nil {
		t.Errorf("unchanged save: changed %v, error %v; want nothing", changed, err)
	}
	var afterText string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&afterText)
	if afterText != before {
		t.Error("an unchanged save rewrote the preference")
	}
}

func TestSaveCredentialsFillsEveryField(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	if _, err := config.SaveCredentials(s.ctx, s.db.DB, newCipher(t), "test", map[string]string{"auth_url": "https://a.example/token"}); err != nil {
		t.Fatal(err)
	}
	stored := s.storedCredentials()
	for _, field := range config.CredentialFields {
		if _, ok := stored[field]; !ok {
			t.Errorf("field %s missing from a new preference", field)
		}
	}
}

func TestSavePluginData(t *testing.T) {
	t.Parallel()
	s := newSite(t, "")
	for _, value := range []string{"full", "minimal"} {
		if err := config.SavePluginData(s.ctx, s.db.DB, map[string]string{"payload_format": value, "archive_dir": "/srv/a"}); err != nil {
			t.Fatal(err)
		}
	}
	var count int
	var format string
	s.db.DB.QueryRow(`SELECT COUNT(*) FROM plugin_data WHERE plugin_class = ?`, config.PluginClass).Scan(&count)
	s.db.DB.QueryRow(`SELECT plugin_value FROM plugin_data WHERE plugin_class = ? AND plugin_key = 'payload_format'`, config.PluginClass).Scan(&format)
	if count != 2 || format != "minimal" {
		t.Errorf("plugin_data: %d rows, payload_format %q; want 2 rows and minimal", count, format)
	}
}

func TestMigrateCredentials(t *testing.T) {
	t.Parallel()
	s := newSite(t, `<webhook_auth_url>https://auth.example.org/token</webhook_auth_url>
<webhook_client_id>conf-id</webhook_client_id>
<webhook_client_secret>conf-secret</webhook_client_secret>
<webhook_notice_url>https://notices.example.org/koha</webhook_notice_url>`)
	s.storeCredentials(map[string]string{"client_id": "stored-id"})
	conf, err := kohaconf.Load(s.confPath())
	if err != nil {
		t.Fatal(err)
	}
	cipher := newCipher(t)

	first, err := config.MigrateCredentials(s.ctx, s.db.DB, cipher, "test", conf)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(first.Copied, ",") != "auth_url,client_secret,notice_url" || strings.Join(first.Kept, ",") != "client_id" {
		t.Errorf("first run: copied %v, kept %v", first.Copied, first.Kept)
	}
	stored := s.storedCredentials()
	if stored["client_id"] != "stored-id" || stored["client_secret"] != "conf-secret" {
		t.Errorf("stored client_id %v, client_secret copied %v", stored["client_id"], stored["client_secret"] == "conf-secret")
	}

	second, err := config.MigrateCredentials(s.ctx, s.db.DB, cipher, "test", conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Copied) != 0 || len(second.Same) != 3 {
		t.Errorf("second run: copied %v, same %v; want nothing copied", second.Copied, second.Same)
	}
}

// TestPerlDecryptsSavedCredentials checks that Koha::Encryption, which is
// Crypt::CBC with the AES cipher, reads what SaveCredentials writes.
func TestPerlDecryptsSavedCredentials(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	if err := exec.Command("perl", "-MCrypt::CBC", "-MCrypt::Cipher::AES", "-e", "1").Run(); err != nil {
		t.Skip("Crypt::CBC or CryptX not installed (Debian: libcrypt-cbc-perl libcryptx-perl)")
	}
	s := newSite(t, "")
	if _, err := config.SaveCredentials(s.ctx, s.db.DB, newCipher(t), "test", allCredentials); err != nil {
		t.Fatal(err)
	}
	var ciphertext string
	s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&ciphertext)

	script := `my $c = Crypt::CBC->new(-key => $ENV{KEY}, -cipher => 'Cipher::AES', -nodeprecate => 1);
		my $hex = <STDIN>; chomp $hex; print $c->decrypt_hex($hex);`
	cmd := exec.Command("perl", "-MCrypt::CBC", "-e", script)
	cmd.Env = append(os.Environ(), "KEY="+testKey)
	cmd.Stdin = strings.NewReader(ciphertext + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("Perl decrypted no JSON: %v", err)
	}
	for field, want := range allCredentials {
		if got[field] != want {
			t.Errorf("Perl read %s = %q, want %q", field, got[field], want)
		}
	}
}
