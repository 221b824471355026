package kohaconf_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
)

// debianConf is shaped like the koha-conf.xml that koha-create writes for a
// Debian package instance: Zebra sections with attributes, comments, a
// <config> inside each <server>, then the instance <config>.
const debianConf = `<?xml version="1.0" encoding="UTF-8"?>
<yazgfs>
<!-- Zebra listeners for the biblio and authority databases -->
<listen id="biblioserver">unix:/var/run/koha/library/bibliosocket</listen>
<listen id="authorityserver">unix:/var/run/koha/library/authoritysocket</listen>

<server id="biblioserver" listenref="biblioserver">
  <directory>/var/lib/koha/library/biblios</directory>
  <config>/etc/koha/sites/library/zebra-biblios-dom.cfg</config>
  <cql2rpn>/etc/koha/zebradb/pqf.properties</cql2rpn>
  <xi:include href="/etc/koha/zebradb/retrieval-info-bib-dom.xml"
              xmlns:xi="http://www.w3.org/2001/XInclude">
    <xi:fallback><warning>retrieval info not found</warning></xi:fallback>
  </xi:include>
</server>
<serverinfo id="biblioserver">
  <ccl2rpn>/etc/koha/zebradb/ccl.properties</ccl2rpn>
  <user>kohauser</user>
  <password>zebra-secret</password>
</serverinfo>

<server id="authorityserver" listenref="authorityserver">
  <directory>/var/lib/koha/library/authorities</directory>
  <config>/etc/koha/sites/library/zebra-authorities-dom.cfg</config>
</server>

<config>
 <db_scheme>mysql</db_scheme>
 <database>koha_library</database>
 <hostname>db.example.org</hostname>
 <port>3307</port>
 <user>koha_library</user>
 <pass> p@ss:w/rd?&amp;x </pass>
 <tls>no</tls>
 <ca></ca>
 <cert></cert>
 <key></key>
 <biblioserver>biblios</biblioserver>
 <biblioservershadow>1</biblioservershadow>
 <pluginsdir>/var/lib/koha/library/plugins</pluginsdir>
 <!-- a second plugin directory -->
 <pluginsdir>/usr/share/koha/extra-plugins</pluginsdir>
 <enable_plugins>1</enable_plugins>
 <encryption_key>wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7</encryption_key>
 <timezone>Europe/Helsinki</timezone>
 <use_zebra_facets>1</use_zebra_facets>
 <memcached_servers></memcached_servers>
 <elasticsearch>
     <server>es1.example.org:9200</server>
     <server>es2.example.org:9200</server>
     <index_name>koha_library</index_name>
 </elasticsearch>
 <webhook_auth_url>https://auth.example.org/oauth2/token</webhook_auth_url>
 <webhook_client_id>  client-123  </webhook_client_id>
 <webhook_client_secret><![CDATA[s3cr<et>&value]]></webhook_client_secret>
 <webhook_notice_url>https://notices.example.org/koha?site=a&amp;b=c</webhook_notice_url>
 <webhook_test_mode>1</webhook_test_mode>
</config>
</yazgfs>
`

func writeConf(t *testing.T, content string) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "koha-conf.xml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write koha-conf.xml: %v", err)
	}

	return path
}

// confWith returns a minimal koha-conf.xml whose <config> contains body.
func confWith(body string) string {
	return "<yazgfs>\n<listen id=\"biblioserver\">tcp:@:9998</listen>\n<config>\n" + body + "\n</config>\n</yazgfs>\n"
}

func mustLoad(t *testing.T, content string) *kohaconf.Config {
	t.Helper()

	conf, err := kohaconf.Load(writeConf(t, content))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	return conf
}

func TestLoadDebianFields(t *testing.T) {
	t.Parallel()

	path := writeConf(t, debianConf)
	conf, err := kohaconf.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	tests := []struct {
		field string
		got   any
		want  any
	}{
		{"Path", conf.Path, path},
		{"Database", conf.Database, "koha_library"},
		{"Hostname", conf.Hostname, "db.example.org"},
		{"User", conf.User, "koha_library"},
		{"Pass", conf.Pass, " p@ss:w/rd?&x "},
		{"Port", conf.Port, 3307},
		{"Socket", conf.Socket, ""},
		{"TLS", conf.TLS, false},
		{"CA", conf.CA, ""},
		{"Cert", conf.Cert, ""},
		{"Key", conf.Key, ""},
		{"EncryptionKey", conf.EncryptionKey, "wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7"},
		{"Timezone", conf.Timezone, "Europe/Helsinki"},
	}

	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.field, tt.got, tt.want)
		}
	}
}

func TestLoadDebianSettings(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, debianConf)

	tests := []struct {
		name string
		want []string
	}{
		{"pluginsdir", []string{"/var/lib/koha/library/plugins", "/usr/share/koha/extra-plugins"}},
		{"enable_plugins", []string{"1"}},
		{"memcached_servers", []string{""}},
		{"ca", []string{""}},
		{"elasticsearch", []string{""}},
		{"elasticsearch/server", []string{"es1.example.org:9200", "es2.example.org:9200"}},
		{"elasticsearch/index_name", []string{"koha_library"}},
		{"webhook_auth_url", []string{"https://auth.example.org/oauth2/token"}},
		{"webhook_client_id", []string{"  client-123  "}},
		{"webhook_client_secret", []string{"s3cr<et>&value"}},
		{"webhook_notice_url", []string{"https://notices.example.org/koha?site=a&b=c"}},
		{"webhook_test_mode", []string{"1"}},
	}

	for _, tt := range tests {
		if got := conf.Settings[tt.name]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Settings[%q] = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLoadIgnoresZebraSections(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, debianConf)

	for _, name := range []string{"directory", "config", "listen", "password", "ccl2rpn", "server", "include"} {
		if values, ok := conf.Settings[name]; ok {
			t.Errorf("Settings[%q] = %q, want absent", name, values)
		}
	}

	// <user> of <serverinfo> comes first in the file but must not win.
	if conf.User != "koha_library" {
		t.Errorf("User = %q, want the <config> value koha_library", conf.User)
	}
}

func TestSetting(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, debianConf)

	tests := []struct {
		name      string
		wantValue string
		wantFound bool
	}{
		{"webhook_client_id", "client-123", true},
		{"pluginsdir", "/var/lib/koha/library/plugins", true},
		{"memcached_servers", "", true},
		{"webhook_customer_id", "", false},
		{"elasticsearch/index_name", "koha_library", true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			value, found := conf.Setting(tt.name)
			if value != tt.wantValue {
				t.Errorf("Setting(%q) value = %q, want %q", tt.name, value, tt.wantValue)
			}
			if found != tt.wantFound {
				t.Errorf("Setting(%q) found = %v, want %v", tt.name, found, tt.wantFound)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, confWith("<database>koha</database><port></port><user>koha</user>"))

	if conf.Port != kohaconf.DefaultPort {
		t.Errorf("Port = %d, want %d", conf.Port, kohaconf.DefaultPort)
	}
	if conf.EncryptionKey != "" {
		t.Errorf("EncryptionKey = %q, want empty", conf.EncryptionKey)
	}
	if conf.TLS {
		t.Error("TLS = true, want false")
	}
}

func TestLoadTLSValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		tls     string
		wantTLS bool
	}{
		{"yes", "yes", true},
		{"yes with spaces", " yes\n", true},
		{"no", "no", false},
		{"empty", "", false},
		{"placeholder", "__DB_USE_TLS__", false},
		{"upper case", "YES", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			conf := mustLoad(t, confWith("<tls>"+tt.tls+"</tls>"))
			if conf.TLS != tt.wantTLS {
				t.Errorf("TLS for <tls>%s</tls> = %v, want %v", tt.tls, conf.TLS, tt.wantTLS)
			}
		})
	}
}

func TestLoadTLSPlaceholders(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, confWith(`
 <tls>__DB_USE_TLS__</tls>
 <ca>__DB_TLS_CA_CERTIFICATE__</ca>
 <cert>__DB_TLS_CLIENT_CERTIFICATE__</cert>
 <key>__DB_TLS_CLIENT_KEY__</key>`))

	if conf.TLS {
		t.Error("TLS = true, want false")
	}
	if conf.CA != "" {
		t.Errorf("CA = %q, want empty", conf.CA)
	}
	if conf.Cert != "" {
		t.Errorf("Cert = %q, want empty", conf.Cert)
	}
	if conf.Key != "" {
		t.Errorf("Key = %q, want empty", conf.Key)
	}
}

func TestEncryption(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, debianConf)

	key, err := conf.Encryption()
	if err != nil {
		t.Fatalf("Encryption: %v", err)
	}
	if key != "wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7" {
		t.Errorf("Encryption = %q, want the <encryption_key> value", key)
	}
}

func TestEncryptionErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		want error
	}{
		{"absent", "<database>koha</database>", kohaconf.ErrMissingSetting},
		{"empty", "<encryption_key></encryption_key>", kohaconf.ErrMissingSetting},
		{"blank", "<encryption_key>  \n </encryption_key>", kohaconf.ErrMissingSetting},
		{"placeholder", "<encryption_key>__ENCRYPTION_KEY__</encryption_key>", kohaconf.ErrPlaceholderSetting},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			conf := mustLoad(t, confWith(tt.body))
			key, err := conf.Encryption()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Encryption error = %v, want %v", err, tt.want)
			}
			if key != "" {
				t.Errorf("Encryption returned key %q with an error", key)
			}

			message := err.Error()
			for _, want := range []string{"<encryption_key>", conf.Path, "koha-create"} {
				if !strings.Contains(message, want) {
					t.Errorf("error %q does not contain %q", message, want)
				}
			}
		})
	}
}

func TestEncryptionKeyUntrimmed(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, confWith("<encryption_key> key with spaces </encryption_key>"))

	key, err := conf.Encryption()
	if err != nil {
		t.Fatalf("Encryption: %v", err)
	}
	if key != " key with spaces " {
		t.Errorf("Encryption = %q, want the value with its spaces", key)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "missing", "koha-conf.xml")
	_, err := kohaconf.Load(path)

	var fileErr *kohaconf.FileError
	if !errors.As(err, &fileErr) {
		t.Fatalf("Load error = %v (%T), want *FileError", err, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load error = %v, want fs.ErrNotExist", err)
	}
	for _, want := range []string{path, "--koha-conf", "KOHA_CONF", "--instance"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestLoadDirectory(t *testing.T) {
	t.Parallel()

	_, err := kohaconf.Load(t.TempDir())

	var fileErr *kohaconf.FileError
	if !errors.As(err, &fileErr) {
		t.Fatalf("Load error = %v (%T), want *FileError", err, err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	t.Parallel()

	if os.Geteuid() == 0 {
		t.Skip("running as root, which can read a file without read permission")
	}

	path := writeConf(t, debianConf)
	if err := os.Chmod(path, 0o000); err != nil {
		t.Fatalf("chmod: %v", err)
	}

	_, err := kohaconf.Load(path)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Load error = %v, want fs.ErrPermission", err)
	}
	if !strings.Contains(err.Error(), "koha-shell") {
		t.Errorf("error %q does not suggest koha-shell", err)
	}
}

func TestLoadMalformed(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		content  string
		wantLine int
	}{
		{"mismatched tag", "<yazgfs>\n<config>\n<database>koha</user>\n</config>\n</yazgfs>\n", 3},
		{"bare ampersand", confWith("<webhook_notice_url>https://x.example.org/?a=1&b=2</webhook_notice_url>"), 4},
		{"truncated", "<yazgfs>\n<config>\n<database>koha</database>\n", 4},
		{"latin1 declaration", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<yazgfs/>\n", 1},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			path := writeConf(t, tt.content)
			_, err := kohaconf.Load(path)

			var syntaxErr *kohaconf.SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Load error = %v (%T), want *SyntaxError", err, err)
			}
			if syntaxErr.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (error %v)", syntaxErr.Line, tt.wantLine, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadNoConfigElement(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		content string
	}{
		{"zebra only", "<yazgfs>\n<server id=\"biblioserver\"><config>/etc/zebra.cfg</config></server>\n</yazgfs>\n"},
		{"root is config", "<config><database>koha</database></config>\n"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := kohaconf.Load(writeConf(t, tt.content))
			if !errors.Is(err, kohaconf.ErrNoConfigElement) {
				t.Fatalf("Load error = %v, want ErrNoConfigElement", err)
			}

			var settingErr *kohaconf.SettingError
			if !errors.As(err, &settingErr) {
				t.Errorf("Load error %T is not a *SettingError", err)
			}
		})
	}
}

func TestLoadDuplicateConfig(t *testing.T) {
	t.Parallel()

	_, err := kohaconf.Load(writeConf(t, "<yazgfs>\n<config></config>\n<config></config>\n</yazgfs>\n"))
	if !errors.Is(err, kohaconf.ErrInvalidSetting) {
		t.Fatalf("Load error = %v, want ErrInvalidSetting", err)
	}
	if !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %q does not name line 3", err)
	}
}

func TestLoadInvalidPort(t *testing.T) {
	t.Parallel()

	for _, port := range []string{"abc", "0", "65536", "-1", "3306x"} {
		t.Run(port, func(t *testing.T) {
			t.Parallel()

			_, err := kohaconf.Load(writeConf(t, confWith("<port>"+port+"</port>")))
			if !errors.Is(err, kohaconf.ErrInvalidSetting) {
				t.Fatalf("Load error = %v, want ErrInvalidSetting", err)
			}
			if !strings.Contains(err.Error(), "<port>") {
				t.Errorf("error %q does not name <port>", err)
			}
		})
	}
}

func TestInstancePath(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		sitesDir string
		instance string
		want     string
	}{
		{"default dir", "", "library", "/etc/koha/sites/library/koha-conf.xml"},
		{"custom dir", "/srv/koha/sites", "lib-2_test", "/srv/koha/sites/lib-2_test/koha-conf.xml"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := kohaconf.InstancePath(tt.sitesDir, tt.instance)
			if err != nil {
				t.Fatalf("InstancePath: %v", err)
			}
			if got != tt.want {
				t.Errorf("InstancePath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInstancePathRejects(t *testing.T) {
	t.Parallel()

	for _, instance := range []string{"", ".", "..", "../etc", "a/b", "/abs", "a..b", `a\b`, "lib\n", "lib\x00"} {
		t.Run(instance, func(t *testing.T) {
			t.Parallel()

			got, err := kohaconf.InstancePath(kohaconf.DefaultSitesDir, instance)

			var instanceErr *kohaconf.InstanceError
			if !errors.As(err, &instanceErr) {
				t.Fatalf("InstancePath(%q) error = %v, want *InstanceError", instance, err)
			}
			if got != "" {
				t.Errorf("InstancePath(%q) = %q with an error", instance, got)
			}
		})
	}
}
