// Command koha-webhooks-bench measures one `koha-webhooks run` pass on a
// generated Koha library and compares it with the floor: the same SQL
// without anything else, plus bare POSTs of the same payloads.
//
// It creates a throwaway database kwbench_<random> on a loopback MariaDB
// server, loads Koha's schema and generates patrons, items, loans, holds, a
// history of sent notices and the pending webhook notices. It then runs the
// real binary as a child process against a loopback notice service, reports
// any notice not delivered exactly once, and drops the database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// options are the command-line flags.
type options struct {
	notices, history     int
	mixText              string
	mix                  mix
	digestMin, digestMax int
	format               string
	batch, concurrency   int
	keep                 bool
	server, schema       string
	perfData             string
	seed                 uint64
	proxy                bool
	waitIdle             time.Duration
	binary               string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("koha-webhooks-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defineFlags(fs, o)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: koha-webhooks-bench [flags]\n\n"+
			"Generates a Koha library in a throwaway database kwbench_<random> on a loopback MariaDB,\n"+
			"runs one `koha-webhooks run` pass over the pending notices, checks the outcome, measures\n"+
			"the SQL and POST floor on the same data, prints a report and drops the database.\n"+
			"Run it on an otherwise idle machine: the report shows how much CPU other processes used.\n\nFlags:\n")
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

// defineFlags registers the flags on fs, writing into o.
func defineFlags(fs *flag.FlagSet, o *options) {
	// The generated data.
	fs.IntVar(&o.notices, "n", 10_000, "pending webhook notices to deliver in the measured pass")
	fs.IntVar(&o.history, "history", 1_000_000, "already-sent message_queue rows (about 500 bytes each) queued before the notices")
	fs.StringVar(&o.mixText, "mix", "hold=3,checkout=3,digest=2,checkin=1,cancel=1", "relative weights of the notice shapes: hold, checkout, digest (DUEDGST), checkin, cancel (HOLD_CANCELLATION)")
	fs.IntVar(&o.digestMin, "digest-min", 5, "fewest checkouts in one digest notice")
	fs.IntVar(&o.digestMax, "digest-max", 50, "most checkouts in one digest notice")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated library and notice order")

	// The measured pass.
	fs.StringVar(&o.format, "format", "full", "payload format of the pass: full or minimal")
	fs.IntVar(&o.batch, "batch", 500, "WEBHOOK_BATCH_SIZE of the pass and the batch size of the SQL floor (notices)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "WEBHOOK_CONCURRENCY of the pass and the POST floor (requests in flight)")
	fs.StringVar(&o.binary, "binary", "", "measure this koha-webhooks binary instead of building ./cmd/koha-webhooks from the working tree")
	fs.StringVar(&o.perfData, "perf", "", "run the pass under perf record -g, writing the profile to `file`; wall time and peak RSS then include perf")

	// The environment.
	fs.BoolVar(&o.keep, "keep", false, "keep the database and the work directory (binary, archive, pass log) and print their names")
	fs.StringVar(&o.server, "server", "root@tcp(127.0.0.1:3306)/", "MariaDB server DSN without a database; only loopback TCP addresses are accepted")
	fs.StringVar(&o.schema, "schema", "", "Koha's kohastructure.sql (default: $KOHA_SCHEMA_SQL, else ../shared/koha/kohastructure.sql beside the module)")
	fs.BoolVar(&o.proxy, "proxy", false, "connect the pass and the SQL floor through a loopback proxy that counts their statements exactly; the proxy slows both down, so measure throughput without it")
	fs.DurationVar(&o.waitIdle, "wait-idle", time.Minute, "before the pass, wait up to this long for a second in which less than 10% of the CPUs were busy")
}

func (o *options) validate() error {
	var err error
	if o.mix, err = parseMix(o.mixText); err != nil {
		return err
	}
	switch {
	case o.notices < 1:
		return fmt.Errorf("invalid -n %d: use 1 or more", o.notices)
	case o.history < 0:
		return fmt.Errorf("invalid -history %d: use 0 or more", o.history)
	case o.digestMin < 1 || o.digestMax < o.digestMin:
		return fmt.Errorf("invalid -digest-min %d / -digest-max %d: use 1 <= min <= max", o.digestMin, o.digestMax)
	case o.format != "full" && o.format != "minimal":
		return fmt.Errorf("invalid -format %q: use full or minimal", o.format)
	case o.batch < 1 || o.batch > 5000:
		return fmt.Errorf("invalid -batch %d: use 1 to 5000, the range koha-webhooks accepts", o.batch)
	case o.concurrency < 1 || o.concurrency > 256:
		return fmt.Errorf("invalid -concurrency %d: use 1 to 256, the range koha-webhooks accepts", o.concurrency)
	}
	if o.perfData != "" {
		if _, err := exec.LookPath("perf"); err != nil {
			return fmt.Errorf("-perf needs the perf tool: %w", err)
		}
	}
	if o.schema == "" {
		o.schema, err = kohadb.SchemaPath()
	}
	return err
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "koha-webhooks-bench:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, log, os.Stdout); err != nil {
		log.Error("benchmark failed", "error", err)
		stop()
		os.Exit(1)
	}
}
