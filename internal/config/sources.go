package config

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// SitesDirEnv names the environment variable that overrides the directory
// of Koha instances, kohaconf.DefaultSitesDir.
const SitesDirEnv = "KOHA_SITES_DIR"

// locateHint is the advice for naming the koha-conf.xml.
const locateHint = "name the Koha instance with --instance (KOHA_INSTANCE) or its koha-conf.xml with --koha-conf (KOHA_CONF)"

// Inputs are the command line and environment that settings are resolved
// from. The koha-conf.xml and the database they name are read by Open and
// ReadStored.
type Inputs struct {
	// Flags holds command-line values by setting name.
	Flags map[string]string
	// Getenv reads environment variables, including SitesDirEnv. Nil reads
	// none.
	Getenv func(string) string
	// RequireDelivery makes Load check the delivery settings unless test
	// mode is on.
	RequireDelivery bool
}

// Sources are the opened sources of the settings, read in this order: flags
// and environment (Open), koha-conf.xml (Open), then Koha's database
// (ReadStored). Settings combines them by precedence.
type Sources struct {
	in Inputs
	// early holds the values of flags, environment and defaults only.
	early map[string]Value

	// KohaConf is the koha-conf.xml that was read, nil when none was named.
	KohaConf *kohaconf.Config
	// Instance is the Koha instance name, "" when unknown.
	Instance string
	// Stored holds the settings read from Koha's database, nil before
	// ReadStored.
	Stored *Stored
}

// Open resolves flags and environment, rejects their invalid values (no
// other source can override them) and reads the koha-conf.xml they name.
func Open(in Inputs) (*Sources, error) {
	if in.Getenv == nil {
		in.Getenv = func(string) string { return "" }
	}
	s := &Sources{in: in}
	s.early = Resolve(MapLayer(SourceFlag, in.Flags), EnvLayer(in.Getenv))
	if _, err := Build(s.early); err != nil {
		return nil, err
	}
	if err := s.openKohaConf(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sources) openKohaConf() error {
	path, instance, err := s.locateKohaConf()
	if err != nil || path == "" {
		return err
	}
	conf, err := kohaconf.Load(path)
	if err != nil {
		return err
	}
	s.KohaConf, s.Instance = conf, instance
	return nil
}

// locateKohaConf returns the koha-conf.xml path and the instance name. A
// flag outranks an environment variable: --instance beats KOHA_CONF, and
// --koha-conf beats KOHA_INSTANCE. Given both at the same level, the path
// is read and the instance name is kept for the archive default. A path of
// the form <sites dir>/NAME/koha-conf.xml names instance NAME.
func (s *Sources) locateKohaConf() (path, instance string, err error) {
	sitesDir := s.in.Getenv(SitesDirEnv)
	confValue, instanceValue := s.early["koha_conf"], s.early["instance"]
	path = strings.TrimSpace(confValue.Value)
	instance = strings.TrimSpace(instanceValue.Value)

	if instance != "" {
		instancePath, err := kohaconf.InstancePath(sitesDir, instance)
		if err != nil {
			return "", "", err
		}
		if path == "" || (instanceValue.Source == SourceFlag && confValue.Source != SourceFlag) {
			return instancePath, instance, nil
		}
		return path, instance, nil
	}
	if path == "" {
		return "", "", nil
	}
	return path, instanceFromPath(sitesDir, path), nil
}

// instanceFromPath returns NAME for a path <sitesDir>/NAME/koha-conf.xml,
// else "".
func instanceFromPath(sitesDir, path string) string {
	if sitesDir == "" {
		sitesDir = kohaconf.DefaultSitesDir
	}
	path = filepath.Clean(path)
	if filepath.Base(path) != "koha-conf.xml" {
		return ""
	}
	dir := filepath.Dir(path)
	if filepath.Dir(dir) != filepath.Clean(sitesDir) {
		return ""
	}
	name := filepath.Base(dir)
	if _, err := kohaconf.InstancePath(sitesDir, name); err != nil {
		return ""
	}
	return name
}

// InstanceArchivePath returns the default archive directory of a Koha
// instance, the one the Perl plugin uses.
func InstanceArchivePath(instance string) string {
	return "/var/lib/koha/" + instance + "/webhook_notifications_archive"
}

// KohaConfLayer reads the webhook_* elements under <config> of conf. Empty
// elements count as unset. A nil conf has no values.
func KohaConfLayer(conf *kohaconf.Config) Layer {
	return Layer{Source: SourceKohaConf, Lookup: func(s *Spec) (string, bool) {
		if conf == nil || s.KohaConf == "" {
			return "", false
		}
		v, ok := conf.Setting(s.KohaConf)
		return v, ok && v != ""
	}}
}

// instanceLayer holds the defaults that depend on the instance name.
func (s *Sources) instanceLayer() Layer {
	defaults := map[string]string{}
	if s.Instance != "" {
		defaults["archive_path"] = InstanceArchivePath(s.Instance)
	}
	return MapLayer(SourceDefault, defaults)
}

// DatabaseConfig returns the database connection: the DSN of --dsn or
// KOHA_DB_DSN, else the database settings of koha-conf.xml (with TLS when
// <tls> is yes), with koha-webhooks' driver options applied.
func (s *Sources) DatabaseConfig() (*mysql.Config, error) {
	v := s.early["database"]
	if dsn := strings.TrimSpace(v.Value); dsn != "" {
		return kohadb.ParseDSN(dsn)
	}
	if s.KohaConf == nil {
		return nil, &SettingError{Value: v, Reason: "missing", Hint: "or " + locateHint}
	}
	cfg, err := s.KohaConf.MySQLConfig()
	if err != nil {
		return nil, err
	}
	kohadb.ApplyOptions(cfg)
	return cfg, nil
}

// Cipher returns the Koha::Encryption cipher of koha-conf.xml's
// encryption_key and the path it came from. purpose completes "the
// encryption_key of koha-conf.xml is needed to …" in the error.
func (s *Sources) Cipher(purpose string) (*kohacrypt.Cipher, string, error) {
	if s.KohaConf == nil {
		return nil, "", &CredentialsError{Reason: "cannot be used: the encryption_key of koha-conf.xml is needed to " + purpose +
			", but no koha-conf.xml was named (" + locateHint + ")"}
	}
	key, err := s.KohaConf.Encryption()
	if err != nil {
		return nil, "", &CredentialsError{Reason: "cannot be used", Err: err}
	}
	cipher, err := kohacrypt.New(key)
	if err != nil {
		return nil, "", &CredentialsError{Reason: "cannot be used with the encryption_key of " + s.KohaConf.Path, Err: err}
	}
	return cipher, s.KohaConf.Path, nil
}

// ReadStored reads the settings stored in Koha's database: plugin_data of
// PluginClass and the WebhookCredentials preference. The preference is
// decrypted only when some credential is not set by a flag or environment
// variable, so that a site that sets every credential that way needs no
// encryption_key.
func (s *Sources) ReadStored(ctx context.Context, db *sql.DB) error {
	data, err := readPluginData(ctx, db)
	if err != nil {
		return err
	}
	stored := &Stored{PluginData: data}
	text, err := readCredentialsText(ctx, db, false)
	if err != nil {
		return err
	}
	if text != "" && !s.credentialsOverridden() {
		// Failure policy: fail closed. Falling back to koha-conf.xml's
		// credentials when the stored ones cannot be read would deliver
		// with settings that the site replaced.
		cipher, keySource, err := s.Cipher("decrypt it")
		if err != nil {
			var ce *CredentialsError
			if errors.As(err, &ce) && s.KohaConf == nil {
				ce.Reason += ", or set every credential (" + credentialEnvs() + ") in the environment"
			}
			return err
		}
		object, err := decryptCredentials(cipher, text, keySource)
		if err != nil {
			return err
		}
		if stored.Credentials, err = object.fields(); err != nil {
			return err
		}
	}
	stored.Skipped = text != "" && stored.Credentials == nil
	s.Stored = stored
	return nil
}

// credentialsOverridden reports whether flags or environment set every
// credential, so that the stored ones would not be used.
func (s *Sources) credentialsOverridden() bool {
	for _, spec := range Specs {
		if spec.Credential == "" {
			continue
		}
		if source := s.early[spec.Name].Source; source != SourceFlag && source != SourceEnv {
			return false
		}
	}
	return true
}

func credentialEnvs() string {
	var names []string
	for _, spec := range Specs {
		if spec.Credential != "" {
			names = append(names, spec.Env)
		}
	}
	return strings.Join(names, ", ")
}

// Settings resolves every setting by precedence (flag, environment, Koha's
// database, koha-conf.xml, default) and validates it. Call ReadStored first
// to include the database; without it the database layer is empty.
func (s *Sources) Settings() (*Settings, error) {
	values := Resolve(MapLayer(SourceFlag, s.in.Flags), EnvLayer(s.in.Getenv), StoredLayer(s.Stored),
		KohaConfLayer(s.KohaConf), s.instanceLayer())
	settings, err := Build(values)
	if err != nil {
		return nil, err
	}
	if settings.Database, err = s.DatabaseConfig(); err != nil {
		return nil, err
	}
	if settings.DSN == "" {
		values["database"] = Value{Spec: values["database"].Spec, Value: describeDatabase(settings.Database), Source: SourceKohaConf}
	}
	if s.KohaConf != nil && values["koha_conf"].Value == "" {
		// The path came from the instance name, which config show names as
		// its source.
		values["koha_conf"] = Value{Spec: values["koha_conf"].Spec, Value: s.KohaConf.Path, Source: Source("instance " + s.Instance)}
	}
	return settings, nil
}

// Overrider returns the flag or environment value that outranks the stored
// value of setting name, and whether there is one.
func (s *Sources) Overrider(name string) (Value, bool) {
	v, ok := s.early[name]
	return v, ok && (v.Source == SourceFlag || v.Source == SourceEnv)
}
