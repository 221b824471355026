package pass_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/pass"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

// decode parses a received payload.
func decode(t *testing.T, r *noticeservice.Received) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, r.Body)
	}
	return m
}

func TestRunDeliversHoldNotice(t *testing.T) {
	f := setup(t)
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\r\npatron: %d\r\nhold: %d\r\n", f.ada, f.adaHold))

	s := f.run(pass.Options{})

	if s.Sent != 1 || s.Failed != 0 {
		t.Fatalf("summary sent=%d failed=%d, want 1 and 0", s.Sent, s.Failed)
	}
	status, code := f.status(id)
	if status != "sent" || code.Valid {
		t.Errorf("message_queue = %s %v, want sent with NULL failure_code", status, code)
	}
	got := f.received(id)
	if len(got) != 1 {
		t.Fatalf("receiver got %d POSTs for the notice, want 1", len(got))
	}
	h := got[0].Header
	if !strings.HasPrefix(h.Get("Authorization"), "Bearer token-") {
		t.Errorf("Authorization = %q", h.Get("Authorization"))
	}
	if h.Get("Content-Type") != "application/json" || h.Get("customer-id") != "cust-42" {
		t.Errorf("Content-Type %q customer-id %q", h.Get("Content-Type"), h.Get("customer-id"))
	}
	if h.Get("Idempotency-Key") == "" || !strings.HasPrefix(h.Get("User-Agent"), "koha-webhooks/") {
		t.Errorf("Idempotency-Key %q User-Agent %q", h.Get("Idempotency-Key"), h.Get("User-Agent"))
	}

	p := decode(t, got[0])
	holds := p["holds"].([]any)
	if len(holds) != 1 {
		t.Fatalf("holds = %v", holds)
	}
	hold := holds[0].(map[string]any)
	if hold["hold"].(map[string]any)["reserve_id"] != float64(f.adaHold) {
		t.Errorf("hold.reserve_id = %v, want %d (a JSON number)", hold["hold"].(map[string]any)["reserve_id"], f.adaHold)
	}
	if hold["pickup_library"].(map[string]any)["branchcode"] != "FPL" {
		t.Errorf("pickup_library = %v", hold["pickup_library"])
	}
	if hold["itemtype"].(map[string]any)["itemtype"] != "DVD" {
		t.Errorf("itemtype = %v", hold["itemtype"])
	}
	if hold["biblio"].(map[string]any)["title"] != "Dune" {
		t.Errorf("biblio = %v", hold["biblio"])
	}
	if p["patron"].(map[string]any)["borrowernumber"] != float64(f.ada) {
		t.Errorf("patron = %v", p["patron"])
	}
}

func TestRunPayloadLeavesOutSecrets(t *testing.T) {
	f := setup(t)
	must(t, f.site.AddFine(f.ctx, f.ada, "3.25"))
	must(t, f.site.AddFine(f.ctx, f.ada, "-1.00"))
	id := f.enqueue(f.ada, "CHECKOUT", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d\nbiblio: %d\n", f.adaLoan, f.hobbit.Biblionumber))

	f.run(pass.Options{})

	got := f.received(id)
	if len(got) != 1 {
		t.Fatalf("got %d POSTs", len(got))
	}
	body := string(got[0].Body)
	for _, secret := range []string{`"password":`, `"secret"`, "borrowernotes", "abstract", "TOTPSECRET", "staff-only note", `"content"`, `"metadata"`, "overdrive_auth_token"} {
		if strings.Contains(body, secret) {
			t.Errorf("payload contains %s", secret)
		}
	}
	p := decode(t, got[0])
	if bal := p["patron"].(map[string]any)["account_balance"]; bal != 2.25 {
		t.Errorf("account_balance = %v, want 2.25", bal)
	}
	co := p["checkouts"].([]any)[0].(map[string]any)
	if due, _ := co["checkout"].(map[string]any)["date_due"].(string); len(due) != len("2006-01-02 15:04:05") {
		t.Errorf("date_due = %q, want YYYY-MM-DD HH:MM:SS", due)
	}
	if co["item"].(map[string]any)["price"] != 12.5 {
		t.Errorf("item.price = %v, want the number 12.5", co["item"].(map[string]any)["price"])
	}
	if co["library"].(map[string]any)["branchcode"] != "MPL" || p["library"].(map[string]any)["branchcode"] != "MPL" {
		t.Errorf("library = %v / %v", co["library"], p["library"])
	}
	if p["biblio"].(map[string]any)["biblionumber"] != float64(f.hobbit.Biblionumber) {
		t.Errorf("biblio = %v", p["biblio"])
	}
	msg := p["message"].(map[string]any)
	if msg["letter_code"] != "CHECKOUT" || msg["message_id"] != float64(id) {
		t.Errorf("message = %v", msg)
	}
}

func TestRunMergesDigestIntoOnePost(t *testing.T) {
	f := setup(t)
	third, err := f.site.AddTitle(f.ctx, "Ворона и лисица 🦊", "Крылов", "BK")
	must(t, err)
	loan3, err := f.site.AddCheckout(f.ctx, f.ada, third.Itemnumber)
	must(t, err)
	content := fmt.Sprintf("webhook: yes\ncheckouts:\n----\n%d, # The Hobbit\n----\n%d, # Ворона и лисица: басня\n----\n", f.adaLoan, loan3)
	id := f.enqueue(f.ada, "DUEDGST", "email", content)

	f.run(pass.Options{})

	got := f.received(id)
	if len(got) != 1 {
		t.Fatalf("got %d POSTs, want exactly 1 for a digest", len(got))
	}
	checkouts := decode(t, got[0])["checkouts"].([]any)
	if len(checkouts) != 2 {
		t.Fatalf("checkouts = %d, want 2", len(checkouts))
	}
	title := checkouts[1].(map[string]any)["biblio"].(map[string]any)["title"]
	if title != "Ворона и лисица 🦊" {
		t.Errorf("second title = %q", title)
	}
}

func TestRunFindsReturnedAndCancelled(t *testing.T) {
	f := setup(t)
	must(t, f.site.ReturnCheckout(f.ctx, f.adaLoan))
	must(t, f.site.CancelHold(f.ctx, f.adaHold, "NOT_FOUND"))
	checkin := f.enqueue(f.ada, "CHECKIN", "email", fmt.Sprintf("webhook: yes\nold_checkouts: %d\n", f.adaLoan))
	cancelled := f.enqueue(f.ada, "HOLD_CANCELLATION", "sms", fmt.Sprintf("webhook: yes\nold_hold: %d\n", f.adaHold))

	s := f.run(pass.Options{})
	if s.Sent != 2 {
		t.Fatalf("sent = %d, want 2", s.Sent)
	}

	co := decode(t, f.received(checkin)[0])["checkouts"].([]any)[0].(map[string]any)
	if co["checkout"].(map[string]any)["returndate"] == nil {
		t.Errorf("returned checkout has no returndate: %v", co["checkout"])
	}
	hold := decode(t, f.received(cancelled)[0])["holds"].([]any)[0].(map[string]any)
	desc := hold["hold"].(map[string]any)["cancellation_reason_description"]
	if desc != "Item could not be located on shelves" {
		t.Errorf("cancellation_reason_description = %v", desc)
	}
	compat, ok := hold["holds"].([]any)
	if !ok || len(compat) != 1 || compat[0].(map[string]any)["reserve_id"] != float64(f.adaHold) {
		t.Errorf("old hold entry lacks holds: [hold]: %v", hold["holds"])
	}
}

func TestRunLeavesOtherNoticesPending(t *testing.T) {
	f := setup(t)
	ids := []int64{
		f.enqueue(f.ada, "NEWSLETTER", "email", "<html><p>Our new webhook integration is live!</p></html>"),
		f.enqueue(f.ada, "ODDITY", "email", "webhook: yesterday\npatron: 1\n"),
		f.enqueue(f.ada, "MEMO", "email", "Dear Ada, webhook: yes is how staff enable the feature."),
	}
	s := f.run(pass.Options{})

	if s.Claimed != 0 || s.NotWebhook != 3 {
		t.Errorf("claimed %d not_webhook %d, want 0 and 3", s.Claimed, s.NotWebhook)
	}
	for _, id := range ids {
		if status, code := f.status(id); status != "pending" || code.String != "" {
			t.Errorf("message %d = %s %q, want pending and untouched", id, status, code.String)
		}
	}
	if n := len(f.service.Received()); n != 0 {
		t.Errorf("receiver got %d POSTs", n)
	}
}

func TestRunFailsBrokenYAML(t *testing.T) {
	f := setup(t)
	id := f.enqueue(f.ada, "DUE", "email", "---\nwebhook: yes\ncheckouts: [1, 2\n")

	f.run(pass.Options{})

	status, code := f.status(id)
	if status != "failed" || !strings.HasPrefix(code.String, "WEBHOOK_PARSE_ERROR: ") {
		t.Errorf("message = %s %q, want failed WEBHOOK_PARSE_ERROR", status, code.String)
	}
}

func TestRunFailsMissingRecords(t *testing.T) {
	f := setup(t)
	id := f.enqueue(f.ada, "DUE", "email", "webhook: yes\ncheckouts: 999001, 999002\n")
	empty := f.enqueue(f.ada, "PREDUEDGST", "email", "webhook: yes\ncheckouts:\n")
	welcome := f.enqueue(f.ada, "WELCOME", "email", "webhook: yes\n")

	f.run(pass.Options{})

	status, code := f.status(id)
	if status != "failed" || !strings.Contains(code.String, "WEBHOOK_NO_DATA") || !strings.Contains(code.String, "checkout 999002") {
		t.Errorf("missing ids: %s %q", status, code.String)
	}
	if status, code := f.status(empty); status != "failed" || !strings.HasPrefix(code.String, "WEBHOOK_NO_DATA") {
		t.Errorf("empty list on PREDUEDGST: %s %q", status, code.String)
	}
	if status, _ := f.status(welcome); status != "sent" {
		t.Errorf("patron-only WELCOME = %s, want sent", status)
	}
}

func TestRunDropsOtherPatronsLoans(t *testing.T) {
	f := setup(t)
	id := f.enqueue(f.ada, "DUEDGST", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d, %d\n", f.adaLoan, f.bobLoan))

	f.run(pass.Options{})

	got := f.received(id)
	if len(got) != 1 {
		t.Fatalf("got %d POSTs", len(got))
	}
	checkouts := decode(t, got[0])["checkouts"].([]any)
	if len(checkouts) != 1 {
		t.Fatalf("checkouts = %d, want only Ada's", len(checkouts))
	}
	if strings.Contains(string(got[0].Body), "Babbage") {
		t.Error("payload contains the other patron's data")
	}
}

func TestRunNeverPicksAnonymousPatron(t *testing.T) {
	f := setup(t)
	_, err := f.db.DB.ExecContext(f.ctx, `UPDATE systempreferences SET value = ? WHERE variable = 'AnonymousPatron'`, f.bob)
	must(t, err)
	must(t, f.site.ReturnCheckout(f.ctx, f.bobLoan))
	_, err = f.db.DB.ExecContext(f.ctx, `UPDATE old_issues SET borrowernumber = ? WHERE issue_id = ?`, f.bob, f.bobLoan)
	must(t, err)
	id := f.enqueue(f.ada, "CHECKIN", "email", fmt.Sprintf("webhook: yes\nold_checkout: %d\n", f.bobLoan))

	f.run(pass.Options{})

	p := decode(t, f.received(id)[0])
	if p["patron"].(map[string]any)["borrowernumber"] != float64(f.ada) {
		t.Errorf("patron = %v, want the message's recipient", p["patron"].(map[string]any)["borrowernumber"])
	}
	if len(p["checkouts"].([]any)) != 1 {
		t.Error("anonymised loan was dropped")
	}
}

func TestRunPermanentFailure(t *testing.T) {
	f := setup(t)
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply { return noticeservice.Reply{Status: 400} }
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	f.run(pass.Options{})

	status, code := f.status(id)
	if status != "failed" || !strings.HasPrefix(code.String, "WEBHOOK_FAILED: ") || !strings.Contains(code.String, "400") {
		t.Errorf("message = %s %q, want failed WEBHOOK_FAILED naming 400", status, code.String)
	}
	if n := len(f.received(id)); n != 1 {
		t.Errorf("POSTs = %d, want 1 (no retry for a 400)", n)
	}
}

func TestRunRetriesServerError(t *testing.T) {
	f := setup(t)
	f.service.Respond = func(_ *noticeservice.Received, attempt int) noticeservice.Reply {
		if attempt == 1 {
			return noticeservice.Reply{Status: 503}
		}
		return noticeservice.Reply{}
	}
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	first := f.run(pass.Options{})
	status, code := f.status(id)
	if first.Retry != 1 || status != "deleted" || !strings.HasPrefix(code.String, "WEBHOOK_RETRY: attempt 1 of 3, next at ") {
		t.Fatalf("after 503: retry=%d message = %s %q", first.Retry, status, code.String)
	}

	waitDue(t, f, id)
	second := f.run(pass.Options{})
	if second.Sent != 1 {
		t.Fatalf("second pass sent %d, want 1", second.Sent)
	}
	if status, _ := f.status(id); status != "sent" {
		t.Errorf("status = %s, want sent", status)
	}
	got := f.received(id)
	if len(got) != 2 || got[0].IdempotencyKey != got[1].IdempotencyKey {
		t.Fatalf("POSTs = %d; the retry must repeat the Idempotency-Key", len(got))
	}
	for i, r := range got {
		msg := decode(t, r)["message"].(map[string]any)
		if msg["status"] != "deleted" || msg["failure_code"] != "WEBHOOK_IN_PROGRESS" {
			t.Errorf("attempt %d: message status %v failure_code %v, want the same on every attempt", i+1, msg["status"], msg["failure_code"])
		}
	}
	var attempts int
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT attempts FROM koha_webhooks_deliveries WHERE message_id = ?`, id).Scan(&attempts))
	if attempts != 2 {
		t.Errorf("attempts = %d, want 2", attempts)
	}
}

// waitDue waits until the notice's retry time has passed by the database's
// clock of record (the schedule in these tests is 1ms).
func waitDue(t *testing.T, f *fixture, id int64) {
	t.Helper()
	var next sql.NullString
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT next_attempt_at FROM koha_webhooks_deliveries WHERE message_id = ?`, id).Scan(&next))
	if !next.Valid {
		return
	}
	at, err := time.Parse("2006-01-02 15:04:05.000000", next.String)
	must(t, err)
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
}

func TestRunGivesUpAfterSchedule(t *testing.T) {
	f := setup(t)
	f.service.Respond = func(*noticeservice.Received, int) noticeservice.Reply { return noticeservice.Reply{Status: 502} }
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	for range 3 {
		f.run(pass.Options{})
		waitDue(t, f, id)
	}
	status, code := f.status(id)
	if status != "failed" || !strings.HasPrefix(code.String, "WEBHOOK_FAILED: gave up after 3 attempts: ") {
		t.Errorf("message = %s %q", status, code.String)
	}
}

func TestRunTokenFailureSendsNothing(t *testing.T) {
	f := setup(t)
	f.service.FailTokens(http.StatusInternalServerError)
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	s := f.run(pass.Options{})
	status, code := f.status(id)
	if s.AuthFailed != 1 || status != "deleted" || !strings.HasPrefix(code.String, "WEBHOOK_AUTH_FAILED: ") {
		t.Fatalf("auth_failed=%d message = %s %q", s.AuthFailed, status, code.String)
	}
	if n := len(f.service.Received()); n != 0 {
		t.Fatalf("%d POSTs without a token", n)
	}
	var logged int
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM action_logs WHERE module = 'WEBHOOK_NOTIFICATIONS' AND action = 'OAUTH_FAILED'`).Scan(&logged))
	if logged != 1 {
		t.Errorf("OAUTH_FAILED rows = %d", logged)
	}

	f.service.FailTokens(0)
	waitDue(t, f, id)
	f.run(pass.Options{})
	if status, _ := f.status(id); status != "sent" {
		t.Errorf("after the token endpoint recovered: %s", status)
	}
}

func TestRunTestModeWritesNothing(t *testing.T) {
	dir := t.TempDir()
	f := setup(t, func(c *pass.Config) { c.TestMode = true; c.ArchiveDir = dir; c.Deliverer = nil })
	_, err := f.db.DB.ExecContext(f.ctx, `DROP TABLE koha_webhooks_deliveries, koha_webhooks_migrations`)
	must(t, err)
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	s := f.run(pass.Options{})

	if status, code := f.status(id); status != "pending" || code.String != "" {
		t.Errorf("message = %s %q, want untouched", status, code.String)
	}
	if s.Sent != 1 || s.ArchivePath == "" {
		t.Fatalf("summary sent=%d archive=%q", s.Sent, s.ArchivePath)
	}
	var archived struct {
		Version  string           `json:"json_structure_version"`
		Format   string           `json:"payload_format"`
		Messages []map[string]any `json:"messages"`
	}
	raw, err := os.ReadFile(s.ArchivePath)
	must(t, err)
	must(t, json.Unmarshal(raw, &archived))
	if archived.Version != "3" || archived.Format != "full" || len(archived.Messages) != 1 {
		t.Errorf("archive = %+v", archived)
	}
	if !strings.Contains(filepath.Base(s.ArchivePath), "-Notices-Midway_Public_Library.json") {
		t.Errorf("archive name = %s", filepath.Base(s.ArchivePath))
	}
	if _, err := os.Stat(strings.TrimSuffix(s.ArchivePath, ".json") + ".log"); err != nil {
		t.Errorf("pass log missing: %v", err)
	}
	var actions int
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM action_logs`).Scan(&actions))
	var tables int
	must(t, f.db.DB.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'koha\_webhooks%'`).Scan(&tables))
	if actions != 0 || tables != 0 {
		t.Errorf("test mode wrote %d action_logs rows and %d tables", actions, tables)
	}
	if n := len(f.service.Received()); n != 0 {
		t.Errorf("test mode POSTed %d notices", n)
	}
}

func TestRunSkipsOverduePhoneCall(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.SkipOverdueCalls = true })
	adaCall := f.enqueue(f.ada, "ODUE2", "phone", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", f.adaLoan))
	bobCall := f.enqueue(f.bob, "ODUE2", "phone", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", f.bobLoan))
	adaHoldCall := f.enqueue(f.ada, "HOLD", "phone", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	f.run(pass.Options{})

	if status, code := f.status(adaCall); status != "deleted" || code.String != "WEBHOOK_SKIPPED: patron has email or SMS" {
		t.Errorf("Ada's overdue call = %s %q, want skipped", status, code.String)
	}
	if status, _ := f.status(bobCall); status != "sent" {
		t.Errorf("Bob (phone only) = %s, want sent", status)
	}
	if status, _ := f.status(adaHoldCall); status != "sent" {
		t.Errorf("Ada's hold call = %s, want sent", status)
	}
}

func TestRunMinimalPayload(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.Payload = payload.Options{Format: payload.Minimal} })
	must(t, f.site.CancelHold(f.ctx, f.adaHold, ""))
	digest := f.enqueue(f.ada, "DUEDGST", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d\nlibrary: MPL\n", f.adaLoan))
	cancelled := f.enqueue(f.ada, "HOLD_CANCELLATION", "email", fmt.Sprintf("webhook: yes\nold_hold: %d\n", f.adaHold))

	f.run(pass.Options{})

	p := decode(t, f.received(digest)[0])
	want := map[string]any{"notice_type": "DUEDGST", "transport_type": "email", "message_id": float64(digest),
		"patron_id": float64(f.ada), "library_id": "MPL", "checkout_id": float64(f.adaLoan)}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %v, want %v", k, p[k], v)
		}
	}
	if h := decode(t, f.received(cancelled)[0]); h["hold_id"] != float64(f.adaHold) {
		t.Errorf("old hold's hold_id = %v, want %d", h["hold_id"], f.adaHold)
	}
}

func TestRunStringValues(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.Payload = payload.Options{StringValues: true} })
	id := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	f.run(pass.Options{})

	p := decode(t, f.received(id)[0])
	if v := p["message"].(map[string]any)["message_id"]; v != fmt.Sprint(id) {
		t.Errorf("message_id = %#v, want a string", v)
	}
	if v := p["patron"].(map[string]any)["account_balance"]; v != "0" {
		t.Errorf("account_balance = %#v, want \"0\"", v)
	}
}

func TestRunFilters(t *testing.T) {
	f := setup(t)
	email := f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
	sms := f.enqueue(f.ada, "HOLD", "sms", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
	due := f.enqueue(f.ada, "DUE", "sms", fmt.Sprintf("webhook: yes\ncheckout: %d\n", f.adaLoan))

	f.run(pass.Options{Skip: true})
	if n := len(f.service.Received()); n != 0 {
		t.Fatalf("skip pass POSTed %d", n)
	}
	f.run(pass.Options{Filter: queue.Filter{Types: []string{"sms"}, LetterCodes: []string{"HOLD"}}})
	if s, _ := f.status(sms); s != "sent" {
		t.Errorf("sms HOLD = %s", s)
	}
	for _, id := range []int64{email, due} {
		if s, _ := f.status(id); s != "pending" {
			t.Errorf("message %d = %s, want pending (filtered out)", id, s)
		}
	}
	f.run(pass.Options{Filter: queue.Filter{MessageID: due}})
	if s, _ := f.status(due); s != "sent" {
		t.Errorf("--message-id pass: %s", s)
	}
	f.run(pass.Options{Limit: 1})
	if s, _ := f.status(email); s != "sent" {
		t.Errorf("limit pass: %s", s)
	}
}

func TestRunWritesActionLogs(t *testing.T) {
	f := setup(t, func(c *pass.Config) { c.LogEveryPass = true })
	f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))

	f.run(pass.Options{})

	rows, err := f.db.DB.QueryContext(f.ctx, `SELECT action, interface, COALESCE(info, '') FROM action_logs WHERE module = 'WEBHOOK_NOTIFICATIONS' ORDER BY action_id`)
	must(t, err)
	defer rows.Close()
	var actions []string
	var info string
	for rows.Next() {
		var action, iface, i string
		must(t, rows.Scan(&action, &iface, &i))
		if iface != "cron" {
			t.Errorf("interface = %q", iface)
		}
		actions = append(actions, action)
		if action == "MESSAGES_PROCESSED" {
			info = i
		}
	}
	if strings.Join(actions, ",") != "STARTED,DONE,MESSAGES_PROCESSED" {
		t.Errorf("actions = %v", actions)
	}
	if !strings.Contains(info, `"HOLD":{"email":{"sent":1}}`) {
		t.Errorf("MESSAGES_PROCESSED info = %s", info)
	}
}
