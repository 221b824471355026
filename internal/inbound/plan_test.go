package inbound

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func text(s string) *string { return &s }

func TestPlanChange(t *testing.T) {
	t.Parallel()
	stored := func(status, delivery string) storedMessage {
		return storedMessage{id: 7, status: status, deliveryState: delivery,
			subject: sql.NullString{String: "Hold ready", Valid: true}, content: sql.NullString{String: "Body", Valid: true}}
	}
	tests := []struct {
		name         string
		msg          storedMessage
		rep          report
		wantConflict bool
		wantStatus   string
		wantCode     string // "" for failure_code left alone
		wantEmpty    bool
	}{
		{"sent repeated", stored("sent", "sent"), report{status: "sent"}, false, "sent", "", true},
		{"sent to failed", stored("sent", "sent"), report{status: "failed"}, false, "failed", "WEBHOOK_RECEIVER_FAILED", false},
		{"failed with reason", stored("sent", "sent"), report{status: "failed", reason: "bounced"}, false, "failed", "WEBHOOK_RECEIVER_FAILED: bounced", false},
		{"failed repeated", stored("failed", "sent"), report{status: "failed", reason: "other"}, false, "failed", "", true},
		{"failed to sent", stored("failed", "sent"), report{status: "sent"}, true, "", "", false},
		{"same subject", stored("sent", "sent"), report{status: "sent", subject: text("Hold ready")}, false, "sent", "", true},
		{"new content", stored("sent", "sent"), report{route: "content", content: text("New")}, false, "sent", "", false},
		{"content on failed", stored("failed", "sent"), report{route: "content", content: text("New")}, false, "failed", "", false},
		{"no delivery row", stored("sent", ""), report{status: "sent"}, true, "", "", false},
		{"in progress", stored("deleted", "in_progress"), report{status: "sent"}, true, "", "", false},
		{"retry", stored("deleted", "retry"), report{status: "failed"}, true, "", "", false},
		{"skipped", stored("deleted", "skipped"), report{status: "sent"}, true, "", "", false},
		{"failed by koha-webhooks", stored("failed", "failed"), report{status: "failed"}, true, "", "", false},
		{"queued again", stored("pending", "sent"), report{status: "sent"}, true, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch, err := planChange(tt.msg, tt.rep)
			var rejected *requestError
			if tt.wantConflict {
				if !errors.As(err, &rejected) || rejected.status != http.StatusConflict {
					t.Fatalf("planChange() error = %v, want 409", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("planChange() error = %v", err)
			}
			if ch.newStatus != tt.wantStatus {
				t.Errorf("newStatus = %q, want %q", ch.newStatus, tt.wantStatus)
			}
			gotCode := ""
			if ch.failureCode != nil {
				gotCode = *ch.failureCode
			}
			if gotCode != tt.wantCode {
				t.Errorf("failureCode = %q, want %q", gotCode, tt.wantCode)
			}
			if ch.empty() != tt.wantEmpty {
				t.Errorf("empty() = %v, want %v", ch.empty(), tt.wantEmpty)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"a\xffb", 10, "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestRejectionLogLimitsRepeats(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	log := newRejectionLog(slog.New(slog.NewTextHandler(&out, nil)), func() time.Time { return now })

	for range 5 {
		log.Record("basic", "wrong password")
	}
	log.Record("bearer", "unknown token")
	now = now.Add(rejectionLogInterval)
	log.Record("basic", "wrong password")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[2], "suppressed_since_last=4") {
		t.Errorf("last line = %q, want suppressed_since_last=4", lines[2])
	}
}
