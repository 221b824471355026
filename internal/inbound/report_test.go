package inbound_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

func TestReportRejected(t *testing.T) {
	f := setup(t)
	alice := basic("alice", "alice-pass")
	f.staff("alice", "alice-pass", flagSuperlibrarian)
	delivered := f.delivered()
	pending := f.pending()
	retrying := f.deliverAs(queue.StateRetry)
	failedByUs := f.deliverAs(queue.StateFailed)
	requeued := f.delivered()
	f.exec(`UPDATE message_queue SET status = 'pending' WHERE message_id = ?`, requeued)

	tests := []struct {
		name   string
		target string
		want   int
		words  string // part of the error message
	}{
		{"unknown message", f.reportURL(999999, "status", "status", "sent"), http.StatusNotFound, "does not exist"},
		{"unknown message content", f.reportURL(999999, "content", "content", "text"), http.StatusNotFound, "does not exist"},
		{"non-numeric id", f.reportURL("abc", "status", "status", "sent"), http.StatusBadRequest, "message_id"},
		{"zero id", f.reportURL(0, "status", "status", "sent"), http.StatusBadRequest, "message_id"},
		{"missing status", f.reportURL(delivered, "status"), http.StatusBadRequest, "status is missing"},
		{"unknown status", f.reportURL(delivered, "status", "status", "delivered"), http.StatusBadRequest, "invalid"},
		{"uppercase status", f.reportURL(delivered, "status", "status", "SENT"), http.StatusBadRequest, "invalid"},
		{"reason with sent", f.reportURL(delivered, "status", "status", "sent", "reason", "why"), http.StatusBadRequest, "reason"},
		{"reason with line break", f.reportURL(delivered, "status", "status", "failed", "reason", "a\nb"), http.StatusBadRequest, "reason"},
		{"reason too long", f.reportURL(delivered, "status", "status", "failed", "reason", strings.Repeat("x", 501)), http.StatusBadRequest, "maximum"},
		{"content missing", f.reportURL(delivered, "content", "subject", "Hi"), http.StatusBadRequest, "content is missing"},
		{"content empty", f.reportURL(delivered, "content", "content", ""), http.StatusBadRequest, "content is missing"},
		{"not delivered", f.reportURL(pending, "status", "status", "sent"), http.StatusConflict, "not delivered by koha-webhooks"},
		{"not delivered content", f.reportURL(pending, "content", "content", "text"), http.StatusConflict, "not delivered by koha-webhooks"},
		{"retry pending", f.reportURL(retrying, "status", "status", "failed"), http.StatusConflict, "still being delivered"},
		{"delivery failed", f.reportURL(failedByUs, "status", "status", "sent"), http.StatusConflict, "delivery state failed"},
		{"queued again", f.reportURL(requeued, "status", "status", "failed"), http.StatusConflict, "queued again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.post(tt.target, alice)
			if resp.StatusCode != tt.want {
				t.Fatalf("status code = %d, want %d", resp.StatusCode, tt.want)
			}
			if message := errorBody(t, resp); !strings.Contains(message, tt.words) {
				t.Errorf("error = %q, want it to contain %q", message, tt.words)
			}
		})
	}

	resp, err := f.server.Client().Get(f.reportURL(delivered, "status", "status", "sent"))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status code = %d, want 405", resp.StatusCode)
	}

	for _, id := range []int64{delivered, pending, retrying, failedByUs, requeued} {
		if audit := f.audit(id); len(audit) != 0 {
			t.Errorf("message %d: audit rows = %d, want 0", id, len(audit))
		}
	}
	if m := f.message(pending); m.status != "pending" {
		t.Errorf("pending message status = %q, want pending", m.status)
	}
	if m := f.message(retrying); m.status != "deleted" {
		t.Errorf("retrying message status = %q, want deleted", m.status)
	}
}

func TestStatusTransitions(t *testing.T) {
	f := setup(t)
	alice := f.staff("alice", "alice-pass", flagSuperlibrarian)
	auth := basic("alice", "alice-pass")
	id := f.delivered()
	before := f.message(id)

	steps := []struct {
		name        string
		params      []string
		want        int
		wantStatus  string
		wantCode    string
		wantAudited int
	}{
		{"repeated sent", []string{"status", "sent"}, http.StatusNoContent, "sent", "", 0},
		{"sent to failed", []string{"status", "failed", "reason", "mailbox full"}, http.StatusNoContent, "failed", "WEBHOOK_RECEIVER_FAILED: mailbox full", 1},
		{"repeated failed", []string{"status", "failed", "reason", "another reason"}, http.StatusNoContent, "failed", "WEBHOOK_RECEIVER_FAILED: mailbox full", 1},
		{"failed to sent", []string{"status", "sent"}, http.StatusConflict, "failed", "WEBHOOK_RECEIVER_FAILED: mailbox full", 1},
	}
	for _, step := range steps {
		resp := f.post(f.reportURL(id, "status", step.params...), auth, "X-Forwarded-For", "203.0.113.7")
		if resp.StatusCode != step.want {
			t.Fatalf("%s: status code = %d, want %d", step.name, resp.StatusCode, step.want)
		}
		m := f.message(id)
		if m.status != step.wantStatus {
			t.Errorf("%s: status = %q, want %q", step.name, m.status, step.wantStatus)
		}
		if m.failureCode != step.wantCode {
			t.Errorf("%s: failure_code = %q, want %q", step.name, m.failureCode, step.wantCode)
		}
		if m.subject != before.subject || m.content != before.content {
			t.Errorf("%s: subject or content changed without being reported", step.name)
		}
		if got := len(f.audit(id)); got != step.wantAudited {
			t.Errorf("%s: audit rows = %d, want %d", step.name, got, step.wantAudited)
		}
	}

	audit := f.audit(id)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %d, want 1", len(audit))
	}
	want := auditRow{route: "status", oldStatus: "sent", newStatus: "failed", failureCode: "WEBHOOK_RECEIVER_FAILED: mailbox full",
		caller: "staff:alice", remoteAddr: "127.0.0.1", forwardedFor: "203.0.113.7"}
	got := audit[0]
	if got.route != want.route || got.oldStatus != want.oldStatus || got.newStatus != want.newStatus || got.failureCode != want.failureCode {
		t.Errorf("audit change = %s %s→%s %q, want %s %s→%s %q", got.route, got.oldStatus, got.newStatus, got.failureCode,
			want.route, want.oldStatus, want.newStatus, want.failureCode)
	}
	if got.caller != want.caller {
		t.Errorf("audit caller = %q, want %q", got.caller, want.caller)
	}
	if got.callerBorrowernumber.Int64 != alice {
		t.Errorf("audit caller_borrowernumber = %v, want %d", got.callerBorrowernumber, alice)
	}
	if got.remoteAddr != want.remoteAddr {
		t.Errorf("audit remote_addr = %q, want %q", got.remoteAddr, want.remoteAddr)
	}
	if got.forwardedFor != want.forwardedFor {
		t.Errorf("audit forwarded_for = %q, want %q", got.forwardedFor, want.forwardedFor)
	}
	if got.subjectChanged || got.contentChanged {
		t.Errorf("audit subject_changed = %v, content_changed = %v, want both false", got.subjectChanged, got.contentChanged)
	}
	if got.createdAt == "" {
		t.Error("audit created_at is empty")
	}
}

func TestFailedWithoutReason(t *testing.T) {
	f := setup(t)
	id := f.delivered()
	if got := f.post(f.reportURL(id, "status", "status", "failed"), bearer(staticToken)).StatusCode; got != http.StatusNoContent {
		t.Fatalf("status code = %d, want 204", got)
	}
	if m := f.message(id); m.failureCode != "WEBHOOK_RECEIVER_FAILED" {
		t.Errorf("failure_code = %q, want WEBHOOK_RECEIVER_FAILED", m.failureCode)
	}
	audit := f.audit(id)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %d, want 1", len(audit))
	}
	if audit[0].caller != "token:#2" {
		t.Errorf("caller = %q, want token:#2", audit[0].caller)
	}
	if audit[0].callerBorrowernumber.Valid {
		t.Errorf("caller_borrowernumber = %d, want NULL for a static token", audit[0].callerBorrowernumber.Int64)
	}
}

func TestContentReports(t *testing.T) {
	f := setup(t)
	auth := bearer(staticToken)
	id := f.delivered()

	tests := []struct {
		name           string
		route          string
		params         []string
		wantSubject    string
		wantContent    string
		wantStatus     string
		wantAudited    int
		subjectChanged bool
		contentChanged bool
	}{
		{"content only", "content", []string{"content", "Your hold is ready."}, "Hold ready", "Your hold is ready.", "sent", 1, false, true},
		{"same content", "content", []string{"content", "Your hold is ready."}, "Hold ready", "Your hold is ready.", "sent", 1, false, false},
		{"content and subject", "content", []string{"content", "Pick it up by Friday.", "subject", "Hold waiting"}, "Hold waiting", "Pick it up by Friday.", "sent", 2, true, true},
		{"subject with status", "status", []string{"status", "sent", "subject", "Hold waiting at MPL"}, "Hold waiting at MPL", "Pick it up by Friday.", "sent", 3, true, false},
		{"content with failure", "status", []string{"status", "failed", "content", "Bounced text"}, "Hold waiting at MPL", "Bounced text", "failed", 4, false, true},
		{"content after failure", "content", []string{"content", "Final text"}, "Hold waiting at MPL", "Final text", "failed", 5, false, true},
	}
	for _, tt := range tests {
		resp := f.post(f.reportURL(id, tt.route, tt.params...), auth)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: status code = %d, want 204", tt.name, resp.StatusCode)
		}
		m := f.message(id)
		if m.subject != tt.wantSubject {
			t.Errorf("%s: subject = %q, want %q", tt.name, m.subject, tt.wantSubject)
		}
		if m.content != tt.wantContent {
			t.Errorf("%s: content = %q, want %q", tt.name, m.content, tt.wantContent)
		}
		if m.status != tt.wantStatus {
			t.Errorf("%s: status = %q, want %q", tt.name, m.status, tt.wantStatus)
		}
		audit := f.audit(id)
		if len(audit) != tt.wantAudited {
			t.Fatalf("%s: audit rows = %d, want %d", tt.name, len(audit), tt.wantAudited)
		}
		last := audit[len(audit)-1]
		if tt.name == "same content" {
			continue
		}
		if last.route != tt.route {
			t.Errorf("%s: audit route = %q, want %q", tt.name, last.route, tt.route)
		}
		if last.subjectChanged != tt.subjectChanged || last.contentChanged != tt.contentChanged {
			t.Errorf("%s: audit subject_changed = %v, content_changed = %v, want %v, %v", tt.name,
				last.subjectChanged, last.contentChanged, tt.subjectChanged, tt.contentChanged)
		}
		if tt.contentChanged && last.contentLength.Int64 != int64(len(tt.wantContent)) {
			t.Errorf("%s: audit content_length = %v, want %d", tt.name, last.contentLength, len(tt.wantContent))
		}
		if !tt.contentChanged && last.contentLength.Valid {
			t.Errorf("%s: audit content_length = %d, want NULL", tt.name, last.contentLength.Int64)
		}
	}
}

func TestConcurrentFailures(t *testing.T) {
	f := setup(t)
	id := f.delivered()
	reasons := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"}
	codes := make([]int, len(reasons))

	var wg sync.WaitGroup
	for i, reason := range reasons {
		target := f.reportURL(id, "status", "status", "failed", "reason", reason)
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, target, nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", bearer(staticToken))
			resp, err := f.server.Client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()

	for i, code := range codes {
		if code != http.StatusNoContent {
			t.Errorf("report %s: status code = %d, want 204", reasons[i], code)
		}
	}
	audit := f.audit(id)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %d, want exactly 1", len(audit))
	}
	if m := f.message(id); m.failureCode != audit[0].failureCode {
		t.Errorf("failure_code = %q, audit has %q", m.failureCode, audit[0].failureCode)
	}
}
