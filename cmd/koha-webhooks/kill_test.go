package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

func TestKilledPassLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := kohatest.NewDB(t)
	site := &sample.Site{DB: db.DB}
	if err := site.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	patron, _ := site.AddPatron(ctx, sample.Patron{Surname: "Killed"})
	title, _ := site.AddTitle(ctx, "Durability", "Haerder", sample.ItemType)
	hold, err := site.AddHold(ctx, patron, title.Biblionumber, 0, sample.MainLibrary)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for range n {
		if _, err := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "HOLD", Content: fmt.Sprintf("webhook: yes\nhold: %d\n", hold)}); err != nil {
			t.Fatal(err)
		}
	}

	svc := noticeservice.Start("koha", "s3cret")
	defer svc.Close()
	arrived := make(chan string, n)
	release := make(chan struct{})
	svc.Respond = func(r *noticeservice.Received, attempt int) noticeservice.Reply {
		if attempt == 1 {
			arrived <- r.IdempotencyKey
			<-release
		}
		return noticeservice.Reply{}
	}
	env := []string{childEnv + "=1", "KOHA_DB_DSN=" + db.DSN(), "WEBHOOK_AUTH_URL=" + svc.TokenURL(),
		"WEBHOOK_CLIENT_ID=koha", "WEBHOOK_CLIENT_SECRET=s3cret", "WEBHOOK_NOTICE_URL=" + svc.NoticeURL(),
		"WEBHOOK_CONCURRENCY=4", "WEBHOOK_LEASE=2s"}

	// The first pass is killed while four POSTs are in flight.
	child := exec.Command(os.Args[0], "run")
	child.Env = append(os.Environ(), env...)
	var childLog bytes.Buffer
	child.Stderr = &childLog
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	inFlight := map[string]bool{}
	for range 4 {
		inFlight[<-arrived] = true
	}
	child.Process.Kill()
	child.Wait()
	close(release)

	var pending, claimed int
	db.DB.QueryRow(`SELECT COUNT(*) FROM message_queue WHERE status = 'pending'`).Scan(&pending)
	db.DB.QueryRow(`SELECT COUNT(*) FROM message_queue WHERE status = 'deleted' AND failure_code = 'WEBHOOK_IN_PROGRESS'`).Scan(&claimed)
	if pending != 0 || claimed != n {
		t.Fatalf("after SIGKILL: %d pending, %d in progress; want 0 and %d\n%s", pending, claimed, n, childLog.String())
	}

	// The next pass, once the lease has expired, delivers every notice.
	waitForLeases(t, db)
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"run"}, &stdout, &stderr, envOf(envMap(env))); code != exitOK {
		t.Fatalf("second pass exit %d:\n%s", code, stderr.String())
	}
	var sent int
	db.DB.QueryRow(`SELECT COUNT(*) FROM message_queue WHERE status = 'sent'`).Scan(&sent)
	if sent != n {
		t.Errorf("sent = %d, want %d", sent, n)
	}
	perKey := map[string]int{}
	for _, r := range svc.Received() {
		perKey[r.IdempotencyKey]++
	}
	if len(perKey) != n {
		t.Errorf("distinct idempotency keys = %d, want %d (one per notice)", len(perKey), n)
	}
	for key := range inFlight {
		if perKey[key] != 2 {
			t.Errorf("in-flight notice %s was POSTed %d times, want 2 with the same key", key, perKey[key])
		}
	}
}

// waitForLeases waits until every lease in koha_webhooks_deliveries has
// expired by the clock the program uses.
func waitForLeases(t *testing.T, db *kohatest.Database) {
	t.Helper()
	var latest string
	if err := db.DB.QueryRow(`SELECT MAX(lease_expires_at) FROM koha_webhooks_deliveries`).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse("2006-01-02 15:04:05.000000", latest)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(at) + 10*time.Millisecond)
}

func envMap(pairs []string) map[string]string {
	m := map[string]string{}
	for _, p := range pairs {
		for i := range p {
			if p[i] == '=' {
				m[p[:i]] = p[i+1:]
				break
			}
		}
	}
	return m
}
