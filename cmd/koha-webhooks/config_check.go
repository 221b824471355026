package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/site"
)

// checkReport prints one line per step of `config check`.
type checkReport struct {
	w      io.Writer
	failed bool
}

func (r *checkReport) ok(step, detail string) {
	fmt.Fprintf(r.w, "OK      %-18s %s\n", step, detail)
}

func (r *checkReport) fail(step string, err error, fix string) {
	r.failed = true
	fmt.Fprintf(r.w, "FAILED  %-18s %v\n", step, err)
	if fix != "" {
		fmt.Fprintf(r.w, "        %-18s fix: %s\n", "", fix)
	}
}

func (r *checkReport) skip(step, reason string) {
	fmt.Fprintf(r.w, "SKIPPED %-18s %s\n", step, reason)
}

func (r *checkReport) exitCode() int {
	if r.failed {
		return exitFailed
	}
	return exitOK
}

func configCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f, _, code, ok := parseConfigFlags("check", "", args, stderr)
	if !ok {
		return code
	}
	ctx, stop := signalContext()
	defer stop()
	r := &checkReport{w: stdout}

	src, err := config.Open(config.Inputs{Flags: f.values(), Getenv: getenv})
	if err != nil {
		r.fail("settings", err, "")
		return r.exitCode()
	}
	r.ok("koha-conf.xml", describeKohaConf(src))

	db, ok := checkDatabase(ctx, r, src)
	if !ok {
		return r.exitCode()
	}
	defer db.Close()

	if err := src.ReadStored(ctx, db); err != nil {
		r.fail("stored settings", err, "")
		return r.exitCode()
	}
	r.ok("stored settings", describeStored(src.Stored))

	settings, err := src.Settings()
	if err == nil && !settings.TestMode {
		err = settings.CheckDelivery()
	}
	if err != nil {
		r.fail("settings", err, "")
		return r.exitCode()
	}
	r.ok("settings", "every required setting is present and valid")

	checkArchive(r, settings)
	checkToken(ctx, r, settings)
	return r.exitCode()
}

func describeKohaConf(src *config.Sources) string {
	switch {
	case src.KohaConf == nil:
		return "none named (settings come from flags, environment and Koha's database)"
	case src.Instance != "":
		return src.KohaConf.Path + " (instance " + src.Instance + ")"
	}
	return src.KohaConf.Path
}

// checkDatabase connects and reads the schema, reporting both steps.
func checkDatabase(ctx context.Context, r *checkReport, src *config.Sources) (*sql.DB, bool) {
	const fix = "check <hostname>, <port>, <user> and <pass> in koha-conf.xml (or KOHA_DB_DSN), and that the database server accepts connections from this host"
	dbConfig, err := src.DatabaseConfig()
	if err != nil {
		r.fail("database", err, "")
		return nil, false
	}
	db, err := kohadb.Open(ctx, dbConfig)
	if err != nil {
		r.fail("database", err, fix)
		return nil, false
	}
	detail := fmt.Sprintf("connected to %s at %s", dbConfig.DBName, dbConfig.Addr)
	if dbConfig.TLS != nil {
		detail += " with TLS"
	}
	r.ok("database", detail)

	schema, err := kohadb.ReadSchema(ctx, db)
	if err != nil {
		r.fail("schema", err, "point the settings at the Koha instance's own database")
		db.Close()
		return nil, false
	}
	r.ok("schema", describeSchema(ctx, db, schema))
	return db, true
}

func describeSchema(ctx context.Context, db *sql.DB, schema *kohadb.Schema) string {
	detail := "Koha tables found"
	if v, ok, err := kohadb.NewPreferences(db).Get(ctx, "Version"); err == nil && ok {
		detail = "Koha " + kohaVersion(v)
	}
	if schema.HasTable("koha_webhooks_deliveries") {
		return detail + ", koha_webhooks_deliveries present"
	}
	return detail + ", koha_webhooks_deliveries not created yet (the first run creates it)"
}

// kohaVersion formats system preference Version ("24.0500012") as Koha
// prints it ("24.05.00.012").
func kohaVersion(v string) string {
	major, rest, found := strings.Cut(v, ".")
	if !found || len(rest) != 7 {
		return v
	}
	return major + "." + rest[0:2] + "." + rest[2:4] + "." + rest[4:]
}

func describeStored(stored *config.Stored) string {
	var credentials string
	switch {
	case stored.Skipped:
		credentials = config.CredentialsPreference + " set but not decrypted (flags or environment set every credential)"
	case stored.Credentials == nil:
		credentials = config.CredentialsPreference + " not set"
	default:
		credentials = config.CredentialsPreference + " decrypted"
	}
	return fmt.Sprintf("%s; plugin_data rows: %d", credentials, len(stored.PluginData))
}

// checkArchive reports whether the archive directory exists and is
// writable. It does not create it, because a directory that the check
// created as another user (often root) could be unwritable for the Koha
// user.
func checkArchive(r *checkReport, settings *config.Settings) {
	dir := settings.ArchivePath
	if dir == "" {
		r.ok("archive directory", "disabled")
		return
	}
	const fix = "create it, writable by the user that runs koha-webhooks, or set archive_path (koha-webhooks config set archive_path=DIR)"
	info, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		parent := filepath.Dir(dir)
		if err := syscall.Access(parent, 2); err != nil {
			r.fail("archive directory", fmt.Errorf("%s does not exist and cannot be created in %s: %w", dir, parent, err), fix)
			return
		}
		r.ok("archive directory", dir+" does not exist yet; the first pass that handles notices creates it")
	case err != nil:
		r.fail("archive directory", err, fix)
	case !info.IsDir():
		r.fail("archive directory", fmt.Errorf("%s is not a directory", dir), fix)
	case syscall.Access(dir, 2) != nil:
		r.fail("archive directory", fmt.Errorf("%s is not writable by this user", dir), fix)
	default:
		r.ok("archive directory", dir+" is writable")
	}
}

// checkToken fetches an access token from auth_url.
func checkToken(ctx context.Context, r *checkReport, settings *config.Settings) {
	if settings.TestMode {
		r.skip("access token", "test mode is on, so nothing is POSTed")
		return
	}
	client, err := delivery.New(delivery.Config{
		AuthURL: settings.AuthURL, ClientID: settings.ClientID, ClientSecret: settings.ClientSecret,
		NoticeURL: settings.NoticeURL, CustomerID: settings.CustomerID, SigningSecret: settings.SigningSecret,
		Timeout: settings.Timeout,
	})
	if err != nil {
		r.fail("access token", site.DeliverySettingError(settings, err), "")
		return
	}
	defer client.Close()
	if err := client.Token(ctx); err != nil {
		r.fail("access token", err, "check auth_url, client_id and client_secret with the notice service; "+
			"store new ones with: koha-webhooks config set client_id=... client_secret=...")
		return
	}
	host := settings.AuthURL
	if u, err := url.Parse(settings.AuthURL); err == nil {
		host = u.Host
	}
	r.ok("access token", "received from "+host)
}
