package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/notice"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/records"
	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// previewFlags are the flags of `preview`.
type previewFlags struct {
	messageID                 int64
	payloadFormat, jsonValues string
	sourceFlags
}

func previewCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var f previewFlags
	fs := flag.NewFlagSet("koha-webhooks preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&f.messageID, "message-id", 0, "message_queue.message_id of the notice to preview (required)")
	fs.StringVar(&f.payloadFormat, "payload-format", "", "full or minimal (overrides WEBHOOK_PAYLOAD_FORMAT and the stored setting)")
	fs.StringVar(&f.jsonValues, "json-values", "", "typed or strings (overrides WEBHOOK_JSON_VALUES and the stored setting)")
	f.sourceFlags.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: koha-webhooks preview --message-id N [flags]\n\n"+
			"Prints the payload that would be sent for one notice and the outcome it would get, "+
			"without claiming, sending or writing anything.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 || f.messageID <= 0 {
		fmt.Fprintln(stderr, "koha-webhooks preview: give the notice with --message-id N (a message_queue.message_id)")
		return exitUsage
	}

	flagValues := f.sourceFlags.values()
	if f.payloadFormat != "" {
		flagValues["payload_format"] = f.payloadFormat
	}
	if f.jsonValues != "" {
		flagValues["json_values"] = f.jsonValues
	}
	ctx, stop := signalContext()
	defer stop()
	loaded, err := config.Load(ctx, config.Inputs{Flags: flagValues, Getenv: getenv})
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks preview:", err)
		return exitUsage
	}
	defer loaded.Close()

	p := &previewer{db: loaded.DB, settings: loaded.Settings, out: stdout}
	if err := p.run(ctx, f.messageID); err != nil {
		fmt.Fprintln(stderr, "koha-webhooks preview:", err)
		return exitFailed
	}
	return exitOK
}

// previewer builds one notice's payload and outcome without writing
// anything: queue.Peek reads the row unclaimed, and the outcome of a
// pending notice comes from a pass in test mode without an archive.
type previewer struct {
	db       *sql.DB
	settings *config.Settings
	out      io.Writer
	schema   *kohadb.Schema
	queue    *queue.Queue
}

func (p *previewer) run(ctx context.Context, messageID int64) error {
	var err error
	if p.schema, err = kohadb.ReadSchema(ctx, p.db); err != nil {
		return err
	}
	if p.queue, err = queue.New(queue.Config{DB: p.db, Lease: p.settings.Lease}); err != nil {
		return err
	}
	claim, err := p.queue.Peek(ctx, []int64{messageID})
	if err != nil {
		return err
	}
	if len(claim.Messages) == 0 {
		return fmt.Errorf("message_id %d not found in message_queue", messageID)
	}
	message := claim.Messages[0].Message
	p.printHeader(message)

	body, outcome, err := p.build(ctx, message)
	if err != nil {
		return err
	}
	status := message.String("status")
	if status == "pending" {
		if outcome, err = p.passOutcome(ctx, messageID); err != nil {
			return err
		}
	} else if state := describeNotPending(status, message.String("failure_code")); state != "" {
		outcome = state + "; if it were pending: " + outcome
	}
	fmt.Fprintln(p.out, "outcome:", outcome)
	if body != nil {
		p.printPayload(body)
	}
	return nil
}

func (p *previewer) printHeader(message *kohadb.Row) {
	fmt.Fprintf(p.out, "message %s: letter %s, transport %s, patron %s, status %s",
		message.String("message_id"), orNone(message.String("letter_code")),
		orNone(message.String("message_transport_type")), orNone(message.String("borrowernumber")), message.String("status"))
	if code := message.String("failure_code"); code != "" {
		fmt.Fprintf(p.out, " (%s)", code)
	}
	fmt.Fprintln(p.out)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// build parses the notice, loads its records and builds its payload as a
// pass would. body is nil when the notice cannot be sent, and outcome
// then gives the reason.
func (p *previewer) build(ctx context.Context, message *kohadb.Row) (body []byte, outcome string, err error) {
	n, err := notice.Parse(notice.Input{Content: message.String("content"), ContentType: message.String("content_type"),
		LetterCode: message.String("letter_code")})
	if errors.Is(err, notice.ErrNotWebhook) {
		return nil, "not a webhook notice: left for Koha", nil
	}
	if err != nil {
		return nil, "would fail: WEBHOOK_PARSE_ERROR: " + err.Error(), nil
	}
	for _, rejected := range n.Rejected {
		fmt.Fprintf(p.out, "invalid id ignored: %s %q on line %d\n", rejected.Key, rejected.Value, rejected.Line)
	}

	loader, err := p.loader(ctx)
	if err != nil {
		return nil, "", err
	}
	bundles, err := loader.Load(ctx, []records.Request{{Message: message, Notice: n}})
	if err != nil {
		return nil, "", err
	}
	b := bundles[0]
	if len(b.Missing) > 0 {
		fmt.Fprintln(p.out, "not found, left out:", strings.Join(b.Missing, ", "))
	}
	if len(b.Foreign) > 0 {
		fmt.Fprintln(p.out, "another patron's, left out:", strings.Join(b.Foreign, ", "))
	}
	if b.NoData != "" {
		return nil, "would fail: WEBHOOK_NO_DATA: " + b.NoData, nil
	}
	return payload.Build(nil, b, p.settings.Payload), "would be sent", nil
}

// loader returns a records.Loader set up from the system preferences, as a
// pass sets it up.
func (p *previewer) loader(ctx context.Context) (*records.Loader, error) {
	prefs := kohadb.NewPreferences(p.db)
	itemLevel, set, err := prefs.Get(ctx, "item-level_itypes")
	if err != nil {
		return nil, err
	}
	anonymous, _, err := prefs.Get(ctx, "AnonymousPatron")
	if err != nil {
		return nil, err
	}
	var anonymousID int64
	fmt.Sscan(anonymous, &anonymousID)
	return &records.Loader{
		DB: p.db, Schema: p.schema, Logger: slog.New(slog.DiscardHandler),
		ItemLevelItemTypes: !set || itemLevel != "0", AnonymousPatron: anonymousID,
	}, nil
}

// passOutcome runs a pass in test mode limited to the notice, which writes
// nothing, and returns the outcome it decided. The pass also applies the
// phone overdue skip, which build does not.
func (p *previewer) passOutcome(ctx context.Context, messageID int64) (string, error) {
	observer := &outcomeObserver{}
	runner, err := pass.New(pass.Config{
		DB: p.db, Schema: p.schema, Queue: p.queue, TestMode: true,
		Payload: p.settings.Payload, SkipOverdueCalls: p.settings.SkipOverdueCalls,
		BatchSize: 1, Version: version.Version, Logger: slog.New(slog.DiscardHandler), Observer: observer,
	})
	if err != nil {
		return "", err
	}
	if _, err := runner.Run(ctx, pass.Options{Filter: queue.Filter{MessageID: messageID}, Limit: 1}); err != nil {
		return "", err
	}
	o := observer.outcome
	if o == nil {
		return "not a webhook notice: left for Koha", nil
	}
	switch o.State {
	case queue.StateSent:
		return "would be sent", nil
	case queue.StateSkipped:
		return "would be skipped: " + o.FailureCode, nil
	case queue.StateReturned:
		return "not a webhook notice: left for Koha", nil
	}
	return "would fail: " + o.FailureCode, nil
}

// describeNotPending explains a notice that a pass would not pick up as
// new.
func describeNotPending(status, failureCode string) string {
	switch {
	case status == "deleted" && (strings.HasPrefix(failureCode, "WEBHOOK_RETRY") || strings.HasPrefix(failureCode, "WEBHOOK_AUTH_FAILED")):
		return "waiting for a retry, which a later pass makes"
	case status == "deleted" && failureCode == "WEBHOOK_IN_PROGRESS":
		return "being delivered by a pass right now"
	}
	return "not pending (status " + status + "), so no pass takes it until it is resent"
}

func (p *previewer) printPayload(body []byte) {
	values := "typed values"
	if p.settings.Payload.StringValues {
		values = "string values"
	}
	fmt.Fprintf(p.out, "payload (%s, %s, %d bytes):\n", p.settings.Payload.Format, values, len(body))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		// The payload builder writes valid JSON; print it as built if not.
		p.out.Write(body)
	} else {
		pretty.WriteTo(p.out)
	}
	fmt.Fprintln(p.out)
}

// outcomeObserver keeps the outcome a test-mode pass decided.
type outcomeObserver struct {
	mu      sync.Mutex
	outcome *queue.Outcome
}

func (o *outcomeObserver) Delivered(*kohadb.Row, delivery.Result) {}
func (o *outcomeObserver) TokenFailed(error)                      {}

func (o *outcomeObserver) Recorded(_ *kohadb.Row, outcome *queue.Outcome) {
	o.mu.Lock()
	o.outcome = outcome
	o.mu.Unlock()
}
