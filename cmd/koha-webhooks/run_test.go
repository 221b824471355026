package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	valid := map[string]string{
		"KOHA_DB_DSN": "koha:pw@tcp(127.0.0.1:1)/koha_lib", "WEBHOOK_AUTH_URL": "http://127.0.0.1:1/token",
		"WEBHOOK_CLIENT_ID": "id", "WEBHOOK_CLIENT_SECRET": "topsecret", "WEBHOOK_NOTICE_URL": "http://127.0.0.1:1/notices",
	}
	cases := []struct {
		name, key, value, want string
	}{
		{"missing notice url", "WEBHOOK_NOTICE_URL", "", "setting notice_url is missing; set WEBHOOK_NOTICE_URL"},
		{"bad auth url", "WEBHOOK_AUTH_URL", "ftp://x", "WEBHOOK_AUTH_URL"},
		{"missing secret", "WEBHOOK_CLIENT_SECRET", "", "WEBHOOK_CLIENT_SECRET"},
		{"missing dsn", "KOHA_DB_DSN", "", "KOHA_DB_DSN"},
		{"malformed dsn", "KOHA_DB_DSN", "koha:pw@127.0.0.1/x", "KOHA_DB_DSN is invalid"},
		{"bad format", "WEBHOOK_PAYLOAD_FORMAT", "tiny", "WEBHOOK_PAYLOAD_FORMAT"},
		{"bad schedule", "WEBHOOK_RETRY_SCHEDULE", "5s,soon", "WEBHOOK_RETRY_SCHEDULE"},
		{"bad lease", "WEBHOOK_LEASE", "10ms", "WEBHOOK_LEASE"},
		{"unreachable database", "KOHA_DB_DSN", "koha:pw@tcp(127.0.0.1:1)/koha_lib", "cannot connect to database \"koha_lib\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range valid {
				env[k] = v
			}
			env[c.key] = c.value
			var stdout, stderr bytes.Buffer
			code := runMain([]string{"run"}, &stdout, &stderr, envOf(env))
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "topsecret") || strings.Contains(stderr.String(), ":pw@") {
				t.Errorf("stderr reveals a secret: %q", stderr.String())
			}
		})
	}
}

func TestRunHelpListsEnvironment(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"run", "--help"}, &stdout, &stderr, envOf(nil)); code != exitOK {
		t.Fatalf("exit code = %d", code)
	}
	for _, want := range []string{"-type", "-letter-code", "-message-id", "-limit", "-v", "KOHA_DB_DSN", "WEBHOOK_NOTICE_URL", "WEBHOOK_SKIP_OVERDUE_CALLS"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestRunCommandEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := kohatest.NewDB(t)
	site := &sample.Site{DB: db.DB}
	if err := site.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	patron, _ := site.AddPatron(ctx, sample.Patron{Surname: "Hopper", Email: "grace@example.org"})
	title, _ := site.AddTitle(ctx, "Compilers", "Aho", sample.ItemType)
	hold, err := site.AddHold(ctx, patron, title.Biblionumber, 0, sample.MainLibrary)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "HOLD", Transport: "sms", Content: fmt.Sprintf("webhook: yes\nhold: %d\n", hold)})
	other, _ := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "HOLD", Transport: "email", Content: fmt.Sprintf("webhook: yes\nhold: %d\n", hold)})

	svc := noticeservice.Start("koha", "topsecret")
	defer svc.Close()
	env := map[string]string{
		"KOHA_DB_DSN": db.DSN(), "WEBHOOK_AUTH_URL": svc.TokenURL(), "WEBHOOK_CLIENT_ID": "koha",
		"WEBHOOK_CLIENT_SECRET": "topsecret", "WEBHOOK_NOTICE_URL": svc.NoticeURL(), "WEBHOOK_ARCHIVE_PATH": t.TempDir(),
	}
	var stdout, stderr bytes.Buffer
	code := runMain([]string{"run", "--type", "sms", "-v", "--where", "1=1; DROP TABLE borrowers"}, &stdout, &stderr, envOf(env))
	if code != exitOK {
		t.Fatalf("exit code = %d, stderr:\n%s", code, stderr.String())
	}
	var status string
	db.DB.QueryRow(`SELECT status FROM message_queue WHERE message_id = ?`, id).Scan(&status)
	if status != "sent" {
		t.Errorf("sms notice = %s, want sent", status)
	}
	db.DB.QueryRow(`SELECT status FROM message_queue WHERE message_id = ?`, other).Scan(&status)
	if status != "pending" {
		t.Errorf("email notice = %s, want pending (filtered out by --type sms)", status)
	}
	log := stderr.String()
	for _, want := range []string{"pass finished", "sent=1", "--where is ignored"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "topsecret") || strings.Contains(log, "Hopper") || strings.Contains(log, "grace@") {
		t.Errorf("log reveals a secret or patron data:\n%s", log)
	}

	code = runMain([]string{"run", "--type", "skip_webhook"}, &stdout, &stderr, envOf(env))
	db.DB.QueryRow(`SELECT status FROM message_queue WHERE message_id = ?`, other).Scan(&status)
	if code != exitOK || status != "pending" {
		t.Errorf("skip_webhook: exit %d, email notice %s", code, status)
	}
}
