package sample_test

import (
	"context"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

func TestSiteBuildsEveryRecordKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := kohatest.NewDB(t)
	site := &sample.Site{DB: db.DB}
	if err := site.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	patron, err := site.AddPatron(ctx, sample.Patron{Surname: "Lovelace", Firstname: "Ada", Email: "ada@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	title, err := site.AddTitle(ctx, "The Hobbit", "Tolkien, J. R. R.", sample.ItemType)
	if err != nil {
		t.Fatal(err)
	}
	issue, err := site.AddCheckout(ctx, patron, title.Itemnumber)
	if err != nil {
		t.Fatal(err)
	}
	if err := site.ReturnCheckout(ctx, issue); err != nil {
		t.Fatal(err)
	}
	hold, err := site.AddHold(ctx, patron, title.Biblionumber, 0, sample.BranchLibrary)
	if err != nil {
		t.Fatal(err)
	}
	if err := site.CancelHold(ctx, hold, "NOT_FOUND"); err != nil {
		t.Fatal(err)
	}
	if err := site.AddFine(ctx, patron, "2.50"); err != nil {
		t.Fatal(err)
	}
	id, err := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "CHECKIN", Content: "webhook: yes\nold_checkout: 1\n"})
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 {
		t.Fatal("Enqueue returned message_id 0")
	}
}
