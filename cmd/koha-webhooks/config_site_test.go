package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// siteKey is the encryption_key of the test instances' koha-conf.xml.
const siteKey = "t3st-encryption-key-of-the-instance"

// kohaSite is a Koha database with sample records and a Debian-style
// instance directory whose koha-conf.xml points at it.
type kohaSite struct {
	t        *testing.T
	ctx      context.Context
	db       *kohatest.Database
	sample   *sample.Site
	sitesDir string
	env      map[string]string
}

const siteInstance = "library"

func newKohaSite(t *testing.T, confExtra string) *kohaSite {
	t.Helper()
	return newKohaSiteOn(t, kohatest.NewDB(t), confExtra)
}

func newKohaSiteOn(t *testing.T, db *kohatest.Database, confExtra string) *kohaSite {
	t.Helper()
	s := &kohaSite{t: t, ctx: context.Background(), db: db, sample: &sample.Site{DB: db.DB}, sitesDir: t.TempDir()}
	if err := s.sample.Setup(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.env = map[string]string{config.SitesDirEnv: s.sitesDir}
	s.writeConf("<encryption_key>" + siteKey + "</encryption_key>\n" + confExtra)
	return s
}

func (s *kohaSite) confPath() string {
	return filepath.Join(s.sitesDir, siteInstance, "koha-conf.xml")
}

// writeConf writes the instance's koha-conf.xml: the test database's
// connection and extra elements under <config>.
func (s *kohaSite) writeConf(extra string) {
	s.t.Helper()
	host, port, err := net.SplitHostPort(s.db.Config.Addr)
	if err != nil {
		s.t.Fatalf("test database address %q: %v", s.db.Config.Addr, err)
	}
	content := `<yazgfs>
<config>
<database>` + s.db.Name + `</database>
<hostname>` + host + `</hostname>
<port>` + port + `</port>
<user>` + s.db.Config.User + `</user>
<pass>` + s.db.Config.Passwd + `</pass>
` + extra + `
</config>
</yazgfs>
`
	if err := os.MkdirAll(filepath.Dir(s.confPath()), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.confPath(), []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// command runs koha-webhooks with args and the site's environment plus
// extra variables.
func (s *kohaSite) command(extra map[string]string, args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	var out, errOut bytes.Buffer
	code = runMain(args, &out, &errOut, envOf(env))
	return code, out.String(), errOut.String()
}

// mustCommand runs a command that must exit 0.
func (s *kohaSite) mustCommand(extra map[string]string, args ...string) string {
	s.t.Helper()
	code, stdout, stderr := s.command(extra, args...)
	if code != exitOK {
		s.t.Fatalf("koha-webhooks %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return stdout
}

// credentials decrypts WebhookCredentials with kohacrypt and siteKey.
func (s *kohaSite) credentials() map[string]string {
	s.t.Helper()
	var text string
	if err := s.db.DB.QueryRow(`SELECT value FROM systempreferences WHERE variable = ?`, config.CredentialsPreference).Scan(&text); err != nil {
		s.t.Fatalf("read %s: %v", config.CredentialsPreference, err)
	}
	cipher, err := kohacrypt.New(siteKey)
	if err != nil {
		s.t.Fatal(err)
	}
	plaintext, err := cipher.DecryptHex(text)
	if err != nil {
		s.t.Fatalf("decrypt %s with kohacrypt: %v", config.CredentialsPreference, err)
	}
	var fields map[string]string
	if err := json.Unmarshal(plaintext, &fields); err != nil {
		s.t.Fatalf("%s is not a JSON object of strings: %v", config.CredentialsPreference, err)
	}
	return fields
}

func (s *kohaSite) pluginData(key string) string {
	s.t.Helper()
	var value string
	if err := s.db.DB.QueryRow(`SELECT plugin_value FROM plugin_data WHERE plugin_class = ? AND plugin_key = ?`,
		config.PluginClass, key).Scan(&value); err != nil {
		s.t.Fatalf("plugin_data %s: %v", key, err)
	}
	return value
}

func (s *kohaSite) status(messageID int64) (status, failureCode string) {
	s.t.Helper()
	var code *string
	if err := s.db.DB.QueryRow(`SELECT status, failure_code FROM message_queue WHERE message_id = ?`, messageID).Scan(&status, &code); err != nil {
		s.t.Fatal(err)
	}
	if code != nil {
		failureCode = *code
	}
	return status, failureCode
}
