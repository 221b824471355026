package pass_test

import (
	"context"
	"database/sql"
	"io"
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

// fixture is a Koha database with a sample library, a notice service on
// loopback, and a pass runner wired to both.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *kohatest.Database
	site    *sample.Site
	service *noticeservice.Service
	config  pass.Config

	ada, bob     int64 // patrons
	hobbit, dune sample.Title
	adaLoan      int64 // issue_id of Ada's loan of hobbit
	bobLoan      int64 // issue_id of Bob's loan of dune
	adaHold      int64 // reserve_id of Ada's hold on dune
}

// setup builds the fixture; edit adjusts the pass configuration.
func setup(t *testing.T, edit ...func(*pass.Config)) *fixture {
	t.Helper()
	t.Parallel()
	f := &fixture{t: t, ctx: context.Background(), db: kohatest.NewDB(t)}
	f.site = &sample.Site{DB: f.db.DB}
	must(t, f.site.Setup(f.ctx))

	var err error
	f.ada, err = f.site.AddPatron(f.ctx, sample.Patron{Surname: "Lovelace", Firstname: "Ada", Email: "ada@example.org"})
	must(t, err)
	f.bob, err = f.site.AddPatron(f.ctx, sample.Patron{Surname: "Babbage", Firstname: "Bob", Phone: "555-0100"})
	must(t, err)
	f.hobbit, err = f.site.AddTitle(f.ctx, "The Hobbit", "Tolkien, J. R. R.", sample.ItemType)
	must(t, err)
	f.dune, err = f.site.AddTitle(f.ctx, "Dune", "Herbert, Frank", sample.DVDItemType)
	must(t, err)
	f.adaLoan, err = f.site.AddCheckout(f.ctx, f.ada, f.hobbit.Itemnumber)
	must(t, err)
	f.bobLoan, err = f.site.AddCheckout(f.ctx, f.bob, f.dune.Itemnumber)
	must(t, err)
	f.adaHold, err = f.site.AddHold(f.ctx, f.ada, f.dune.Biblionumber, f.dune.Itemnumber, sample.BranchLibrary)
	must(t, err)

	f.service = noticeservice.Start("koha", "s3cret")
	t.Cleanup(f.service.Close)

	schema, err := kohadb.ReadSchema(f.ctx, f.db.DB)
	must(t, err)
	must(t, queue.Migrate(f.ctx, f.db.DB))
	q, err := queue.New(queue.Config{DB: f.db.DB, Lease: time.Minute})
	must(t, err)
	client, err := delivery.New(delivery.Config{AuthURL: f.service.TokenURL(), ClientID: "koha", ClientSecret: "s3cret",
		NoticeURL: f.service.NoticeURL(), CustomerID: "cust-42"})
	must(t, err)
	t.Cleanup(client.Close)
	f.config = pass.Config{
		DB: f.db.DB, Schema: schema, Queue: q, Deliverer: client,
		Retry:  retry.Policy{Schedule: []time.Duration{time.Millisecond, time.Millisecond}, Jitter: -1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	}
	for _, e := range edit {
		e(&f.config)
	}
	return f
}

// run makes one pass with opts and fails the test on error.
func (f *fixture) run(opts pass.Options) *pass.Summary {
	f.t.Helper()
	r, err := pass.New(f.config)
	must(f.t, err)
	s, err := r.Run(f.ctx, opts)
	must(f.t, err)
	return s
}

// enqueue queues a notice for patron with content.
func (f *fixture) enqueue(patron int64, letter, transport, content string) int64 {
	f.t.Helper()
	id, err := f.site.Enqueue(f.ctx, sample.Message{Borrowernumber: patron, LetterCode: letter, Transport: transport, Content: content})
	must(f.t, err)
	return id
}

// status returns message_queue.status and failure_code of a message.
func (f *fixture) status(id int64) (string, sql.NullString) {
	f.t.Helper()
	var status string
	var code sql.NullString
	must(f.t, f.db.DB.QueryRowContext(f.ctx, `SELECT status, failure_code FROM message_queue WHERE message_id = ?`, id).Scan(&status, &code))
	return status, code
}

// received returns the POSTs for message id.
func (f *fixture) received(id int64) []*noticeservice.Received {
	var out []*noticeservice.Received
	for _, r := range f.service.Received() {
		if r.MessageID == id {
			out = append(out, r)
		}
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
