package config

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Mask replaces a secret wherever a setting is shown. `koha-webhooks config
// set NAME=••••` keeps the stored secret, as saving the Perl plugin's
// configuration form with its masked field does.
const Mask = "••••"

// IsMask reports whether value consists only of mask characters, such as
// Mask or the longer mask of the Perl plugin's configuration form.
func IsMask(value string) bool {
	value = strings.TrimSpace(value)
	return value != "" && strings.Trim(value, "•") == ""
}

// Origin names where the value came from in more detail than Source: the
// koha-conf.xml element, the WebhookCredentials field or the plugin_data
// key.
func (v Value) Origin() string {
	switch v.Source {
	case SourceKohaConf:
		if v.Spec.KohaConf == "" {
			return string(v.Source)
		}
		return string(v.Source) + " <" + v.Spec.KohaConf + ">"
	case SourceDatabase:
		if v.Spec.Credential != "" {
			return "system preference " + CredentialsPreference + " (" + v.Spec.Credential + ")"
		}
		return "plugin_data " + v.Spec.PluginData
	case SourceEnv:
		return string(v.Source) + " " + v.Spec.Env
	}
	return string(v.Source)
}

// Display returns the value as `config show` prints it: secrets become
// Mask, and a database DSN keeps everything but its password.
func (v Value) Display() string {
	if !v.Spec.Secret || v.Value == "" {
		return v.Value
	}
	if v.Spec.Name != "database" {
		return Mask
	}
	if v.Source == SourceKohaConf {
		// The koha-conf.xml connection is described by describeDatabase,
		// which already masks the password.
		return v.Value
	}
	cfg, err := mysql.ParseDSN(v.Value)
	if err != nil {
		return Mask
	}
	if cfg.Passwd != "" {
		cfg.Passwd = Mask
	}
	return cfg.FormatDSN()
}

// describeDatabase returns a DSN-like description of cfg for `config show`,
// with the password masked.
func describeDatabase(cfg *mysql.Config) string {
	user := cfg.User
	if cfg.Passwd != "" {
		user += ":" + Mask
	}
	text := user + "@" + cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
	if cfg.TLS != nil {
		text += " with TLS"
	}
	return text
}
