// Command koha-webhooks forwards Koha webhook notices from message_queue to
// an external notice service.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the pass could not complete (database trouble)
	exitUsage  = 2 // invalid command line or settings
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// runMain dispatches to a subcommand and returns the exit code.
func runMain(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdout, stderr, getenv)
	case "serve":
		return serveCommand(args[1:], stderr, getenv)
	case "demo":
		return demoCommand(args[1:], stdout, stderr, getenv)
	case "config":
		return configCommand(args[1:], stdout, stderr, getenv)
	case "preview":
		return previewCommand(args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "koha-webhooks", version.Version)
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "koha-webhooks: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `koha-webhooks %s forwards Koha webhook notices to a notice service.

Usage:
  koha-webhooks run [flags]    make one pass over message_queue and exit
  koha-webhooks serve [flags]  deliver notices continuously for one or more Koha
                               instances and serve the inbound API and /metrics
  koha-webhooks demo           run one pass on a throwaway database with sample
                               notices of every shape and a local notice service
  koha-webhooks config show|set|migrate|check
                               show, store, migrate or check the settings
  koha-webhooks preview --message-id N
                               print one notice's payload and outcome, changing nothing
  koha-webhooks version        print the version

Run "koha-webhooks run --help" or "koha-webhooks serve --help" for the flags
and environment variables.
`, version.Version)
}

// stringList is a repeatable string flag; each value may also be a
// comma-separated list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s = append(*s, part)
		}
	}
	return nil
}

// counter is a flag that counts its occurrences (-v -v -v).
type counter int

func (c *counter) String() string   { return fmt.Sprint(int(*c)) }
func (c *counter) IsBoolFlag() bool { return true }

func (c *counter) Set(v string) error {
	switch v {
	case "true":
		*c++
	case "false":
	default:
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 {
			return fmt.Errorf("invalid verbosity %q", v)
		}
		*c = counter(n)
	}
	return nil
}

// parseArgs parses a subcommand's flags and rejects positional arguments.
// When ok is false the command returns code: exitOK after --help,
// exitUsage on an invalid command line.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}
