package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/notice"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/records"
)

// sqlFloor is the time the pass's SQL takes with nothing else around it.
type sqlFloor struct {
	total                     time.Duration
	scan, claim, load, record time.Duration
	batches                   int
	statements                map[string]int64 // by kind from the proxy, or server-wide counters without it
	proxied                   bool
	missing, foreign          int // records the loader did not find or dropped
	loadByTable               map[string]time.Duration
}

// resetNotices sets the notices back to pending and deletes their claims,
// as if the pass had never run.
func resetNotices(ctx context.Context, db *sql.DB, first int64) error {
	if _, err := db.ExecContext(ctx, `UPDATE message_queue SET status = 'pending', failure_code = '' WHERE message_id >= ?`, first); err != nil {
		return fmt.Errorf("reset notices to pending: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM koha_webhooks_deliveries`); err != nil {
		return fmt.Errorf("clear koha_webhooks_deliveries: %w", err)
	}
	return nil
}

// measureSQLFloor runs the statements of a pass through the program's own
// queue and records packages, batch by batch in one goroutine as the pass
// does. Each batch scans for pending rows, claims them (SELECT … FOR UPDATE
// SKIP LOCKED, UPDATE, INSERT), loads their records and writes the outcomes.
// Parsing is skipped because the notices come from the plan, and so are
// payloads and HTTP.
func measureSQLFloor(ctx context.Context, db *sql.DB, proxy *statementProxy, p *plan, first int64, batch int) (*sqlFloor, error) {
	schema, err := kohadb.ReadSchema(ctx, db)
	if err != nil {
		return nil, err
	}
	q, err := queue.New(queue.Config{DB: db})
	if err != nil {
		return nil, err
	}
	timed := newTimedQuerier(db)
	loader := &records.Loader{DB: timed, Schema: schema, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ItemLevelItemTypes: true}

	f := &sqlFloor{proxied: proxy != nil}
	counters := func() (map[string]int64, error) {
		if proxy != nil {
			return proxy.Snapshot(), nil
		}
		return globalCounters(ctx, db)
	}
	before, err := counters()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var after int64
	for {
		done, err := f.batch(ctx, q, loader, p, first, &after, batch)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	f.total = time.Since(start)
	f.loadByTable = timed.spent
	end, err := counters()
	if err != nil {
		return nil, err
	}
	f.statements = counterDelta(before, end)
	return f, nil
}

// batch handles one batch and reports whether the queue was empty.
func (f *sqlFloor) batch(ctx context.Context, q *queue.Queue, loader *records.Loader, p *plan, first int64, after *int64, size int) (bool, error) {
	t := time.Now()
	candidates, err := q.Scan(ctx, queue.Filter{}, *after, size)
	f.scan += time.Since(t)
	if err != nil || len(candidates) == 0 {
		return true, err
	}
	*after = candidates[len(candidates)-1].MessageID
	ids := make([]int64, len(candidates))
	for i, c := range candidates {
		ids[i] = c.MessageID
	}

	t = time.Now()
	claim, err := q.ClaimNew(ctx, ids)
	f.claim += time.Since(t)
	if err != nil {
		return true, err
	}

	t = time.Now()
	reqs := make([]records.Request, len(claim.Messages))
	for i, c := range claim.Messages {
		reqs[i] = records.Request{Message: c.Message, Notice: p.queue[c.MessageID()-first].notice()}
	}
	bundles, err := loader.Load(ctx, reqs)
	loader.DB.(*timedQuerier).stop()
	f.load += time.Since(t)
	if err != nil {
		return true, err
	}

	now := time.Now()
	outcomes := make([]queue.Outcome, len(claim.Messages))
	for i, c := range claim.Messages {
		outcomes[i] = queue.Outcome{MessageID: c.MessageID(), State: queue.StateSent, Attempts: 1, AttemptedAt: now, HTTPStatus: 200}
		f.missing += len(bundles[i].Missing)
		f.foreign += len(bundles[i].Foreign)
	}
	t = time.Now()
	_, err = q.Record(ctx, claim.Token, outcomes)
	f.record += time.Since(t)
	f.batches++
	return false, err
}

// notice returns what parsing the spec's content yields.
func (n noticeSpec) notice() *notice.Notice {
	ids := append([]int64(nil), n.ids...)
	switch n.shape {
	case shapeHold:
		return &notice.Notice{Holds: ids}
	case shapeCheckout, shapeDigest:
		return &notice.Notice{Checkouts: ids}
	case shapeCheckin:
		return &notice.Notice{OldCheckouts: ids}
	default:
		return &notice.Notice{OldHolds: ids}
	}
}

// timedQuerier attributes the loader's time to the table each statement
// reads. The loader runs its statements one after another, so the time from
// one statement's start to the next one's covers the statement, reading its
// rows and the Go work on them.
type timedQuerier struct {
	db      kohadb.Querier
	spent   map[string]time.Duration
	current string
	started time.Time
}

func newTimedQuerier(db kohadb.Querier) *timedQuerier {
	return &timedQuerier{db: db, spent: map[string]time.Duration{}}
}

func (t *timedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.stop()
	t.current, t.started = tableOf(query), time.Now()
	return t.db.QueryContext(ctx, query, args...)
}

// stop ends the current statement's interval.
func (t *timedQuerier) stop() {
	if t.current != "" {
		t.spent[t.current] += time.Since(t.started)
		t.current = ""
	}
}

// tableOf returns the first table name after FROM in query.
func tableOf(query string) string {
	i := strings.Index(strings.ToUpper(query), " FROM ")
	if i < 0 {
		return "other"
	}
	fields := strings.Fields(query[i+len(" FROM "):])
	if len(fields) == 0 {
		return "other"
	}
	return fields[0]
}
