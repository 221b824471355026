package kohaconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// DefaultSocket is the MySQL and MariaDB Unix socket on Debian, used when
// Hostname is "localhost" or empty and <socket> is not set.
const DefaultSocket = "/run/mysqld/mysqld.sock"

// timezonePattern matches MySQL time zone names such as "Europe/Helsinki",
// "UTC" and "+02:00". The value goes into a SET statement, so quotes and
// other characters are rejected.
var timezonePattern = regexp.MustCompile(`^[A-Za-z0-9_+\-/:.]+$`)

// tlsConfigCount makes each name registered with mysql.RegisterTLSConfig unique.
var tlsConfigCount atomic.Uint64

// MySQLConfig returns a go-sql-driver/mysql configuration that follows
// Koha's own database connection, for use with mysql.NewConnector:
//
//   - Hostname "localhost" or empty connects to the Unix socket Socket, or
//     DefaultSocket when that is empty, because the MySQL and MariaDB client
//     libraries under Koha's DBD::mysql use the local socket for "localhost".
//     Any other hostname connects over TCP to Hostname:Port.
//   - Timezone, unless empty or "local", becomes the session time_zone, as
//     Koha sets it after connecting. The server needs its time zone tables
//     for a named zone, as Koha does.
//   - The connection character set is utf8mb4, the driver's default, as in
//     Koha. Koha also sets a non-strict sql_mode, which MySQLConfig leaves at
//     the server's default.
//   - With TLS, the TLS field is set (see tlsConfig for the checks). No TLS
//     name is registered, so the result needs no clean-up.
//
// Errors are *SettingError values and never contain the password.
func (c *Config) MySQLConfig() (*mysql.Config, error) {
	if c.Database == "" {
		return nil, c.missing("database", "the database name is missing, set <database> in koha-conf.xml")
	}
	if c.User == "" {
		return nil, c.missing("user", "the database user is missing, set <user> in koha-conf.xml")
	}

	cfg := mysql.NewConfig()
	cfg.User = c.User
	cfg.Passwd = c.Pass
	cfg.DBName = c.Database

	if c.usesSocket() {
		cfg.Net = "unix"
		cfg.Addr = c.Socket
		if cfg.Addr == "" {
			cfg.Addr = DefaultSocket
		}
	} else {
		port := c.Port
		if port == 0 {
			port = DefaultPort
		}
		cfg.Net = "tcp"
		cfg.Addr = net.JoinHostPort(c.Hostname, strconv.Itoa(port))
	}

	if c.Timezone != "" && c.Timezone != "local" {
		if !timezonePattern.MatchString(c.Timezone) {
			return nil, &SettingError{Path: c.Path, Setting: "timezone", Err: ErrInvalidSetting,
				Reason: fmt.Sprintf("invalid time zone %q, expected a name such as \"Europe/Helsinki\" or an "+
					"offset such as \"+02:00\"", c.Timezone)}
		}
		cfg.Params = map[string]string{"time_zone": "'" + c.Timezone + "'"}
	}

	if c.TLS {
		tlsConfig, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsConfig
	}

	return cfg, nil
}

// DSN returns the configuration of MySQLConfig as a go-sql-driver/mysql DSN
// string. With TLS, it registers the TLS configuration with
// mysql.RegisterTLSConfig under a new unique name and the DSN refers to it.
// Each call registers another name, so call it once per configuration.
func (c *Config) DSN() (string, error) {
	cfg, err := c.MySQLConfig()
	if err != nil {
		return "", err
	}

	if cfg.TLS != nil {
		name := fmt.Sprintf("kohaconf-%d", tlsConfigCount.Add(1))
		if err := mysql.RegisterTLSConfig(name, cfg.TLS); err != nil {
			return "", fmt.Errorf("kohaconf: registering TLS configuration %q failed: %w", name, err)
		}
		cfg.TLS = nil
		cfg.TLSConfig = name
	}

	return cfg.FormatDSN(), nil
}

func (c *Config) usesSocket() bool {
	return c.Hostname == "" || c.Hostname == "localhost"
}

func (c *Config) missing(setting, reason string) error {
	return &SettingError{Path: c.Path, Setting: setting, Err: ErrMissingSetting, Reason: reason}
}

// tlsConfig builds the TLS configuration from CA, Cert and Key.
//
// With a CA file, the server certificate chain must lead to that CA, but the
// host name is not compared with the certificate. This is MySQL's ssl-mode
// VERIFY_CA, and it accepts the server certificates that MySQL generates
// itself, which name no host. Without a CA file, the chain is checked against
// the system roots and the host name is checked as well.
//
// NOTE: whether Koha's DBD::mysql checks more or less than this depends on
// its version and client library, and was not compared with a live Koha.
func (c *Config) tlsConfig() (*tls.Config, error) {
	config := &tls.Config{}

	if c.Cert != "" || c.Key != "" {
		certificate, err := c.loadKeyPair()
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{certificate}
	}

	if c.CA == "" {
		if c.usesSocket() {
			config.ServerName = "localhost"
		}
		return config, nil
	}

	caPEM, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, &SettingError{Path: c.Path, Setting: "ca", Err: err,
			Reason: "cannot read the CA certificate file " + c.CA}
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, &SettingError{Path: c.Path, Setting: "ca", Err: ErrInvalidSetting,
			Reason: "the CA certificate file " + c.CA + " contains no PEM certificate"}
	}

	config.RootCAs = roots
	// Go's own check also compares the host name, so it is replaced by a
	// chain-only check in VerifyConnection.
	config.InsecureSkipVerify = true
	config.VerifyConnection = func(state tls.ConnectionState) error {
		return verifyChain(state.PeerCertificates, roots)
	}

	return config, nil
}

func (c *Config) loadKeyPair() (tls.Certificate, error) {
	if c.Cert == "" {
		return tls.Certificate{}, c.missing("cert",
			"<key> is set but the client certificate is missing, set both <cert> and <key> or neither")
	}
	if c.Key == "" {
		return tls.Certificate{}, c.missing("key",
			"<cert> is set but the client key is missing, set both <cert> and <key> or neither")
	}

	certPEM, err := os.ReadFile(c.Cert)
	if err != nil {
		return tls.Certificate{}, &SettingError{Path: c.Path, Setting: "cert", Err: err,
			Reason: "cannot read the client certificate file " + c.Cert}
	}
	keyPEM, err := os.ReadFile(c.Key)
	if err != nil {
		return tls.Certificate{}, &SettingError{Path: c.Path, Setting: "key", Err: err,
			Reason: "cannot read the client key file " + c.Key}
	}

	certificate, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &SettingError{Path: c.Path, Setting: "cert", Err: err,
			Reason: fmt.Sprintf("the client certificate %s and key %s cannot be used together", c.Cert, c.Key)}
	}

	return certificate, nil
}

// verifyChain checks that the server certificates lead to one of roots,
// without checking the host name.
func verifyChain(certificates []*x509.Certificate, roots *x509.CertPool) error {
	if len(certificates) == 0 {
		return errors.New("kohaconf: the database server sent no TLS certificate")
	}

	intermediates := x509.NewCertPool()
	for _, certificate := range certificates[1:] {
		intermediates.AddCert(certificate)
	}

	_, err := certificates[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("kohaconf: the database server certificate is not signed by the CA in <ca>: %w", err)
	}

	return nil
}
