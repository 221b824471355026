package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// idlePollRows is the message_queue history of TestIdlePollReadsFewRows.
// BenchmarkIdlePoll measures the same with a million rows, which take
// longer to insert than the test suite should spend.
const idlePollRows = 200_000

// maxIdlePollReads bounds the rows an idle poll may read.
const maxIdlePollReads = 1000

func TestIdlePollReadsFewRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, b := setupIdle(t, idlePollRows)

	// The first pass scans the whole table and sets the watermark; it
	// shows that the counters see every row a scan reads.
	full := measureReads(t, b.db, func() { must(t, w.poll(ctx, b, true)) })
	if full < idlePollRows {
		t.Fatalf("the full scan read %d rows, want at least the %d in message_queue", full, idlePollRows)
	}

	idle := measureReads(t, b.db, func() { must(t, w.poll(ctx, b, false)) })
	t.Logf("rows read: full scan %d, idle poll %d (message_queue holds %d rows)", full, idle, idlePollRows)
	if idle >= maxIdlePollReads {
		t.Errorf("an idle poll read %d rows, want fewer than %d whatever the table's size", idle, maxIdlePollReads)
	}
}

// BenchmarkIdlePoll reports the rows an idle poll reads with a million
// history rows in message_queue:
//
//	go test -run '^$' -bench IdlePoll -benchtime 20x ./internal/daemon/
func BenchmarkIdlePoll(b *testing.B) {
	ctx := context.Background()
	w, be := setupIdle(b, 1_000_000)
	must(b, w.poll(ctx, be, true))

	var reads int64
	b.ResetTimer()
	for b.Loop() {
		reads += measureReads(b, be.db, func() { must(b, w.poll(ctx, be, false)) })
	}
	b.ReportMetric(float64(reads)/float64(b.N), "rows/poll")
}

// setupIdle returns a worker and its started backend on a database whose
// message_queue holds rows sent notices and no pending webhook notice. The
// backend's pool has one connection, so that session counters see every
// statement of a poll.
func setupIdle(tb testing.TB, rows int) (*worker, *backend) {
	tb.Helper()
	ctx := context.Background()
	db := kohatest.NewDB(tb)
	must(tb, (&sample.Site{DB: db.DB}).Setup(ctx))
	_, err := db.DB.ExecContext(ctx, fmt.Sprintf(`INSERT INTO message_queue
		(letter_code, message_transport_type, status, content, content_type, time_queued)
		SELECT 'CHECKOUT', 'email', 'sent', CONCAT('You borrowed item ', seq, '. Thank you.'), 'text/plain', NOW()
		FROM seq_1_to_%d`, rows))
	must(tb, err)
	// Koha's sender has not yet emailed these: they mention the word but
	// are no webhook notices, so every pass leaves them pending.
	for range 3 {
		_, err := db.DB.ExecContext(ctx, `INSERT INTO message_queue (letter_code, message_transport_type, status, content, time_queued)
			VALUES ('NEWSLETTER', 'email', 'pending', 'Our new webhook feature sends you texts.', NOW())`)
		must(tb, err)
	}

	service := noticeservice.Start("koha", "s3cret")
	tb.Cleanup(service.Close)
	settings, err := config.Build(config.Resolve(config.MapLayer(config.SourceEnv, map[string]string{
		"database": db.DSN(), "auth_url": service.TokenURL(), "client_id": "koha", "client_secret": "s3cret",
		"notice_url": service.NoticeURL(), "poll_interval": "50ms",
	})))
	must(tb, err)

	cfg := Config{
		Instances: []Instance{{Name: "lib", Settings: func(context.Context) (*config.Settings, error) { return settings, nil }}},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	must(tb, cfg.applyDefaults())
	w := newWorker(cfg.Instances[0], &cfg)
	b, err := openBackend(ctx, settings, w.metrics, w.log, cfg.GracePeriod)
	must(tb, err)
	tb.Cleanup(b.close)
	b.db.SetMaxOpenConns(1)
	return w, b
}

// measureReads returns the rows fn made the session read, from the
// Handler_read counters, less the reads of reading the counters.
func measureReads(tb testing.TB, db *sql.DB, fn func()) int64 {
	tb.Helper()
	first := handlerReads(tb, db)
	second := handlerReads(tb, db)
	fn()
	third := handlerReads(tb, db)
	return (third - second) - (second - first)
}

// handlerReads sums the session's Handler_read_* counters: index lookups,
// index scans and table scans.
func handlerReads(tb testing.TB, db *sql.DB) int64 {
	tb.Helper()
	rows, err := db.Query(`SHOW SESSION STATUS LIKE 'Handler_read%'`)
	must(tb, err)
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var name string
		var value int64
		must(tb, rows.Scan(&name, &value))
		if strings.HasPrefix(name, "Handler_read") {
			sum += value
		}
	}
	must(tb, rows.Err())
	return sum
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
