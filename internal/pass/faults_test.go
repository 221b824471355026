package pass_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

func TestConcurrentPassesDeliverOnce(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.BatchSize = 40; c.Concurrency = 4 })
	const n = 300
	for i := range n {
		if i%2 == 0 {
			f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
		} else {
			f.enqueue(f.ada, "DUE", "sms", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", f.adaLoan))
		}
	}

	var wg sync.WaitGroup
	summaries := make([]*pass.Summary, 3)
	for i := range summaries {
		cfg := f.config
		q, err := queue.New(queue.Config{DB: f.db.DB, Lease: time.Minute, Owner: fmt.Sprintf("pass-%d", i)})
		must(t, err)
		cfg.Queue = q
		r, err := pass.New(cfg)
		must(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := r.Run(f.ctx, pass.Options{})
			if err != nil {
				t.Errorf("pass %d: %v", i, err)
			}
			summaries[i] = s
		}()
	}
	wg.Wait()

	total := 0
	for _, s := range summaries {
		if s != nil {
			total += s.Sent
		}
	}
	if total != n {
		t.Errorf("passes sent %d in all, want %d", total, n)
	}
	posts := map[int64]int{}
	for _, r := range f.service.Received() {
		posts[r.MessageID]++
	}
	if len(posts) != n {
		t.Errorf("receiver saw %d notices, want %d", len(posts), n)
	}
	for id, count := range posts {
		if count != 1 {
			t.Errorf("message %d delivered %d times", id, count)
		}
	}
	var sent int
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM message_queue WHERE status = 'sent'`).Scan(&sent))
	if sent != n {
		t.Errorf("message_queue rows sent = %d, want %d", sent, n)
	}
}

func TestRetryAfterLengthensWait(t *testing.T) {
	f := setup(t)
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply {
		return noticeservice.Reply{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"120"}}}
	}
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
	before := time.Now().UTC()

	f.run(pass.Options{})

	var next string
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT next_attempt_at FROM koha_webhooks_deliveries WHERE message_id = ?`, id).Scan(&next))
	at, err := time.Parse("2006-01-02 15:04:05.000000", next)
	must(t, err)
	if wait := at.Sub(before); wait < 119*time.Second || wait > 125*time.Second {
		t.Errorf("next attempt in %s, want about 120s from Retry-After (the schedule says 1ms)", wait)
	}
	if status, code := f.status(id); status != "deleted" || !strings.Contains(code.String, "HTTP 429") {
		t.Errorf("message = %s %q", status, code.String)
	}
	// A second pass now must not deliver it early.
	f.service.Respond = nil
	if s := f.run(pass.Options{}); s.Claimed != 0 {
		t.Errorf("a pass before Retry-After claimed %d notices", s.Claimed)
	}
}

// blockingReceiver makes the service hold every POST until release is
// closed, and reports each arrival on arrived.
func blockingReceiver(f *fixture, status int) (arrived chan int64, release chan struct{}) {
	arrived = make(chan int64, 1000)
	release = make(chan struct{})
	f.service.Respond = func(r *noticeservice.Received, _ int) noticeservice.Reply {
		arrived <- r.MessageID
		<-release
		return noticeservice.Reply{Status: status}
	}
	return arrived, release
}

func TestStolenLeaseDiscardsLateResult(t *testing.T) {
	f := setup(t)
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
	arrived, release := blockingReceiver(f, http.StatusServiceUnavailable)

	// Pass A stalls in the middle of its POST.
	var stalled *pass.Summary
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, err := pass.New(f.config)
		must(t, err)
		stalled, _ = r.Run(f.ctx, pass.Options{})
	}()
	<-arrived

	// Its lease runs out (as after a long pause) and pass B takes over.
	_, err := f.db.DB.ExecContext(f.ctx, `UPDATE koha_webhooks_deliveries SET lease_expires_at = '2000-01-01 00:00:00' WHERE message_id = ?`, id)
	must(t, err)
	f.service.Respond = nil
	taker := f.config
	q, err := queue.New(queue.Config{DB: f.db.DB, Lease: time.Minute, Owner: "pass-b"})
	must(t, err)
	taker.Queue = q
	r, err := pass.New(taker)
	must(t, err)
	took, err := r.Run(f.ctx, pass.Options{})
	must(t, err)
	if took.Sent != 1 {
		t.Fatalf("pass B sent %d, want 1", took.Sent)
	}

	close(release)
	<-done
	if stalled.Discarded != 1 || stalled.Retry != 0 {
		t.Errorf("stalled pass: discarded %d retry %d, want its late 503 discarded", stalled.Discarded, stalled.Retry)
	}
	if status, code := f.status(id); status != "sent" || code.Valid {
		t.Errorf("message = %s %v, want pass B's result", status, code)
	}
	got := f.received(id)
	if len(got) != 2 || got[0].IdempotencyKey != got[1].IdempotencyKey {
		t.Errorf("POSTs = %d; both passes must send the same Idempotency-Key", len(got))
	}
}

func TestStopReleasesUnstartedClaims(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.Concurrency = 2; c.GracePeriod = time.Minute })
	var ids []int64
	for range 10 {
		ids = append(ids, f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold)))
	}
	arrived, release := blockingReceiver(f, http.StatusOK)
	ctx, stop := context.WithCancel(f.ctx)

	var summary *pass.Summary
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, err := pass.New(f.config)
		must(t, err)
		var runErr error
		summary, runErr = r.Run(ctx, pass.Options{})
		if runErr != nil {
			t.Error(runErr)
		}
	}()
	<-arrived
	<-arrived
	stop() // SIGTERM: two POSTs are in flight, eight not started
	close(release)
	<-done

	if summary.Sent != 2 || summary.Released != 8 {
		t.Fatalf("sent %d released %d, want 2 and 8", summary.Sent, summary.Released)
	}
	for _, id := range ids {
		if status, _ := f.status(id); status == "pending" {
			t.Errorf("message %d is pending after the stop", id)
		}
	}

	f.service.Respond = nil
	next := f.run(pass.Options{})
	if next.Sent != 8 {
		t.Errorf("next pass sent %d, want the 8 released notices", next.Sent)
	}
}

func TestRecordFailureKeepsClaims(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply {
		// The notice is delivered, but the outcome cannot be written.
		f.db.DB.ExecContext(context.Background(), `RENAME TABLE koha_webhooks_deliveries TO koha_webhooks_deliveries_gone`)
		return noticeservice.Reply{}
	}
	r, err := pass.New(f.config)
	must(t, err)
	if _, err := r.Run(f.ctx, pass.Options{}); err == nil {
		t.Fatal("pass succeeded although its outcomes could not be written")
	}
	if status, code := f.status(id); status != "deleted" || code.String != "WEBHOOK_IN_PROGRESS" {
		t.Errorf("message = %s %q, want still claimed", status, code.String)
	}
}
