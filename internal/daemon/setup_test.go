package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/daemon"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// waitLimit bounds every wait of these tests; the waits end on signals
// long before it.
const waitLimit = 30 * time.Second

// library is a Koha database with a patron and a hold to write notices
// about.
type library struct {
	t      *testing.T
	ctx    context.Context
	db     *kohatest.Database
	site   *sample.Site
	patron int64
	hold   int64
}

func newLibrary(t *testing.T) *library {
	t.Helper()
	l := &library{t: t, ctx: context.Background(), db: kohatest.NewDB(t)}
	l.site = &sample.Site{DB: l.db.DB}
	must(t, l.site.Setup(l.ctx))
	var err error
	l.patron, err = l.site.AddPatron(l.ctx, sample.Patron{Surname: "Lovelace", Email: "ada@example.org"})
	must(t, err)
	title, err := l.site.AddTitle(l.ctx, "Dune", "Herbert, Frank", sample.ItemType)
	must(t, err)
	l.hold, err = l.site.AddHold(l.ctx, l.patron, title.Biblionumber, 0, sample.MainLibrary)
	must(t, err)
	return l
}

// enqueue queues a webhook notice about the hold and returns its id.
func (l *library) enqueue() int64 {
	l.t.Helper()
	id, err := l.site.Enqueue(l.ctx, sample.Message{Borrowernumber: l.patron, LetterCode: "HOLD", Transport: "email",
		Content: fmt.Sprintf("webhook: yes\nhold: %d\n", l.hold)})
	must(l.t, err)
	return id
}

// statuses counts message_queue rows by status.
func (l *library) statuses() map[string]int {
	l.t.Helper()
	rows, err := l.db.DB.QueryContext(l.ctx, `SELECT status, COUNT(*) FROM message_queue GROUP BY status`)
	must(l.t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		must(l.t, rows.Scan(&status, &n))
		out[status] = n
	}
	must(l.t, rows.Err())
	return out
}

// fixture is one library, a notice service on loopback and the settings
// of an instance wired to both.
type fixture struct {
	*library
	service  *noticeservice.Service
	settings map[string]string
}

// setup builds the fixture with a 50ms poll interval; edit adjusts the
// settings, keyed by setting name.
func setup(t *testing.T, edit ...func(map[string]string)) *fixture {
	t.Helper()
	t.Parallel()
	f := &fixture{library: newLibrary(t), service: noticeservice.Start("koha", "s3cret")}
	t.Cleanup(f.service.Close)
	f.settings = map[string]string{
		"database": f.db.DSN(), "auth_url": f.service.TokenURL(), "client_id": "koha", "client_secret": "s3cret",
		"notice_url": f.service.NoticeURL(), "poll_interval": "50ms", "full_scan_interval": "1h",
		"lease": "1m", "retry_schedule": "1h",
	}
	for _, e := range edit {
		e(f.settings)
	}
	return f
}

// settingsOf returns an Instance.Settings function for values.
func settingsOf(values map[string]string) func(context.Context) (*config.Settings, error) {
	return func(context.Context) (*config.Settings, error) {
		return config.Build(config.Resolve(config.MapLayer(config.SourceEnv, values)))
	}
}

// running is a daemon serving on a loopback port.
type running struct {
	t      *testing.T
	url    string
	cancel context.CancelFunc
	done   chan error
	events chan daemon.Event
}

// start runs a daemon for instances on a loopback port. Its events arrive
// on the returned events channel; the daemon is stopped when the test ends.
func start(t *testing.T, instances ...daemon.Instance) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	r := &running{t: t, url: "http://" + ln.Addr().String(), done: make(chan error, 1), events: make(chan daemon.Event, 1000)}

	// Events after the test's end are dropped.
	var mu sync.Mutex
	stopped := false
	d, err := daemon.New(daemon.Config{
		Instances: instances, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		RestartBackoff: 20 * time.Millisecond, MaxRestartBackoff: 200 * time.Millisecond, GracePeriod: 10 * time.Second,
		OnEvent: func(e daemon.Event) {
			mu.Lock()
			defer mu.Unlock()
			if !stopped {
				select {
				case r.events <- e:
				default: // a test that stopped reading does not block the daemon
				}
			}
		},
	})
	must(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		r.stop()
		mu.Lock()
		stopped = true
		mu.Unlock()
	})
	return r
}

// stop cancels the daemon and waits until it has returned.
func (r *running) stop() {
	r.t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Serve: %v", err)
		}
	case <-time.After(waitLimit):
		r.t.Fatal("daemon did not stop")
	}
}

// waitFor returns the first event of instance that match accepts.
func (r *running) waitFor(instance string, what string, match func(daemon.Event) bool) daemon.Event {
	r.t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case e := <-r.events:
			if e.Instance == instance && match(e) {
				return e
			}
		case <-deadline:
			r.t.Fatalf("instance %s: timed out waiting for %s", instance, what)
		}
	}
}

// waitSent waits until the passes of instance have recorded n sent
// notices in all.
func (r *running) waitSent(instance string, n int) {
	r.t.Helper()
	sent := 0
	r.waitFor(instance, fmt.Sprintf("%d notices sent", n), func(e daemon.Event) bool {
		if e.Kind == daemon.EventPass && e.Summary != nil {
			sent += e.Summary.Sent
		}
		return sent >= n
	})
}

// get fetches path from the daemon and returns the status and body.
func (r *running) get(path string) (int, string) {
	r.t.Helper()
	return r.do(http.MethodGet, path)
}

func (r *running) do(method, path string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, nil)
	must(r.t, err)
	resp, err := http.DefaultClient.Do(req)
	must(r.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(r.t, err)
	return resp.StatusCode, string(body)
}

// readiness is the body of /readyz.
type readiness struct {
	Status    string `json:"status"`
	Instances []struct {
		Name  string `json:"name"`
		Ready bool   `json:"ready"`
		Error string `json:"error"`
	} `json:"instances"`
}

func parseReadiness(t *testing.T, body string) readiness {
	t.Helper()
	var r readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return r
}

// metricValue returns the value of the sample line of /metrics that starts
// with series (name and labels as exposed), or an error.
func metricValue(metrics, series string) (string, error) {
	for _, line := range strings.Split(metrics, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return rest, nil
		}
	}
	return "", errors.New("series not found: " + series)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
