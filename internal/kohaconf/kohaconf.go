package kohaconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	// DefaultSitesDir is the directory in which Koha's Debian packages keep
	// one sub-directory per instance.
	DefaultSitesDir = "/etc/koha/sites"
	// DefaultPort is the MySQL port used when <port> is empty or absent.
	DefaultPort = 3306
	// PlaceholderEncryptionKey is the <encryption_key> of a template that
	// was never filled in.
	PlaceholderEncryptionKey = "__ENCRYPTION_KEY__"
)

// tlsPlaceholders maps the TLS file settings to the placeholders that a
// Koha upgrade writes when it adds them, which mean "not set".
var tlsPlaceholders = map[string]string{
	"ca":   "__DB_TLS_CA_CERTIFICATE__",
	"cert": "__DB_TLS_CLIENT_CERTIFICATE__",
	"key":  "__DB_TLS_CLIENT_KEY__",
}

// Config is the content of one koha-conf.xml.
type Config struct {
	// Path is the file that was read.
	Path string

	// Database, Hostname and User are <database>, <hostname> and <user>.
	Database, Hostname, User string
	// Pass is <pass>, untrimmed. It is never part of an error message.
	Pass string
	// Port is <port>, or DefaultPort when that is empty or absent.
	Port int
	// Socket is <socket>, the MySQL Unix socket path used when Hostname is
	// "localhost" or empty. Koha itself has no such setting (see MySQLConfig).
	Socket string

	// TLS is true when <tls> is exactly "yes", as Koha tests it.
	TLS bool
	// CA, Cert and Key are the <ca>, <cert> and <key> file paths, or ""
	// when absent or still the template placeholders.
	CA, Cert, Key string

	// EncryptionKey is <encryption_key>, untrimmed, or "" when absent. It
	// may still be PlaceholderEncryptionKey, which Encryption reports.
	EncryptionKey string
	// Timezone is <timezone>, for example "Europe/Helsinki", or "".
	Timezone string

	// Settings contains every element under <config> by name, with every
	// value of a repeated element (such as <pluginsdir>) in file order.
	// Elements nested deeper are stored under a slash-separated path, so
	// <elasticsearch><server> is "elasticsearch/server". An element's value
	// is its own text, without the text of nested elements.
	Settings map[string][]string
}

// Load reads and parses the koha-conf.xml at path. Errors are *FileError
// for a file that cannot be read, *SyntaxError for malformed XML and
// *SettingError for a missing <config> element or an invalid <port>.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}

	settings, err := parseSettings(path, data)
	if err != nil {
		return nil, err
	}

	return newConfig(path, settings)
}

// InstancePath returns the koha-conf.xml path of a Koha instance:
// <sitesDir>/<instance>/koha-conf.xml. An empty sitesDir means
// DefaultSitesDir. Instance names that could leave sitesDir are rejected.
func InstancePath(sitesDir, instance string) (string, error) {
	if err := validateInstance(instance); err != nil {
		return "", err
	}

	if sitesDir == "" {
		sitesDir = DefaultSitesDir
	}

	return filepath.Join(sitesDir, instance, "koha-conf.xml"), nil
}

// InstanceError reports an instance name that is not a plain directory name.
type InstanceError struct {
	Instance string
}

// Error names the instance and the rule.
func (e *InstanceError) Error() string {
	if e.Instance == "" {
		return "kohaconf: Koha instance name is empty (set it with --instance or KOHA_INSTANCE)"
	}

	return fmt.Sprintf("kohaconf: invalid Koha instance name %q: it must be a plain name such as \"library\", "+
		"without \"/\", \"..\" or control characters", e.Instance)
}

func validateInstance(instance string) error {
	if instance == "" || instance == "." || strings.Contains(instance, "..") ||
		strings.ContainsAny(instance, `/\`) {
		return &InstanceError{Instance: instance}
	}

	for _, r := range instance {
		if r < 0x20 || r == 0x7f {
			return &InstanceError{Instance: instance}
		}
	}

	return nil
}

// Setting returns the first value of the element <name> under <config>
// with surrounding white space removed, and whether the element exists.
func (c *Config) Setting(name string) (string, bool) {
	values := c.Settings[name]
	if len(values) == 0 {
		return "", false
	}

	return strings.TrimSpace(values[0]), true
}

// Encryption returns the encryption key, or a *SettingError wrapping
// ErrMissingSetting or ErrPlaceholderSetting when Koha would not have one
// either. The error never contains the key.
func (c *Config) Encryption() (string, error) {
	const fix = "set <encryption_key> under <config> in koha-conf.xml " +
		"(koha-create writes one for new instances, or add a long random string by hand)"

	switch c.EncryptionKey {
	case "":
		return "", &SettingError{Path: c.Path, Setting: "encryption_key", Err: ErrMissingSetting,
			Reason: "the encryption key is missing, " + fix}
	case PlaceholderEncryptionKey:
		return "", &SettingError{Path: c.Path, Setting: "encryption_key", Err: ErrPlaceholderSetting,
			Reason: "the encryption key is still the placeholder " + PlaceholderEncryptionKey + ", " + fix}
	}

	return c.EncryptionKey, nil
}

func newConfig(path string, settings map[string][]string) (*Config, error) {
	first := func(name string) string {
		if values := settings[name]; len(values) > 0 {
			return values[0]
		}
		return ""
	}
	trimmed := func(name string) string {
		return strings.TrimSpace(first(name))
	}
	tlsFile := func(name string) string {
		value := trimmed(name)
		if value == tlsPlaceholders[name] {
			return ""
		}
		return value
	}

	port, err := parsePort(path, trimmed("port"))
	if err != nil {
		return nil, err
	}

	return &Config{
		Path:          path,
		Database:      trimmed("database"),
		Hostname:      trimmed("hostname"),
		User:          trimmed("user"),
		Pass:          first("pass"),
		Port:          port,
		Socket:        trimmed("socket"),
		TLS:           trimmed("tls") == "yes",
		CA:            tlsFile("ca"),
		Cert:          tlsFile("cert"),
		Key:           tlsFile("key"),
		EncryptionKey: first("encryption_key"),
		Timezone:      trimmed("timezone"),
		Settings:      settings,
	}, nil
}

func parsePort(path, value string) (int, error) {
	if value == "" {
		return DefaultPort, nil
	}

	port, err := strconv.Atoi(value)
	if err != nil || port < 1 || port > 65535 {
		return 0, &SettingError{Path: path, Setting: "port", Err: ErrInvalidSetting,
			Reason: fmt.Sprintf("invalid port %q, expected a number from 1 to 65535 (or leave it empty for %d)",
				value, DefaultPort)}
	}

	return port, nil
}

// parseSettings streams the XML and collects the elements under the <config>
// element that is a direct child of the root.
func parseSettings(path string, data []byte) (map[string][]string, error) {
	decoder := xml.NewDecoder(bytes.NewReader(data))
	decoder.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported, save the file as UTF-8", label)
	}

	var (
		settings    map[string][]string
		depth       int      // depth of the current element, 1 for the root
		inConfig    bool     // inside the <config> child of the root
		names       []string // open elements below <config>
		texts       [][]byte // text of each open element below <config>
		configFound bool
	)

	for {
		token, err := decoder.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(path, decoder, err)
		}

		switch t := token.(type) {
		case xml.StartElement:
			depth++
			switch {
			case inConfig:
				names = append(names, t.Name.Local)
				texts = append(texts, nil)
			case depth == 2 && t.Name.Local == "config":
				if configFound {
					line, _ := decoder.InputPos()
					return nil, &SettingError{Path: path, Setting: "config", Err: ErrInvalidSetting,
						Reason: fmt.Sprintf("a second <config> element starts on line %d, "+
							"but Koha expects exactly one (merge them)", line)}
				}
				configFound = true
				inConfig = true
				settings = make(map[string][]string)
			}

		case xml.EndElement:
			depth--
			if !inConfig {
				continue
			}
			if len(names) == 0 {
				inConfig = false
				continue
			}

			last := len(names) - 1
			name := strings.Join(names, "/")
			value := string(texts[last])
			if strings.TrimSpace(value) == "" {
				value = ""
			}
			settings[name] = append(settings[name], value)
			names = names[:last]
			texts = texts[:last]

		case xml.CharData:
			if inConfig && len(texts) > 0 {
				texts[len(texts)-1] = append(texts[len(texts)-1], t...)
			}
		}
	}

	if !configFound {
		return nil, &SettingError{Path: path, Setting: "config", Err: ErrNoConfigElement,
			Reason: "no <config> element under the root element, so this is not a Koha koha-conf.xml (" +
				locateHint + ")"}
	}

	return settings, nil
}

func syntaxError(path string, decoder *xml.Decoder, err error) error {
	var xmlErr *xml.SyntaxError
	if errors.As(err, &xmlErr) {
		return &SyntaxError{Path: path, Line: xmlErr.Line, Message: xmlErr.Msg}
	}

	line, _ := decoder.InputPos()
	return &SyntaxError{Path: path, Line: line, Message: err.Error()}
}
