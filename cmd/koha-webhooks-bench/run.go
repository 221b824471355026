package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
)

const (
	clientID     = "kwbench"
	clientSecret = "kwbench-secret"
)

// results collects every measurement the report prints.
type results struct {
	opts         *options
	plan         *plan
	program      string // which koha-webhooks was measured
	machine      machineInfo
	generateTime time.Duration
	busyBefore   float64 // busy CPU share in the last second before the pass
	pass         *childRun
	passCPU      cpuUse
	statements   map[string]int64 // server-wide counters over the pass
	proxied      map[string]int64 // the pass's own statements; nil with -proxy=false
	bytesSent    int64
	accepted     int
	toResponse   []time.Duration
	toRecorded   []time.Duration
	passTimeline *timeline
	passProblems []string
	logWarnings  int
	sql          *sqlFloor
	sqlCPU       cpuUse
	sqlProblems  []string
	post         *postFloor // to the notice service the pass used
	postDiscard  *postFloor // to a receiver that only reads the body
	postCPU      cpuUse     // both POST floors together
}

// bench is one benchmark run: its settings, database, notice service,
// statement proxy and work directory.
type bench struct {
	opts    *options
	log     *slog.Logger
	work    string
	db      *benchDB
	first   int64 // message_id of the first pending notice
	svc     *noticeservice.Service
	counts  *tally
	proxy   *statementProxy // nil with -proxy=false
	sampler *cpuSampler
}

// run carries out the whole benchmark and writes the report to out. The
// database and the work directory are removed on every return path unless
// -keep is set.
func run(ctx context.Context, o *options, log *slog.Logger, out io.Writer) (err error) {
	server, err := serverConfig(o.server)
	if err != nil {
		return err
	}
	b := &bench{opts: o, log: log}
	if b.work, err = os.MkdirTemp("", "kwbench-"); err != nil {
		return err
	}
	defer func() { b.cleanup(err) }()

	binary, program := o.binary, "the binary "+o.binary
	if binary == "" {
		log.Info("building koha-webhooks")
		if binary, err = buildProgram(ctx, b.work); err != nil {
			return err
		}
		program = "built from the working tree at " + describeSource(ctx)
	}
	if b.db, err = createDatabase(ctx, server, o.schema); err != nil {
		return err
	}
	log.Info("database created", "name", b.db.name, "schema", o.schema)

	r := &results{opts: o, program: program, machine: readMachineInfo(ctx, b.db.db)}
	r.plan = newPlan(planConfig{notices: o.notices, history: o.history, mix: o.mix, digestMin: o.digestMin, digestMax: o.digestMax, seed: o.seed})
	start := time.Now()
	if b.first, err = generate(ctx, b.db.db, r.plan, log); err != nil {
		return err
	}
	r.generateTime = time.Since(start)

	if err := b.startServices(ctx); err != nil {
		return err
	}
	if err := b.measurePass(ctx, r, binary); err != nil {
		return err
	}
	if err := b.measureFloor(ctx, r); err != nil {
		return err
	}
	r.print(out)
	return nil
}

// startServices starts the notice service with its tally and, unless
// -proxy=false, the statement proxy.
func (b *bench) startServices(ctx context.Context) error {
	b.svc = noticeservice.Start(clientID, clientSecret)
	b.svc.Discard = true
	b.counts = newTally(b.first, b.opts.notices)
	b.svc.Respond = b.counts.respond
	b.sampler = newCPUSampler(ctx, b.db.db)
	if !b.opts.proxy {
		return nil
	}
	var err error
	b.proxy, err = startProxy(b.db.server.Addr, b.log)
	return err
}

// dsn returns the DSN of the bench database as the pass and the SQL floor
// reach it: through the proxy when there is one.
func (b *bench) dsn() string {
	cfg := b.db.config.Clone()
	if b.proxy != nil {
		cfg.Addr = b.proxy.Addr()
	}
	return cfg.FormatDSN()
}

// measurePass runs the koha-webhooks child and checks what it left behind.
func (b *bench) measurePass(ctx context.Context, r *results, binary string) error {
	o := b.opts
	if o.waitIdle > 0 {
		b.log.Info("waiting for the machine to be idle", "at_most", o.waitIdle.String())
	}
	r.busyBefore = b.sampler.waitForIdle(ctx, o.waitIdle)

	before, err := globalCounters(ctx, b.db.db)
	if err != nil {
		return err
	}
	var proxiedBefore map[string]int64
	if b.proxy != nil {
		proxiedBefore = b.proxy.Snapshot()
	}
	settings := childSettings{binary: binary, dsn: b.dsn(), tokenURL: b.svc.TokenURL(), noticeURL: b.svc.NoticeURL(),
		clientID: clientID, clientSecret: clientSecret, archiveDir: filepath.Join(b.work, "archive"), format: o.format,
		batch: o.batch, concurrency: o.concurrency, perfData: o.perfData, logPath: filepath.Join(b.work, "pass.log"), workDir: b.work}
	b.counts.enabled.Store(true)
	bytesBefore := b.svc.BytesReceived()
	b.log.Info("running koha-webhooks", "notices", o.notices, "batch", o.batch, "concurrency", o.concurrency, "format", o.format)
	cpuBefore := b.sampler.sample()
	r.pass, err = runPass(ctx, settings)
	cpuAfter := b.sampler.sample()
	b.counts.enabled.Store(false)
	if err != nil {
		return err
	}
	r.passCPU = between(cpuBefore, cpuAfter, (r.pass.userCPU + r.pass.sysCPU).Seconds())
	after, err := globalCounters(ctx, b.db.db)
	if err != nil {
		return err
	}
	r.statements = counterDelta(before, after)
	if b.proxy != nil {
		r.proxied = counterDelta(proxiedBefore, b.proxy.Snapshot())
	}
	r.bytesSent = b.svc.BytesReceived() - bytesBefore
	r.accepted = b.svc.Accepted()
	r.logWarnings = countWarnings(r.pass.logPath)
	return b.checkPass(ctx, r)
}

// checkPass lists every difference between the database or the receiver's
// tally and each notice delivered exactly once, and reads the delivery
// times.
func (b *bench) checkPass(ctx context.Context, r *results) error {
	o := b.opts
	state, err := readQueueState(ctx, b.db.db, b.first, o.notices)
	if err != nil {
		return err
	}
	r.passProblems = state.problems(o.notices, o.history)
	r.passProblems = append(r.passProblems, b.counts.problems(o.notices, r.accepted)...)
	r.toResponse, r.toRecorded, err = deliveryTimes(ctx, b.db.db, r.pass.started)
	if err != nil {
		return err
	}
	r.passTimeline, err = readTimeline(ctx, b.db.db, b.first, o.batch, r.pass.started, r.pass.wall)
	return err
}

// problems compares the receiver's counts with n notices posted once each.
func (t *tally) problems(n, accepted int) []string {
	var out []string
	missing, duplicated := t.check()
	if missing > 0 {
		out = append(out, fmt.Sprintf("%d notices never reached the receiver", missing))
	}
	if duplicated > 0 {
		out = append(out, fmt.Sprintf("%d notices reached the receiver more than once", duplicated))
	}
	if accepted != n {
		out = append(out, fmt.Sprintf("the receiver accepted %d POSTs, expected %d", accepted, n))
	}
	if f := t.foreign.Load(); f > 0 {
		out = append(out, fmt.Sprintf("%d POSTs named no pending notice", f))
	}
	if rt := t.retries.Load(); rt > 0 {
		out = append(out, fmt.Sprintf("%d POSTs repeated an idempotency key", rt))
	}
	return out
}

// measureFloor resets the notices and measures the SQL floor over the same
// path to MariaDB as the pass, then POSTs the archived payloads for the
// POST floor.
func (b *bench) measureFloor(ctx context.Context, r *results) error {
	o := b.opts
	if err := resetNotices(ctx, b.db.db, b.first); err != nil {
		return err
	}
	db, err := b.openPool(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	b.sampler.waitForIdle(ctx, o.waitIdle)
	b.log.Info("measuring the SQL floor")
	cpuBefore := b.sampler.sample()
	if r.sql, err = measureSQLFloor(ctx, db, b.proxy, r.plan, b.first, o.batch); err != nil {
		return err
	}
	r.sqlCPU = between(cpuBefore, b.sampler.sample(), 0)
	state, err := readQueueState(ctx, b.db.db, b.first, o.notices)
	if err != nil {
		return err
	}
	r.sqlProblems = state.problems(o.notices, o.history)
	if r.sql.missing+r.sql.foreign > 0 {
		r.sqlProblems = append(r.sqlProblems, fmt.Sprintf("the loader did not find %d records and dropped %d of other patrons", r.sql.missing, r.sql.foreign))
	}

	b.log.Info("measuring the POST floor")
	service, err := newPoster(ctx, b.svc.TokenURL(), b.svc.NoticeURL(), clientID, clientSecret, o.concurrency)
	if err != nil {
		return err
	}
	discard := startDiscardReceiver()
	defer discard.Close()
	bare, err := newPoster(ctx, "", discard.URL, "", "", o.concurrency)
	if err != nil {
		return err
	}
	b.sampler.waitForIdle(ctx, o.waitIdle)
	cpuBefore = b.sampler.sample()
	floors, err := measurePostFloor(ctx, []*poster{service, bare}, filepath.Join(b.work, "archive"), o.concurrency)
	if err != nil {
		return err
	}
	r.postCPU = between(cpuBefore, b.sampler.sample(), 0)
	r.post, r.postDiscard = floors[0], floors[1]
	return nil
}

// openPool opens the bench database with koha-webhooks' driver options,
// through the proxy when there is one.
func (b *bench) openPool(ctx context.Context) (*sql.DB, error) {
	cfg, err := kohadb.ParseDSN(b.dsn())
	if err != nil {
		return nil, err
	}
	return kohadb.Open(ctx, cfg)
}

// countWarnings counts the WARN and ERROR lines of the pass's log.
func countWarnings(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return strings.Count(string(data), "level=WARN") + strings.Count(string(data), "level=ERROR")
}

// cleanup stops the services, drops the database and removes the work
// directory, or names them when -keep is set.
func (b *bench) cleanup(runErr error) {
	if b.proxy != nil {
		b.proxy.Close()
	}
	if b.svc != nil {
		b.svc.Close()
	}
	if b.opts.keep {
		name := ""
		if b.db != nil {
			name = b.db.name
		}
		b.log.Info("kept for inspection", "database", name, "work_dir", b.work)
		return
	}
	if b.db != nil {
		if err := b.db.drop(); err != nil {
			b.log.Error("cannot drop the benchmark database; drop it by hand", "database", b.db.name, "error", err)
		} else {
			b.log.Info("database dropped", "name", b.db.name)
		}
	}
	if runErr != nil {
		b.log.Info("removing the work directory; rerun with -keep to inspect the pass log", "path", b.work)
	}
	os.RemoveAll(b.work)
}
