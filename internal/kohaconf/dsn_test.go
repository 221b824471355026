package kohaconf_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
)

const testPassword = "Pa55:w0rd@with/odd?chars&"

// dbConf returns a koha-conf.xml with the given hostname and extra <config> elements.
func dbConf(hostname, extra string) string {
	return confWith("<database>koha_library</database>\n<hostname>" + hostname + "</hostname>\n" +
		"<port>3306</port>\n<user>koha_library</user>\n<pass>" + xmlEscape(testPassword) + "</pass>\n" + extra)
}

func xmlEscape(text string) string {
	var escaped strings.Builder
	if err := xml.EscapeText(&escaped, []byte(text)); err != nil {
		panic(err)
	}

	return escaped.String()
}

func parseDSN(t *testing.T, conf *kohaconf.Config) *mysql.Config {
	t.Helper()

	dsn, err := conf.DSN()
	if err != nil {
		t.Fatalf("DSN: %v", err)
	}

	parsed, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("mysql.ParseDSN: %v", err)
	}

	return parsed
}

func TestDSNTCP(t *testing.T) {
	t.Parallel()

	parsed := parseDSN(t, mustLoad(t, debianConf))

	tests := []struct {
		field string
		got   string
		want  string
	}{
		{"Net", parsed.Net, "tcp"},
		{"Addr", parsed.Addr, "db.example.org:3307"},
		{"DBName", parsed.DBName, "koha_library"},
		{"User", parsed.User, "koha_library"},
		{"Passwd", parsed.Passwd, " p@ss:w/rd?&x "},
		{"Params[time_zone]", parsed.Params["time_zone"], "'Europe/Helsinki'"},
		{"TLSConfig", parsed.TLSConfig, ""},
	}

	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.field, tt.got, tt.want)
		}
	}
	if parsed.TLS != nil {
		t.Error("TLS is set, want nil for <tls>no</tls>")
	}
}

func TestDSNAddress(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		content  string
		wantNet  string
		wantAddr string
	}{
		{"localhost", dbConf("localhost", ""), "unix", kohaconf.DefaultSocket},
		{"empty hostname", dbConf("", ""), "unix", kohaconf.DefaultSocket},
		{"socket setting", dbConf("localhost", "<socket>/var/run/mysql.sock</socket>"), "unix", "/var/run/mysql.sock"},
		{"loopback address", dbConf("127.0.0.1", ""), "tcp", "127.0.0.1:3306"},
		{"ipv6", dbConf("::1", ""), "tcp", "[::1]:3306"},
		{"default port", confWith("<database>k</database><hostname>db</hostname><user>u</user>"), "tcp", "db:3306"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			parsed := parseDSN(t, mustLoad(t, tt.content))
			if parsed.Net != tt.wantNet {
				t.Errorf("Net = %q, want %q", parsed.Net, tt.wantNet)
			}
			if parsed.Addr != tt.wantAddr {
				t.Errorf("Addr = %q, want %q", parsed.Addr, tt.wantAddr)
			}
		})
	}
}

func TestDSNPasswordRoundTrip(t *testing.T) {
	t.Parallel()

	parsed := parseDSN(t, mustLoad(t, dbConf("db", "")))
	if parsed.Passwd != testPassword {
		t.Errorf("Passwd = %q, want %q", parsed.Passwd, testPassword)
	}
}

func TestDSNTimezone(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		timezone string
		want     string
	}{
		{"absent", "", ""},
		{"local", "local", ""},
		{"named", "America/Argentina/Buenos_Aires", "'America/Argentina/Buenos_Aires'"},
		{"offset", "+02:00", "'+02:00'"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			parsed := parseDSN(t, mustLoad(t, dbConf("db", "<timezone>"+tt.timezone+"</timezone>")))
			if got := parsed.Params["time_zone"]; got != tt.want {
				t.Errorf("Params[time_zone] = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDSNInvalidTimezone(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, dbConf("db", "<timezone>UTC'; DROP TABLE x; --</timezone>"))

	_, err := conf.DSN()
	if !errors.Is(err, kohaconf.ErrInvalidSetting) {
		t.Fatalf("DSN error = %v, want ErrInvalidSetting", err)
	}
	if !strings.Contains(err.Error(), "<timezone>") {
		t.Errorf("error %q does not name <timezone>", err)
	}
}

func TestDSNMissingSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		content     string
		wantSetting string
	}{
		{"database", confWith("<hostname>db</hostname><user>u</user><pass>" + xmlEscape(testPassword) + "</pass>"), "database"},
		{"user", confWith("<database>k</database><hostname>db</hostname><pass>" + xmlEscape(testPassword) + "</pass>"), "user"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := mustLoad(t, tt.content).DSN()
			if !errors.Is(err, kohaconf.ErrMissingSetting) {
				t.Fatalf("DSN error = %v, want ErrMissingSetting", err)
			}

			var settingErr *kohaconf.SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("DSN error %T is not a *SettingError", err)
			}
			if settingErr.Setting != tt.wantSetting {
				t.Errorf("Setting = %q, want %q", settingErr.Setting, tt.wantSetting)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// testPKI is a throwaway CA with a client certificate and two server
// certificates, one signed by the CA and one by an unrelated CA.
type testPKI struct {
	caFile, certFile, keyFile string
	otherCAFile               string
	ca                        *x509.Certificate
	server, foreignServer     tls.Certificate
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}

	return key
}

func newCA(t *testing.T, name string) issuer {
	t.Helper()

	key := newKey(t)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}

	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse CA certificate: %v", err)
	}

	return issuer{cert: cert, key: key}
}

// issue signs a leaf certificate. Like the certificates MySQL generates, it
// names no host.
func (i issuer) issue(t *testing.T, commonName string, usage x509.ExtKeyUsage) (der []byte, key *ecdsa.PrivateKey) {
	t.Helper()

	key = newKey(t)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}

	der, err := x509.CreateCertificate(rand.Reader, template, i.cert, &key.PublicKey, i.key)
	if err != nil {
		t.Fatalf("create certificate %s: %v", commonName, err)
	}

	return der, key
}

func writePEM(t *testing.T, path, blockType string, der []byte) {
	t.Helper()

	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()

	dir := t.TempDir()
	ca := newCA(t, "Test MySQL CA")
	otherCA := newCA(t, "Unrelated CA")

	pki := testPKI{
		caFile:      filepath.Join(dir, "ca.pem"),
		certFile:    filepath.Join(dir, "client-cert.pem"),
		keyFile:     filepath.Join(dir, "client-key.pem"),
		otherCAFile: filepath.Join(dir, "other-ca.pem"),
		ca:          ca.cert,
	}
	writePEM(t, pki.caFile, "CERTIFICATE", ca.cert.Raw)
	writePEM(t, pki.otherCAFile, "CERTIFICATE", otherCA.cert.Raw)

	clientDER, clientKey := ca.issue(t, "koha_library", x509.ExtKeyUsageClientAuth)
	writePEM(t, pki.certFile, "CERTIFICATE", clientDER)
	clientKeyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatalf("marshal client key: %v", err)
	}
	writePEM(t, pki.keyFile, "PRIVATE KEY", clientKeyDER)

	serverDER, serverKey := ca.issue(t, "MySQL_Server_Auto_Generated_Server_Certificate", x509.ExtKeyUsageServerAuth)
	pki.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}

	foreignDER, foreignKey := otherCA.issue(t, "foreign server", x509.ExtKeyUsageServerAuth)
	pki.foreignServer = tls.Certificate{Certificate: [][]byte{foreignDER}, PrivateKey: foreignKey}

	return pki
}

func tlsConf(pki testPKI, hostname string) string {
	return dbConf(hostname, "<tls>yes</tls>\n<ca>"+pki.caFile+"</ca>\n<cert>"+pki.certFile+"</cert>\n<key>"+pki.keyFile+"</key>")
}

func TestDSNTLS(t *testing.T) {
	t.Parallel()

	pki := newTestPKI(t)
	conf := mustLoad(t, tlsConf(pki, "db.example.org"))

	parsed := parseDSN(t, conf)
	if !strings.HasPrefix(parsed.TLSConfig, "kohaconf-") {
		t.Errorf("TLSConfig = %q, want a registered name starting with kohaconf-", parsed.TLSConfig)
	}
	if parsed.TLS == nil {
		t.Fatal("parsed DSN has no TLS configuration, want the registered one")
	}
	if len(parsed.TLS.Certificates) != 1 {
		t.Errorf("TLS has %d client certificates, want 1", len(parsed.TLS.Certificates))
	}
	if parsed.TLS.RootCAs == nil {
		t.Error("TLS.RootCAs is nil, want the CA from <ca>")
	}

	second := parseDSN(t, conf)
	if second.TLSConfig == parsed.TLSConfig {
		t.Errorf("two DSN calls registered the same TLS name %q", parsed.TLSConfig)
	}
}

// socketPair returns two connected Unix stream sockets. Unlike net.Pipe,
// they buffer writes, so a client that aborts the handshake with an alert
// while the server is still writing does not deadlock.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()

	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}

	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		file := os.NewFile(uintptr(fd), fmt.Sprintf("socketpair-%d", i))
		conn, err := net.FileConn(file)
		file.Close()
		if err != nil {
			t.Fatalf("socketpair connection: %v", err)
		}
		conns[i] = conn
	}

	return conns[0], conns[1]
}

// handshake runs a TLS handshake over a socket pair between client and
// a server that requires a client certificate signed by clientCA.
func handshake(t *testing.T, client *tls.Config, server tls.Certificate, clientCA *x509.Certificate) error {
	t.Helper()

	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(clientCA)
	serverConfig := &tls.Config{
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	}

	clientConn, serverConn := socketPair(t)
	defer clientConn.Close()
	defer serverConn.Close()

	serverDone := make(chan error, 1)
	go func() {
		tlsServer := tls.Server(serverConn, serverConfig)
		err := tlsServer.HandshakeContext(t.Context())
		if err != nil {
			serverConn.Close()
		}
		serverDone <- err
	}()

	// The client connection stays open until the server finishes, because
	// a TLS 1.3 server still writes session tickets after the client is done.
	clientErr := tls.Client(clientConn, client).HandshakeContext(t.Context())
	if clientErr != nil {
		clientConn.Close()
	}
	serverErr := <-serverDone

	if clientErr != nil {
		return clientErr
	}

	return serverErr
}

func TestTLSHandshake(t *testing.T) {
	t.Parallel()

	pki := newTestPKI(t)

	tests := []struct {
		name     string
		hostname string
		server   tls.Certificate
		wantErr  bool
	}{
		{"ca signed tcp", "db.example.org", pki.server, false},
		{"ca signed socket", "localhost", pki.server, false},
		{"foreign ca", "db.example.org", pki.foreignServer, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			cfg, err := mustLoad(t, tlsConf(pki, tt.hostname)).MySQLConfig()
			if err != nil {
				t.Fatalf("MySQLConfig: %v", err)
			}
			if cfg.TLS == nil {
				t.Fatal("MySQLConfig TLS is nil, want a configuration for <tls>yes</tls>")
			}

			err = handshake(t, cfg.TLS, tt.server, pki.ca)
			if tt.wantErr && err == nil {
				t.Error("handshake succeeded, want an error for a server certificate from another CA")
			}
			if tt.wantErr && err != nil && !strings.Contains(err.Error(), "<ca>") {
				t.Errorf("handshake error %q does not name <ca>", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("handshake: %v", err)
			}
		})
	}
}

func TestTLSWithoutCA(t *testing.T) {
	t.Parallel()

	cfg, err := mustLoad(t, dbConf("localhost", "<tls>yes</tls>")).MySQLConfig()
	if err != nil {
		t.Fatalf("MySQLConfig: %v", err)
	}
	if cfg.TLS == nil {
		t.Fatal("TLS is nil, want a configuration for <tls>yes</tls>")
	}
	if cfg.TLS.InsecureSkipVerify {
		t.Error("InsecureSkipVerify = true, want full verification without <ca>")
	}
	if cfg.TLS.ServerName != "localhost" {
		t.Errorf("ServerName = %q, want localhost for a socket connection", cfg.TLS.ServerName)
	}
	if len(cfg.TLS.Certificates) != 0 {
		t.Errorf("TLS has %d client certificates, want 0", len(cfg.TLS.Certificates))
	}
}

func TestTLSPlaceholdersIgnored(t *testing.T) {
	t.Parallel()

	conf := mustLoad(t, dbConf("db", `<tls>yes</tls>
 <ca>__DB_TLS_CA_CERTIFICATE__</ca>
 <cert>__DB_TLS_CLIENT_CERTIFICATE__</cert>
 <key>__DB_TLS_CLIENT_KEY__</key>`))

	cfg, err := conf.MySQLConfig()
	if err != nil {
		t.Fatalf("MySQLConfig: %v", err)
	}
	if cfg.TLS == nil {
		t.Fatal("TLS is nil, want a configuration for <tls>yes</tls>")
	}
	if cfg.TLS.RootCAs != nil {
		t.Error("RootCAs is set, want nil for the <ca> placeholder")
	}
	if len(cfg.TLS.Certificates) != 0 {
		t.Errorf("TLS has %d client certificates, want 0 for the placeholders", len(cfg.TLS.Certificates))
	}
}

func TestTLSErrors(t *testing.T) {
	t.Parallel()

	pki := newTestPKI(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatalf("write %s: %v", notPEM, err)
	}

	tests := []struct {
		name        string
		extra       string
		wantSetting string
		wantErr     error
		wantText    string
	}{
		{"missing ca file", "<ca>" + missing + "</ca>", "ca", fs.ErrNotExist, missing},
		{"ca not pem", "<ca>" + notPEM + "</ca>", "ca", kohaconf.ErrInvalidSetting, notPEM},
		{"cert without key", "<cert>" + pki.certFile + "</cert>", "key", kohaconf.ErrMissingSetting, "<key>"},
		{"key without cert", "<key>" + pki.keyFile + "</key>", "cert", kohaconf.ErrMissingSetting, "<cert>"},
		{"missing cert file", "<cert>" + missing + "</cert><key>" + pki.keyFile + "</key>", "cert", fs.ErrNotExist, missing},
		{"missing key file", "<cert>" + pki.certFile + "</cert><key>" + missing + "</key>", "key", fs.ErrNotExist, missing},
		{"key is a certificate", "<cert>" + pki.certFile + "</cert><key>" + pki.caFile + "</key>", "cert", nil, pki.caFile},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			conf := mustLoad(t, dbConf("db", "<tls>yes</tls>"+tt.extra))
			_, err := conf.DSN()

			var settingErr *kohaconf.SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("DSN error = %v (%T), want *SettingError", err, err)
			}
			if settingErr.Setting != tt.wantSetting {
				t.Errorf("Setting = %q, want %q (error %v)", settingErr.Setting, tt.wantSetting, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("DSN error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}
