package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/site"
)

// runFlags are the flags of `run`, named after the parameters Koha passes to
// its before_send_messages hook.
type runFlags struct {
	types, letterCodes  stringList
	messageID, borrower int64
	limit               int
	verbose             counter
	where               string
	testMode            bool
	archivePath         string
	sourceFlags         // --dsn, --koha-conf, --instance
}

func newRunFlagSet(f *runFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("koha-webhooks run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&f.types, "type", "message transport type to handle (repeatable or comma-separated); \"webhook\" means no transport filter, \"skip_webhook\" makes the pass do nothing")
	fs.Var(&f.letterCodes, "letter-code", "letter code to handle (repeatable or comma-separated)")
	fs.Int64Var(&f.messageID, "message-id", 0, "handle only this message_queue.message_id")
	fs.Int64Var(&f.borrower, "borrowernumber", 0, "handle only notices to this patron")
	fs.IntVar(&f.limit, "limit", 0, "handle at most this many notices (0: no limit)")
	fs.Var(&f.verbose, "v", "more log detail (repeat up to 3 times, or -v=N)")
	fs.Var(&f.verbose, "verbose", "log detail, 0 to 3")
	fs.StringVar(&f.where, "where", "", "accepted for compatibility with Koha's hook and ignored: SQL fragments are never executed")
	fs.BoolVar(&f.testMode, "test-mode", false, "build and archive payloads but POST nothing and write nothing to the database")
	f.sourceFlags.register(fs)
	fs.StringVar(&f.archivePath, "archive-path", "", "archive directory (overrides WEBHOOK_ARCHIVE_PATH)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: koha-webhooks run [flags]\n\nMakes one pass: delivers due retries and pending webhook notices, writes each outcome to message_queue, and exits 0 when the pass completed (even if notices failed), 1 when the database failed mid-pass, 2 on invalid settings.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nSettings come from flags, environment variables, the settings stored in Koha's database, "+
			"koha-conf.xml and defaults, in that order; \"koha-webhooks config show\" prints each one's value and source.\n")
		fmt.Fprintf(stderr, "\nEnvironment variables:\n")
		for _, s := range config.Specs {
			def := ""
			if s.Default != "" {
				def = " (default " + s.Default + ")"
			}
			fmt.Fprintf(stderr, "  %-28s %s%s\n", s.Env, s.Description, def)
		}
	}
	return fs
}

func runCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var f runFlags
	fs := newRunFlagSet(&f, stderr)
	if code, ok := parseArgs(fs, args, stderr); !ok {
		return code
	}

	if f.limit < 0 || f.messageID < 0 || f.borrower < 0 {
		fmt.Fprintln(stderr, "koha-webhooks run: --limit, --message-id and --borrowernumber must not be negative")
		return exitUsage
	}
	settings, err := resolveRunSettings(&f, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks:", err)
		return exitUsage
	}
	logger := newLogger(stderr, settings.Verbose)
	if f.where != "" {
		logger.Warn("--where is ignored: SQL fragments are never executed", "where_length", len(f.where))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opened, err := site.Open(ctx, settings, site.Options{Interface: "cron", LogEveryPass: true, Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks:", err)
		return exitUsage
	}
	defer opened.Close()

	opts := pass.Options{Limit: f.limit, Filter: queue.Filter{LetterCodes: f.letterCodes, MessageID: f.messageID, Borrowernumber: f.borrower}}
	opts.Filter.Types, opts.Skip = transportFilter(f.types)
	if _, err := opened.Runner.Run(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "koha-webhooks: pass failed:", err)
		return exitFailed
	}
	return exitOK
}

// transportFilter turns Koha's type parameter into a filter: "webhook"
// removes the filter and "skip_webhook" skips the pass.
func transportFilter(types []string) (filter []string, skip bool) {
	if slices.Contains(types, "skip_webhook") {
		return nil, true
	}
	if slices.Contains(types, "webhook") {
		return nil, false
	}
	return types, false
}

func newLogger(w io.Writer, verbose int) *slog.Logger {
	// Verbosity 1 and up adds a line per batch and per delivered notice.
	level := slog.LevelInfo
	if verbose >= 1 {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
