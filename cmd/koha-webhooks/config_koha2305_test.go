package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// schema2305Env names Koha 23.05's kohastructure.sql; the default is the
// file kohastructure-23.05.sql beside the current schema.
const schema2305Env = "KOHA_SCHEMA_SQL_2305"

func schema2305Path(t *testing.T) string {
	t.Helper()
	if path := os.Getenv(schema2305Env); path != "" {
		return path
	}
	current, err := kohadb.SchemaPath()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(current), "kohastructure-23.05.sql")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Koha 23.05 schema not found at %s: set %s", path, schema2305Env)
	}
	return path
}

// TestRunOnKoha2305 runs a full pass, configured through the instance's
// koha-conf.xml and the settings stored in Koha, on the schema of Koha
// 23.05, which lacks message_queue.cc_address,
// reserves.deleted_biblionumber, borrowers.protected and items.bookable.
func TestRunOnKoha2305(t *testing.T) {
	t.Parallel()
	db := kohatest.NewDBWithSchema(t, schema2305Path(t))
	for _, missing := range [][2]string{{"message_queue", "cc_address"}, {"reserves", "deleted_biblionumber"},
		{"old_reserves", "deleted_biblionumber"}, {"borrowers", "protected"}, {"items", "bookable"}} {
		var n int
		db.DB.QueryRow(`SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?`,
			missing[0], missing[1]).Scan(&n)
		if n != 0 {
			t.Fatalf("%s.%s exists, so this is not the 23.05 schema", missing[0], missing[1])
		}
	}
	s := newKohaSiteOn(t, db, "")
	site, ctx := s.sample, s.ctx

	patron, err := site.AddPatron(ctx, sample.Patron{Surname: "Hamilton", Email: "margaret@example.org", SMS: "+15550100"})
	if err != nil {
		t.Fatal(err)
	}
	var titles []sample.Title
	for _, name := range []string{"Apollo guidance", "Software reliability", "Priority displays"} {
		title, err := site.AddTitle(ctx, name, "Hamilton, M.", sample.ItemType)
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, title)
	}
	loan1, err := site.AddCheckout(ctx, patron, titles[0].Itemnumber)
	if err != nil {
		t.Fatal(err)
	}
	loan2, err := site.AddCheckout(ctx, patron, titles[1].Itemnumber)
	if err != nil {
		t.Fatal(err)
	}
	if err := site.ReturnCheckout(ctx, loan2); err != nil {
		t.Fatal(err)
	}
	hold, err := site.AddHold(ctx, patron, titles[2].Biblionumber, titles[2].Itemnumber, sample.BranchLibrary)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := site.AddHold(ctx, patron, titles[0].Biblionumber, 0, sample.MainLibrary)
	if err != nil {
		t.Fatal(err)
	}
	if err := site.CancelHold(ctx, cancelled, "NOT_FOUND"); err != nil {
		t.Fatal(err)
	}

	notices := map[string]string{
		"CHECKOUT":          fmt.Sprintf("webhook: yes\ncheckouts: %d, %d\n", loan1, loan2),
		"CHECKIN":           fmt.Sprintf("webhook: yes\nold_checkout: %d\n", loan2),
		"HOLD":              fmt.Sprintf("webhook: yes\nhold: %d\n", hold),
		"HOLD_CANCELLATION": fmt.Sprintf("webhook: yes\nold_hold: %d\n", cancelled),
	}
	ids := map[string]int64{}
	for letter, content := range notices {
		id, err := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: letter, Transport: "sms", Content: content})
		if err != nil {
			t.Fatal(err)
		}
		ids[letter] = id
	}

	svc := noticeservice.Start("koha-2305", "secret-2305")
	defer svc.Close()
	s.storeServiceSettings(svc)
	code, _, stderr := s.command(nil, "run", "--instance", siteInstance)
	if code != exitOK {
		t.Fatalf("run on 23.05: exit %d\n%s", code, stderr)
	}
	for letter, id := range ids {
		if status, failure := s.status(id); status != "sent" {
			t.Errorf("%s notice: status %s (%s), want sent\n%s", letter, status, failure, stderr)
		}
	}

	bodies := map[int64]map[string]json.RawMessage{}
	for _, r := range svc.Received() {
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		bodies[r.MessageID] = body
	}
	var checkouts []json.RawMessage
	json.Unmarshal(bodies[ids["CHECKOUT"]]["checkouts"], &checkouts)
	if len(checkouts) != 2 {
		t.Errorf("CHECKOUT payload has %d checkouts, want 2 (one current, one returned)", len(checkouts))
	}
	var holds []struct {
		Hold map[string]any `json:"hold"`
	}
	json.Unmarshal(bodies[ids["HOLD_CANCELLATION"]]["holds"], &holds)
	if len(holds) != 1 || holds[0].Hold["cancellation_reason_description"] != "Item could not be located on shelves" {
		t.Errorf("HOLD_CANCELLATION payload holds = %+v, want the cancelled hold with its reason", holds)
	}
	if _, ok := bodies[ids["HOLD"]]["holds"]; !ok {
		t.Error("HOLD payload has no holds")
	}
	if _, ok := bodies[ids["CHECKIN"]]["checkouts"]; !ok {
		t.Error("CHECKIN payload has no checkouts")
	}
}
