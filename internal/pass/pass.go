package pass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/koha-webhooks/koha-webhooks/internal/archive"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/notice"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/records"
)

// Runner runs passes with one configuration.
type Runner struct {
	cfg Config
}

// New validates cfg, applies its defaults and returns a Runner.
func New(cfg Config) (*Runner, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg}, nil
}

// run is the state of one pass.
type run struct {
	*Runner
	opts    Options
	summary *Summary
	loader  *records.Loader
	overdue map[string]bool
	archive *archive.Writer
	logFile *os.File
	log     *slog.Logger
	passLog lateHandler
	actions *actionLog
	handled int

	// batches carries prepared batches to the delivery stage;
	// deliveryFailed is closed when that stage stops on an error.
	batches        chan *batch
	deliveryFailed chan struct{}
}

// Run makes one pass: first the notices whose retry is due or whose lease
// expired, then new pending webhook notices. It returns an error only when
// the pass could not complete (the database failed); failed notices are
// counted in the summary. When ctx is cancelled the pass stops claiming,
// lets in-flight deliveries finish within the grace period and returns the
// rest to the queue.
func (r *Runner) Run(ctx context.Context, opts Options) (*Summary, error) {
	p := &run{Runner: r, opts: opts, summary: newSummary(r.cfg.Now()), passLog: newLateHandler()}
	// The pass log file beside the archive receives every line from the
	// moment it is opened.
	p.log = slog.New(teeHandler{r.cfg.Logger.Handler(), p.passLog})
	p.actions = &actionLog{db: r.cfg.DB, iface: r.cfg.Interface, disabled: r.cfg.TestMode, log: p.log}
	if opts.Skip {
		p.actions.write(ctx, "SKIPPED", "")
		p.log.Info("pass skipped: transport type skip_webhook was given")
		return p.summary, nil
	}
	if r.cfg.LogEveryPass {
		p.actions.start(ctx)
	}
	err := p.prepare(ctx)
	if err == nil {
		err = p.pipeline(ctx)
	}
	p.finish(ctx, err)
	return p.summary, err
}

// pipeline runs the claim loop and the delivery stage side by side, so
// that the database work of one batch overlaps the POSTs of the previous
// one. At most one prepared batch waits.
func (p *run) pipeline(ctx context.Context) error {
	p.batches = make(chan *batch)
	p.deliveryFailed = make(chan struct{})
	delivered := make(chan error, 1)
	go func() { delivered <- p.deliverBatches(ctx) }()

	claimErr := p.claimLoop(ctx)
	close(p.batches)
	deliverErr := <-delivered
	if deliverErr != nil {
		return deliverErr
	}
	return claimErr
}

func (p *run) prepare(ctx context.Context) error {
	prefs := kohadb.NewPreferences(p.cfg.DB)
	itemLevel, set, err := prefs.Get(ctx, "item-level_itypes")
	if err != nil {
		return err
	}
	anonymous, _, err := prefs.Get(ctx, "AnonymousPatron")
	if err != nil {
		return err
	}
	p.loader = &records.Loader{
		DB: p.cfg.DB, Schema: p.cfg.Schema, Logger: p.log,
		ItemLevelItemTypes: !set || itemLevel != "0",
		AnonymousPatron:    parseID(anonymous),
	}
	if p.cfg.SkipOverdueCalls {
		if p.overdue, err = overdueLetters(ctx, p.cfg.DB, p.cfg.Schema); err != nil {
			return err
		}
	}
	if p.cfg.ArchiveDir != "" {
		archive.Prune(p.cfg.ArchiveDir, p.cfg.Now(), p.log)
		p.summary.LibraryName, _, _ = prefs.Get(ctx, "LibraryName")
	}
	return nil
}

// claimLoop handles due retries, then new notices, batch by batch.
func (p *run) claimLoop(ctx context.Context) error {
	for !p.done(ctx) && !p.cfg.TestMode {
		claim, err := p.cfg.Queue.ClaimDue(ctx, p.opts.Filter, p.nextBatchSize(), p.summary.Started)
		if err != nil {
			return err
		}
		if len(claim.Messages) == 0 {
			break
		}
		if err := p.handle(ctx, claim, nil); err != nil {
			return err
		}
	}

	after := p.opts.AfterMessageID
	p.summary.LastMessageID = after
	for !p.done(ctx) {
		candidates, err := p.cfg.Queue.Scan(ctx, p.opts.Filter, after, p.cfg.BatchSize)
		if err != nil {
			return err
		}
		if len(candidates) == 0 {
			return nil
		}
		after = candidates[len(candidates)-1].MessageID
		p.summary.LastMessageID = after
		if err := p.handleCandidates(ctx, candidates); err != nil {
			return err
		}
	}
	return nil
}

// handleCandidates keeps the webhook notices among candidates, claims them
// and handles the claim.
func (p *run) handleCandidates(ctx context.Context, candidates []queue.Candidate) error {
	parsed := map[int64]parseResult{}
	var ids []int64
	for _, c := range candidates {
		n, err := notice.Parse(notice.Input{Content: c.Content, ContentType: c.ContentType, LetterCode: c.LetterCode})
		if errors.Is(err, notice.ErrNotWebhook) {
			p.summary.NotWebhook++
			continue
		}
		p.summary.Selected++
		parsed[c.MessageID] = parseResult{content: c.Content, notice: n, err: err}
		ids = append(ids, c.MessageID)
		if p.opts.Limit > 0 && p.handled+len(ids) >= p.opts.Limit {
			break
		}
	}
	if len(ids) == 0 {
		return nil
	}

	var claim *queue.Claim
	var err error
	if p.cfg.TestMode {
		claim, err = p.cfg.Queue.Peek(ctx, ids)
	} else {
		claim, err = p.cfg.Queue.ClaimNew(ctx, ids)
	}
	if err != nil {
		return err
	}
	return p.handle(ctx, claim, parsed)
}

func (p *run) nextBatchSize() int {
	if p.opts.Limit > 0 {
		return min(p.cfg.BatchSize, p.opts.Limit-p.handled)
	}
	return p.cfg.BatchSize
}

func (p *run) done(ctx context.Context) bool {
	return ctx.Err() != nil || (p.opts.Limit > 0 && p.handled >= p.opts.Limit)
}

func parseID(s string) int64 {
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		return 0
	}
	return id
}
