package pass_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/retry"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

func TestDatabaseRestartLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server := kohatest.StartServer(t)
	db := server.NewDB(ctx, "koha_restart")
	site := &sample.Site{DB: db.DB}
	must(t, site.Setup(ctx))
	patron, err := site.AddPatron(ctx, sample.Patron{Surname: "Restart"})
	must(t, err)
	title, err := site.AddTitle(ctx, "Crash Recovery", "Gray", sample.ItemType)
	must(t, err)
	hold, err := site.AddHold(ctx, patron, title.Biblionumber, 0, sample.MainLibrary)
	must(t, err)
	enqueue := func(n int) {
		for range n {
			_, err := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "HOLD", Content: fmt.Sprintf("webhook: yes\nhold: %d\n", hold)})
			must(t, err)
		}
	}

	svc := noticeservice.Start("koha", "s3cret")
	defer svc.Close()
	schema, err := kohadb.ReadSchema(ctx, db.DB)
	must(t, err)
	must(t, queue.Migrate(ctx, db.DB))
	q, err := queue.New(queue.Config{DB: db.DB, Lease: 5 * time.Second})
	must(t, err)
	client, err := delivery.New(delivery.Config{AuthURL: svc.TokenURL(), ClientID: "koha", ClientSecret: "s3cret", NoticeURL: svc.NoticeURL()})
	must(t, err)
	defer client.Close()
	runner, err := pass.New(pass.Config{DB: db.DB, Schema: schema, Queue: q, Deliverer: client,
		Retry: retry.Policy{Schedule: []time.Duration{time.Millisecond}}, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	must(t, err)

	// The server goes down while five POSTs are in flight and comes back
	// while the pass retries writing their outcomes.
	enqueue(5)
	arrived := make(chan struct{}, 5)
	release := make(chan struct{})
	svc.Respond = func(*noticeservice.Received, int) noticeservice.Reply {
		arrived <- struct{}{}
		<-release
		return noticeservice.Reply{}
	}
	done := make(chan error)
	var first *pass.Summary
	go func() {
		var err error
		first, err = runner.Run(ctx, pass.Options{})
		done <- err
	}()
	for range 5 {
		<-arrived
	}
	server.Stop()
	close(release)
	server.Start()
	if err := <-done; err != nil {
		t.Fatalf("pass across a restart: %v", err)
	}
	if first.Sent != 5 {
		t.Errorf("first pass sent %d, want 5", first.Sent)
	}

	// Between passes: every pooled connection is dead after the restart.
	svc.Respond = nil
	server.Stop()
	server.Start()
	enqueue(3)
	second, err := runner.Run(ctx, pass.Options{})
	if err != nil {
		t.Fatalf("pass after a restart: %v", err)
	}
	if second.Sent != 3 {
		t.Errorf("second pass sent %d, want 3", second.Sent)
	}
	var sent int
	must(t, db.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM message_queue WHERE status = 'sent'`).Scan(&sent))
	if sent != 8 || svc.Accepted() != 8 {
		t.Errorf("rows sent %d, POSTs accepted %d, want 8 and 8", sent, svc.Accepted())
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
