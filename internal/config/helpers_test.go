package config_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
)

// testKey is the encryption_key of the koha-conf.xml files the tests write.
const testKey = "wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7"

// site is a Koha database with a Debian-style instance directory whose
// koha-conf.xml points at it.
type site struct {
	t        *testing.T
	ctx      context.Context
	db       *kohatest.Database
	sitesDir string
	instance string
}

func newSite(t *testing.T, extraConfig string) *site {
	t.Helper()
	s := &site{t: t, ctx: context.Background(), db: kohatest.NewDB(t), sitesDir: t.TempDir(), instance: "library"}
	s.writeConf(extraConfig)
	return s
}

// confPath returns the instance's koha-conf.xml path.
func (s *site) confPath() string {
	return filepath.Join(s.sitesDir, s.instance, "koha-conf.xml")
}

// writeConf writes the instance's koha-conf.xml with the database settings
// of the test database, testKey and extra elements under <config>.
func (s *site) writeConf(extra string) {
	s.t.Helper()
	writeFile(s.t, s.confPath(), kohaConfXML(s.t, s.db, "<encryption_key>"+testKey+"</encryption_key>\n"+extra))
}

// kohaConfXML returns a koha-conf.xml that connects to db.
func kohaConfXML(t *testing.T, db *kohatest.Database, extra string) string {
	t.Helper()
	var connection string
	if db.Config.Net == "unix" {
		connection = "<hostname>localhost</hostname>\n<socket>" + db.Config.Addr + "</socket>\n"
	} else {
		host, port, err := net.SplitHostPort(db.Config.Addr)
		if err != nil {
			t.Fatal(err)
		}
		connection = "<hostname>" + host + "</hostname>\n<port>" + port + "</port>\n"
	}
	return `<yazgfs>
<listen id="biblioserver">unix:/var/run/koha/library/bibliosocket</listen>
<server id="biblioserver" listenref="biblioserver"><config>/etc/koha/zebradb/zebra-biblios.cfg</config></server>
<config>
<db_scheme>mysql</db_scheme>
<database>` + db.Name + `</database>
` + connection + `<user>` + db.Config.User + `</user>
<pass>` + db.Config.Passwd + `</pass>
` + extra + `
</config>
</yazgfs>
`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// env returns a getenv over m with the site's instance directory.
func (s *site) env(m map[string]string) func(string) string {
	return func(name string) string {
		if name == config.SitesDirEnv {
			return s.sitesDir
		}
		return m[name]
	}
}

// load resolves the settings of the instance with extra environment.
func (s *site) load(env map[string]string) *config.Loaded {
	s.t.Helper()
	loaded, err := config.Load(s.ctx, config.Inputs{Flags: map[string]string{"instance": s.instance}, Getenv: s.env(env)})
	if err != nil {
		s.t.Fatalf("Load: %v", err)
	}
	s.t.Cleanup(func() { loaded.Close() })
	return loaded
}

func (s *site) exec(query string, args ...any) {
	s.t.Helper()
	if _, err := s.db.DB.ExecContext(s.ctx, query, args...); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
}

// storeCredentials writes WebhookCredentials encrypted with testKey.
func (s *site) storeCredentials(fields map[string]string) {
	s.t.Helper()
	plaintext, err := json.Marshal(fields)
	if err != nil {
		s.t.Fatal(err)
	}
	s.storeCredentialsHex(encrypt(s.t, testKey, plaintext))
}

func (s *site) storeCredentialsHex(ciphertext string) {
	s.t.Helper()
	s.exec(`INSERT INTO systempreferences (variable, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)`,
		config.CredentialsPreference, ciphertext)
}

func (s *site) storePluginData(key, value string) {
	s.t.Helper()
	s.exec(`REPLACE INTO plugin_data (plugin_class, plugin_key, plugin_value) VALUES (?, ?, ?)`, config.PluginClass, key, value)
}

// storedCredentials decrypts WebhookCredentials with testKey.
func (s *site) storedCredentials() map[string]any {
	s.t.Helper()
	var text string
	if err := s.db.DB.QueryRowContext(s.ctx, `SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&text); err != nil {
		s.t.Fatalf("read %s: %v", config.CredentialsPreference, err)
	}
	if !strings.HasPrefix(text, "53616c7465645f5f") {
		s.t.Fatalf("%s does not start with the hex of Salted__: %.20s…", config.CredentialsPreference, text)
	}
	cipher, err := kohacrypt.New(testKey)
	if err != nil {
		s.t.Fatal(err)
	}
	plaintext, err := cipher.DecryptHex(text)
	if err != nil {
		s.t.Fatalf("decrypt %s: %v", config.CredentialsPreference, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(plaintext, &fields); err != nil {
		s.t.Fatalf("%s is not JSON: %v", config.CredentialsPreference, err)
	}
	return fields
}

func encrypt(t *testing.T, key string, plaintext []byte) string {
	t.Helper()
	cipher, err := kohacrypt.New(key)
	if err != nil {
		t.Fatal(err)
	}
	ciphertext, err := cipher.EncryptHex(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return ciphertext
}

// sharedKohaFile returns a file of Koha reference data: the value of env
// when set, else name beside Koha's schema file.
func sharedKohaFile(t *testing.T, env, name string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		return path
	}
	schema, err := kohadb.SchemaPath()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(schema), name)
}
