package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

const configUsage = `Usage: koha-webhooks config COMMAND [flags]

Commands:
  show                  print every effective setting, its value (secrets masked) and its source
  set NAME=VALUE ...    store settings in Koha's database, where the Perl plugin keeps them:
                        credentials encrypted in system preference WebhookCredentials, the
                        others in plugin_data; VALUE ` + config.Mask + ` keeps a stored secret, and an empty
                        VALUE clears the stored one
  migrate               copy the plain-text webhook_* credentials of koha-conf.xml into the
                        encrypted WebhookCredentials preference
  check                 connect to the database, read the schema and the stored settings,
                        fetch an access token, and report each step; exits 1 if one fails

Settings that can be stored: %s.

Every command takes --dsn, --koha-conf and --instance (see "koha-webhooks config show --help").
`

func configCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, configUsage, strings.Join(config.StorableNames(), ", "))
		return exitUsage
	}
	commands := map[string]func([]string, io.Writer, io.Writer, func(string) string) int{
		"show": configShow, "set": configSet, "migrate": configMigrate, "check": configCheck,
	}
	if run, ok := commands[args[0]]; ok {
		return run(args[1:], stdout, stderr, getenv)
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, configUsage, strings.Join(config.StorableNames(), ", "))
		return exitOK
	}
	fmt.Fprintf(stderr, "koha-webhooks config: unknown command %q\n\n", args[0])
	fmt.Fprintf(stderr, configUsage, strings.Join(config.StorableNames(), ", "))
	return exitUsage
}

// parseConfigFlags parses the flags of `config NAME`. It returns ok false
// with the exit code when the command should stop.
func parseConfigFlags(name, arguments string, args []string, stderr io.Writer) (f *sourceFlags, rest []string, code int, ok bool) {
	f = &sourceFlags{}
	fs := flag.NewFlagSet("koha-webhooks config "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: koha-webhooks config %s [flags]%s\n\nFlags:\n", name, arguments)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, exitOK, false
		}
		return nil, nil, exitUsage, false
	}
	if arguments == "" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "koha-webhooks config %s: unexpected argument %q\n", name, fs.Arg(0))
		return nil, nil, exitUsage, false
	}
	return f, fs.Args(), exitOK, true
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func configShow(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f, _, code, ok := parseConfigFlags("show", "", args, stderr)
	if !ok {
		return code
	}
	ctx, stop := signalContext()
	defer stop()
	loaded, err := config.Load(ctx, config.Inputs{Flags: f.values(), Getenv: getenv})
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config show:", err)
		fmt.Fprintln(stderr, `Run "koha-webhooks config check" for a step-by-step diagnosis.`)
		return exitUsage
	}
	defer loaded.Close()

	printSources(stdout, loaded)
	fmt.Fprintln(stdout)
	table := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "SETTING\tVALUE\tSOURCE")
	for _, spec := range config.Specs {
		v := loaded.Settings.Values[spec.Name]
		fmt.Fprintf(table, "%s\t%s\t%s\n", spec.Name, displayOrDash(v.Display()), v.Origin())
	}
	table.Flush()
	return exitOK
}

// printSources prints which koha-conf.xml and database the settings came from.
func printSources(w io.Writer, loaded *config.Loaded) {
	switch {
	case loaded.KohaConf == nil:
		fmt.Fprintln(w, "koha-conf.xml:       none (name it with --koha-conf or --instance)")
	case loaded.Instance != "":
		fmt.Fprintf(w, "koha-conf.xml:       %s (instance %s)\n", loaded.KohaConf.Path, loaded.Instance)
	default:
		fmt.Fprintf(w, "koha-conf.xml:       %s\n", loaded.KohaConf.Path)
	}
	db := loaded.Settings.Database
	fmt.Fprintf(w, "Koha database:       %s at %s\n", db.DBName, db.Addr)
	stored := loaded.Stored
	switch {
	case stored.Skipped:
		fmt.Fprintf(w, "%s:  set, not decrypted (flags or environment set every credential)\n", config.CredentialsPreference)
	case stored.Credentials == nil:
		fmt.Fprintf(w, "%s:  not set\n", config.CredentialsPreference)
	default:
		fmt.Fprintf(w, "%s:  decrypted\n", config.CredentialsPreference)
	}
}

func displayOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func configSet(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f, pairs, code, ok := parseConfigFlags("set", " NAME=VALUE ...", args, stderr)
	if !ok {
		return code
	}
	if len(pairs) == 0 {
		fmt.Fprintf(stderr, "koha-webhooks config set: give at least one NAME=VALUE; settings that can be stored: %s\n",
			strings.Join(config.StorableNames(), ", "))
		return exitUsage
	}
	credentials, pluginData, err := parseAssignments(pairs)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config set:", err)
		return exitUsage
	}

	ctx, stop := signalContext()
	defer stop()
	src, db, err := openSourcesAndDatabase(ctx, f, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config set:", err)
		return exitUsage
	}
	defer db.Close()

	if len(credentials) > 0 {
		cipher, keySource, err := src.Cipher("encrypt the credentials")
		if err != nil {
			fmt.Fprintln(stderr, "koha-webhooks config set:", err)
			return exitUsage
		}
		changed, err := config.SaveCredentials(ctx, db, cipher, keySource, credentials)
		if err != nil {
			fmt.Fprintln(stderr, "koha-webhooks config set:", err)
			return storeExitCode(err)
		}
		reportCredentials(stdout, credentials, changed)
	}
	if len(pluginData) > 0 {
		if err := config.SavePluginData(ctx, db, pluginData); err != nil {
			fmt.Fprintln(stderr, "koha-webhooks config set:", err)
			return exitFailed
		}
		for _, pair := range pairs {
			name, _, _ := strings.Cut(pair, "=")
			if spec := config.SpecByName(strings.TrimSpace(name)); spec != nil && spec.Credential == "" {
				fmt.Fprintf(stdout, "%s: stored in plugin_data %s\n", spec.Name, spec.PluginData)
			}
		}
	}
	warnOverridden(stdout, src, pairs)
	return exitOK
}

// parseAssignments validates NAME=VALUE arguments and sorts them into
// WebhookCredentials fields and plugin_data keys.
func parseAssignments(pairs []string) (credentials, pluginData map[string]string, err error) {
	credentials, pluginData = map[string]string{}, map[string]string{}
	for _, pair := range pairs {
		name, value, found := strings.Cut(pair, "=")
		if !found {
			return nil, nil, fmt.Errorf("argument %q is not NAME=VALUE", maskedArgument(pair))
		}
		spec, stored, err := config.ParseStored(strings.TrimSpace(name), value)
		if err != nil {
			return nil, nil, err
		}
		if spec.Credential != "" {
			credentials[spec.Credential] = stored
		} else {
			pluginData[spec.PluginData] = stored
		}
	}
	return credentials, pluginData, nil
}

// maskedArgument shows a malformed argument without anything that could be
// a secret.
func maskedArgument(arg string) string {
	if len(arg) > 24 {
		return arg[:8] + "…"
	}
	return arg
}

func reportCredentials(w io.Writer, credentials map[string]string, changed []string) {
	changedSet := map[string]bool{}
	for _, field := range changed {
		changedSet[field] = true
	}
	for _, field := range config.CredentialFields {
		value, requested := credentials[field]
		switch {
		case !requested:
		case changedSet[field]:
			fmt.Fprintf(w, "%s: stored encrypted in system preference %s\n", field, config.CredentialsPreference)
		case config.IsMask(value):
			fmt.Fprintf(w, "%s: kept the stored value (the mask was given)\n", field)
		default:
			fmt.Fprintf(w, "%s: unchanged\n", field)
		}
	}
}

// warnOverridden prints a note for each value just stored that a flag or
// environment variable outranks.
func warnOverridden(w io.Writer, src *config.Sources, pairs []string) {
	for _, pair := range pairs {
		name, _, _ := strings.Cut(pair, "=")
		if v, ok := src.Overrider(strings.TrimSpace(name)); ok {
			fmt.Fprintf(w, "note: %s is also set by %s, which takes precedence over the stored value\n", v.Spec.Name, v.Origin())
		}
	}
}

// openSourcesAndDatabase reads flags, environment and koha-conf.xml and
// connects to Koha's database, without resolving the other settings, so
// that a stored value that is invalid can still be replaced.
func openSourcesAndDatabase(ctx context.Context, f *sourceFlags, getenv func(string) string) (*config.Sources, *sql.DB, error) {
	src, err := config.Open(config.Inputs{Flags: f.values(), Getenv: getenv})
	if err != nil {
		return nil, nil, err
	}
	dbConfig, err := src.DatabaseConfig()
	if err != nil {
		return nil, nil, err
	}
	db, err := kohadb.Open(ctx, dbConfig)
	if err != nil {
		return nil, nil, err
	}
	return src, db, nil
}

func configMigrate(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f, _, code, ok := parseConfigFlags("migrate", "", args, stderr)
	if !ok {
		return code
	}
	ctx, stop := signalContext()
	defer stop()
	src, db, err := openSourcesAndDatabase(ctx, f, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config migrate:", err)
		return exitUsage
	}
	defer db.Close()
	if src.KohaConf == nil {
		fmt.Fprintln(stderr, "koha-webhooks config migrate: no koha-conf.xml to migrate from; name the Koha instance with --instance or its koha-conf.xml with --koha-conf")
		return exitUsage
	}
	cipher, keySource, err := src.Cipher("encrypt the credentials")
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config migrate:", err)
		return exitUsage
	}
	result, err := config.MigrateCredentials(ctx, db, cipher, keySource, src.KohaConf)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks config migrate:", err)
		return storeExitCode(err)
	}
	reportMigration(stdout, src.KohaConf.Path, result)
	return exitOK
}

// storeExitCode returns exitUsage when the stored preference cannot be
// read with the configured key (a settings problem) and exitFailed when
// the database write failed.
func storeExitCode(err error) int {
	var credentialsErr *config.CredentialsError
	if errors.As(err, &credentialsErr) {
		return exitUsage
	}
	return exitFailed
}

func reportMigration(w io.Writer, path string, result *config.MigrationResult) {
	switch {
	case len(result.Copied) > 0:
		fmt.Fprintf(w, "Copied %s from %s into system preference %s (encrypted).\n",
			strings.Join(result.Copied, ", "), path, config.CredentialsPreference)
		fmt.Fprintf(w, "Remove the webhook_* credential elements from %s: the stored values take precedence, and the file keeps them in plain text.\n", path)
	case len(result.Same)+len(result.Kept) > 0:
		fmt.Fprintf(w, "Already done: system preference %s already holds a value for every webhook_* credential of %s; nothing changed.\n",
			config.CredentialsPreference, path)
	default:
		fmt.Fprintf(w, "Nothing to migrate: %s has no webhook_* credentials.\n", path)
	}
	for _, field := range result.Kept {
		fmt.Fprintf(w, "note: kept the stored %s, which differs from <webhook_%s> in %s\n", field, field, path)
	}
}
