package inbound_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/koha-webhooks/koha-webhooks/internal/inbound"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// staticToken is the configured bearer token of every fixture.
const staticToken = "static-token-0123456789abcdef"

// Koha permission flags used by the tests.
const (
	flagSuperlibrarian = int64(1) << 0
	flagCatalogue      = int64(1) << 2
	flagPlugins        = int64(1) << 19
)

// clock is a settable Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects log output from concurrent handlers.
type logBuffer struct {
	mu   sync.Mutex
	text bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// fixture is a Koha database with a sample library, the delivery and
// inbound tables, and the inbound API served on loopback.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *sql.DB
	site    *sample.Site
	queue   *queue.Queue
	clock   *clock
	server  *httptest.Server
	logs    *logBuffer // the API's log output at debug level
	patron  int64      // recipient of the sample notices
	counter int        // makes logins and client ids unique
}

func setup(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	f := &fixture{t: t, ctx: context.Background(), clock: &clock{now: time.Now().UTC()}, logs: &logBuffer{}}
	f.db = kohatest.NewDB(t).DB
	f.site = &sample.Site{DB: f.db}
	must(t, f.site.Setup(f.ctx))
	must(t, queue.Migrate(f.ctx, f.db))
	must(t, inbound.Migrate(f.ctx, f.db))
	f.exec(`INSERT IGNORE INTO userflags (bit, flag, flagdesc, defaulton) VALUES (19, 'plugins', 'Koha plugins', 0)`)
	f.exec(`INSERT IGNORE INTO permissions (module_bit, code, description) VALUES (19, 'configure', 'Configure plugins'), (19, 'tool', 'Use tool plugins')`)

	var err error
	f.queue, err = queue.New(queue.Config{DB: f.db})
	must(t, err)
	f.patron, err = f.site.AddPatron(f.ctx, sample.Patron{Surname: "Lovelace", Firstname: "Ada", Email: "ada@example.org"})
	must(t, err)

	api, err := inbound.New(inbound.Config{
		DB:           f.db,
		Logger:       slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BearerTokens: []string{"another-static-token-0000", staticToken},
		Now:          f.clock.Now,
	})
	must(t, err)
	f.server = httptest.NewServer(api.Handler())
	t.Cleanup(f.server.Close)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(f.ctx, query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

// pending queues a notice that koha-webhooks has not handled.
func (f *fixture) pending() int64 {
	f.t.Helper()
	id, err := f.site.Enqueue(f.ctx, sample.Message{Borrowernumber: f.patron, LetterCode: "HOLD", Subject: "Hold ready",
		Content: "---\nwebhook: HOLD\n"})
	must(f.t, err)
	return id
}

// delivered queues a notice and records it as delivered through the queue,
// as a pass does after a 2xx response.
func (f *fixture) delivered() int64 {
	f.t.Helper()
	return f.deliverAs(queue.StateSent)
}

// deliverAs queues and claims a notice and records the outcome state.
func (f *fixture) deliverAs(state queue.State) int64 {
	f.t.Helper()
	id := f.pending()
	claim, err := f.queue.ClaimNew(f.ctx, []int64{id})
	must(f.t, err)
	if len(claim.Messages) != 1 {
		f.t.Fatalf("claimed %d notices, want 1", len(claim.Messages))
	}
	outcome := queue.Outcome{MessageID: id, State: state, Attempts: 1, AttemptedAt: time.Now(), HTTPStatus: 202}
	if state == queue.StateRetry {
		outcome.HTTPStatus, outcome.NextAttemptAt, outcome.FailureCode = 503, time.Now().Add(time.Hour), "WEBHOOK_RETRY: attempt 1"
	}
	discarded, err := f.queue.Record(f.ctx, claim.Token, []queue.Outcome{outcome})
	must(f.t, err)
	if len(discarded) != 0 {
		f.t.Fatalf("outcome of message %d discarded", id)
	}
	return id
}

// staff adds a patron who can log in as login with password and has the
// given borrowers.flags, and returns its borrowernumber.
func (f *fixture) staff(login, password string, flags int64) int64 {
	f.t.Helper()
	id, err := f.site.AddPatron(f.ctx, sample.Patron{Surname: login, Firstname: "Staff"})
	must(f.t, err)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	must(f.t, err)
	f.exec(`UPDATE borrowers SET userid = ?, password = ?, flags = ? WHERE borrowernumber = ?`, login, string(hash), flags, id)
	return id
}

// grantConfigure gives a patron the plugins sub-permission "configure".
func (f *fixture) grantConfigure(borrowernumber int64) {
	f.t.Helper()
	f.exec(`INSERT INTO user_permissions (borrowernumber, module_bit, code) VALUES (?, 19, 'configure')`, borrowernumber)
}

// apiKey adds an active api_keys row for owner whose secret is hashed with
// bcrypt at cost, as Koha stores it, and returns the client_id.
func (f *fixture) apiKey(owner int64, secret string, cost int) string {
	f.t.Helper()
	f.counter++
	clientID := fmt.Sprintf("client-%d-%d", owner, f.counter)
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	must(f.t, err)
	f.exec(`INSERT INTO api_keys (client_id, secret, description, patron_id, active) VALUES (?, ?, 'notice service', ?, 1)`,
		clientID, string(hash), owner)
	return clientID
}

// reportURL returns the URL of a message route ("status" or "content") with
// query parameters given as name, value pairs.
func (f *fixture) reportURL(id any, route string, params ...string) string {
	query := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		query.Add(params[i], params[i+1])
	}
	return fmt.Sprintf("%s/api/v1/contrib/webhook_notifications/message/%v/%s?%s", f.server.URL, id, route, query.Encode())
}

// post sends a POST without a body and with the Authorization header
// authorization (none when empty).
func (f *fixture) post(target, authorization string, headers ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, target, nil)
	must(f.t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := f.server.Client().Do(req)
	must(f.t, err)
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// errorBody decodes a {"error": "..."} response and fails the test when it
// is not one.
func errorBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode error body: %v", err)
	}
	if body.Error == "" {
		t.Error("error body has an empty error")
	}
	return body.Error
}

func basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

func bearer(token string) string { return "Bearer " + token }

// storedMessage is a message_queue row as the tests see it.
type storedMessage struct {
	status, failureCode, subject, content string
}

func (f *fixture) message(id int64) storedMessage {
	f.t.Helper()
	var m storedMessage
	err := f.db.QueryRowContext(f.ctx, `SELECT status, COALESCE(failure_code, ''), COALESCE(subject, ''), COALESCE(content, '')
		FROM message_queue WHERE message_id = ?`, id).Scan(&m.status, &m.failureCode, &m.subject, &m.content)
	must(f.t, err)
	return m
}

// auditRow is a koha_webhooks_status_reports row.
type auditRow struct {
	route, oldStatus, newStatus, failureCode string
	subjectChanged, contentChanged           bool
	contentLength                            sql.NullInt64
	caller                                   string
	callerBorrowernumber                     sql.NullInt64
	remoteAddr, forwardedFor                 string
	createdAt                                string
}

func (f *fixture) audit(id int64) []auditRow {
	f.t.Helper()
	rows, err := f.db.QueryContext(f.ctx, `SELECT route, old_status, new_status, COALESCE(failure_code, ''), subject_changed, content_changed,
		content_length, caller, caller_borrowernumber, remote_addr, COALESCE(forwarded_for, ''), created_at
		FROM `+inbound.AuditTable+` WHERE message_id = ? ORDER BY id`, id)
	must(f.t, err)
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		must(f.t, rows.Scan(&r.route, &r.oldStatus, &r.newStatus, &r.failureCode, &r.subjectChanged, &r.contentChanged,
			&r.contentLength, &r.caller, &r.callerBorrowernumber, &r.remoteAddr, &r.forwardedFor, &r.createdAt))
		out = append(out, r)
	}
	must(f.t, rows.Err())
	return out
}

// loginAttempts returns borrowers.login_attempts.
func (f *fixture) loginAttempts(borrowernumber int64) int {
	f.t.Helper()
	var n int
	must(f.t, f.db.QueryRowContext(f.ctx, `SELECT login_attempts FROM borrowers WHERE borrowernumber = ?`, borrowernumber).Scan(&n))
	return n
}

// checkLogsOmit fails the test when the API's log contains any of secrets.
func (f *fixture) checkLogsOmit(secrets ...string) {
	f.t.Helper()
	logs := f.logs.String()
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			f.t.Errorf("log contains the secret %q", secret)
		}
	}
}

func contains(values []string, part string) bool {
	for _, v := range values {
		if strings.Contains(v, part) {
			return true
		}
	}
	return false
}
