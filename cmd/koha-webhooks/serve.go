package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/daemon"
)

// serveFlags are the flags of `serve`.
type serveFlags struct {
	instances         stringList
	allInstances      bool
	dsn, kohaConf     string
	listen, logFormat string
	verbose           counter
}

func newServeFlagSet(f *serveFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("koha-webhooks serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&f.instances, "instance", "Koha instance to serve, reading /etc/koha/sites/NAME/koha-conf.xml (repeatable or comma-separated; overrides KOHA_INSTANCE)")
	fs.BoolVar(&f.allInstances, "all-instances", false, "serve every Koha instance: each directory of /etc/koha/sites (or KOHA_SITES_DIR) that has a koha-conf.xml")
	fs.StringVar(&f.dsn, "dsn", "", "Koha database DSN of the one instance served (overrides KOHA_DB_DSN)")
	fs.StringVar(&f.kohaConf, "koha-conf", "", "koha-conf.xml of the one instance served (overrides KOHA_CONF)")
	fs.StringVar(&f.listen, "listen", "", "address of the HTTP server: inbound API, /metrics, /healthz, /readyz (overrides WEBHOOK_LISTEN)")
	fs.StringVar(&f.logFormat, "log-format", "", "log format, text or json (overrides WEBHOOK_LOG_FORMAT)")
	fs.Var(&f.verbose, "v", "more log detail (repeat up to 3 times, or -v=N)")
	fs.Var(&f.verbose, "verbose", "log detail, 0 to 3")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nEnvironment variables (shared by every instance served):\n")
		for _, s := range config.Specs {
			def := ""
			if s.Default != "" {
				def = " (default " + s.Default + ")"
			}
			fmt.Fprintf(stderr, "  %-28s %s%s\n", s.Env, s.Description, def)
		}
		fmt.Fprintf(stderr, "  %-28s %s\n", config.SitesDirEnv, "directory of Koha instances (default /etc/koha/sites)")
	}
	return fs
}

const serveUsage = `Usage: koha-webhooks serve [flags]

Runs until SIGINT or SIGTERM. For each Koha instance it delivers notices
queued since the previous poll every poll interval (WEBHOOK_POLL_INTERVAL),
due retries and notices of passes that died, and every full-scan interval
(WEBHOOK_FULL_SCAN_INTERVAL) rows set back to pending anywhere in
message_queue. An instance that cannot start is retried with backoff while
the others run. On SIGTERM, deliveries in flight finish (up to 30 seconds)
and notices not yet started are released to the next pass.

HTTP routes on WEBHOOK_LISTEN: /healthz, /readyz, /metrics, and the inbound
API, at /api/v1/contrib/webhook_notifications/... when one instance is
served and at /instances/NAME/api/v1/contrib/webhook_notifications/... for
each instance.

Exits 0 after a requested stop, 1 when the HTTP server fails, 2 on invalid
flags or when no instance has usable settings.

Flags:
`

func serveCommand(args []string, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runServe(ctx, args, stderr, getenv)
}

// runServe parses the flags and serves until ctx ends.
func runServe(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	var f serveFlags
	fs := newServeFlagSet(&f, stderr)
	if code, ok := parseArgs(fs, args, stderr); !ok {
		return code
	}

	process, err := resolveServeProcess(&f, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks serve:", err)
		return exitUsage
	}
	instances, err := serveInstances(&f, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks serve:", err)
		return exitUsage
	}
	logger := newServeLogger(stderr, process.logFormat, process.verbose)

	if err := checkInstances(ctx, instances); err != nil {
		fmt.Fprintln(stderr, "koha-webhooks serve:", err)
		return exitUsage
	}
	d, err := daemon.New(daemon.Config{Instances: instances, Listen: process.listen, Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks serve:", err)
		return exitUsage
	}

	if err := d.Run(ctx); err != nil {
		logger.Error("daemon failed", "error", err)
		return exitFailed
	}
	return exitOK
}

// serveProcess holds the settings of the process as a whole, read from
// flags and environment only.
type serveProcess struct {
	listen, logFormat string
	verbose           int
}

func resolveServeProcess(f *serveFlags, getenv func(string) string) (serveProcess, error) {
	flagValues := map[string]string{}
	if f.listen != "" {
		flagValues["listen"] = f.listen
	}
	if f.logFormat != "" {
		flagValues["log_format"] = f.logFormat
	}
	if f.verbose > 0 {
		flagValues["verbose"] = fmt.Sprint(min(int(f.verbose), 3))
	}
	values := config.Resolve(config.MapLayer(config.SourceFlag, flagValues), config.EnvLayer(getenv))
	p := serveProcess{listen: strings.TrimSpace(values["listen"].Value), logFormat: strings.ToLower(strings.TrimSpace(values["log_format"].Value))}
	if p.logFormat != "text" && p.logFormat != "json" {
		return p, &config.SettingError{Value: values["log_format"], Reason: fmt.Sprintf("invalid (%q); use text or json", values["log_format"].Value)}
	}
	if p.listen == "" {
		return p, &config.SettingError{Value: values["listen"], Reason: "empty; use host:port, e.g. 127.0.0.1:8090"}
	}
	if _, err := fmt.Sscan(values["verbose"].Value, &p.verbose); err != nil || p.verbose < 0 || p.verbose > 3 {
		return p, &config.SettingError{Value: values["verbose"], Reason: fmt.Sprintf("invalid (%q); use 0, 1, 2 or 3", values["verbose"].Value)}
	}
	return p, nil
}

// newServeLogger returns a text or JSON logger; verbose 2 and 3 add debug
// lines, such as the summary of passes that found nothing.
func newServeLogger(w io.Writer, format string, verbose int) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if verbose >= 2 {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
