package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

func TestServeHelpListsFlags(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"serve", "--help"}, &stdout, &stderr, envOf(nil)); code != exitOK {
		t.Fatalf("exit code = %d", code)
	}
	for _, want := range []string{"-instance", "-all-instances", "-listen", "-log-format", "WEBHOOK_POLL_INTERVAL", "WEBHOOK_API_TOKENS", "KOHA_SITES_DIR", "/readyz"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestServeRejectsInvalidSettings(t *testing.T) {
	t.Parallel()
	emptySites := t.TempDir()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad log format", nil, map[string]string{"WEBHOOK_LOG_FORMAT": "xml"}, "WEBHOOK_LOG_FORMAT"},
		{"empty listen", []string{"--listen", " "}, nil, "WEBHOOK_LISTEN"},
		{"instance and all", []string{"--instance", "a", "--all-instances"}, nil, "either --instance or --all-instances"},
		{"shared dsn", []string{"--instance", "a,b"}, map[string]string{"KOHA_DB_DSN": "koha:pw@tcp(127.0.0.1:1)/koha"}, "KOHA_DB_DSN is set but several instances"},
		{"dsn flag with several", []string{"--instance", "a", "--instance", "b", "--dsn", "koha:pw@tcp(127.0.0.1:1)/koha"}, nil, "--dsn and --koha-conf"},
		{"no instance dir", []string{"--all-instances"}, map[string]string{config.SitesDirEnv: emptySites}, "no Koha instance found"},
		{"no database", nil, nil, "KOHA_DB_DSN"},
		{"argument", []string{"now"}, nil, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runMain(append([]string{"serve"}, c.args...), &stdout, &stderr, envOf(c.env))
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), ":pw@") {
				t.Errorf("stderr reveals a password: %q", stderr.String())
			}
		})
	}
}

func TestServeAllInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sitesDir, archiveDir := t.TempDir(), t.TempDir()
	svc := noticeservice.Start("koha", "s3cret")
	defer svc.Close()

	names := []string{"north", "south"}
	sites := map[string]*sample.Site{}
	for _, name := range names {
		db := kohatest.NewDB(t)
		writeInstanceConf(t, sitesDir, name, db)
		sites[name] = &sample.Site{DB: db.DB}
		if err := sites[name].Setup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		config.SitesDirEnv: sitesDir, "WEBHOOK_AUTH_URL": svc.TokenURL(), "WEBHOOK_CLIENT_ID": "koha",
		"WEBHOOK_CLIENT_SECRET": "s3cret", "WEBHOOK_NOTICE_URL": svc.NoticeURL(), "WEBHOOK_ARCHIVE_PATH": archiveDir,
		"WEBHOOK_POLL_INTERVAL": "50ms", "WEBHOOK_LISTEN": "127.0.0.1:0", "WEBHOOK_LOG_FORMAT": "json",
	}
	log := newLogWatch()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited := make(chan int, 1)
	go func() { exited <- runServe(ctx, []string{"--all-instances"}, log, envOf(env)) }()

	var base string
	select {
	case addr := <-log.listening:
		base = "http://" + addr
	case code := <-exited:
		t.Fatalf("serve exited with %d:\n%s", code, log)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", log)
	}

	for _, name := range names {
		site := sites[name]
		patron, err := site.AddPatron(ctx, sample.Patron{Surname: "Reader of " + name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.Enqueue(ctx, sample.Message{Borrowernumber: patron, LetterCode: "WELCOME", Transport: "email",
			Content: fmt.Sprintf("webhook: yes\npatron: %d\n", patron)}); err != nil {
			t.Fatal(err)
		}
	}
	if !svc.WaitAccepted(len(names), 30*time.Second) {
		t.Fatalf("accepted %d notices, want %d:\n%s", svc.Accepted(), len(names), log)
	}

	code, body := httpGet(t, base+"/readyz")
	if code != http.StatusOK || !strings.Contains(body, `"north"`) || !strings.Contains(body, `"south"`) {
		t.Errorf("/readyz = %d %s, want 200 naming both instances", code, body)
	}
	if code, _ := httpGet(t, base+"/instances/south/api/v1/contrib/webhook_notifications/openapi.json"); code != http.StatusOK {
		t.Errorf("inbound API of south: status %d, want 200", code)
	}

	cancel()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit code after the stop = %d, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(archiveDir, name)); err != nil {
			t.Errorf("archive of %s: %v", name, err)
		}
	}
	log.checkJSON(t, "s3cret")
}

// writeInstanceConf writes <sitesDir>/<name>/koha-conf.xml for db.
func writeInstanceConf(t *testing.T, sitesDir, name string, db *kohatest.Database) {
	t.Helper()
	host, port, err := net.SplitHostPort(db.Config.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`<yazgfs>
<config>
<database>%s</database>
<hostname>%s</hostname>
<port>%s</port>
<user>%s</user>
<pass>%s</pass>
</config>
</yazgfs>
`, db.Name, host, port, db.Config.User, db.Config.Passwd)
	dir := filepath.Join(sitesDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "koha-conf.xml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// logWatch collects the daemon's log and sends the address of its
// "daemon started" line on listening.
type logWatch struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
	sent      bool
}

func newLogWatch() *logWatch { return &logWatch{listening: make(chan string, 1)} }

var listenAttr = regexp.MustCompile(`"listen":"([^"]+)"`)

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := listenAttr.FindSubmatch(p); m != nil && !w.sent && bytes.Contains(p, []byte("daemon started")) {
		w.sent = true
		w.listening <- string(m[1])
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// checkJSON fails the test unless every log line is a JSON object and none
// contains secret.
func (w *logWatch) checkJSON(t *testing.T, secret string) {
	t.Helper()
	text := w.String()
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var record map[string]any
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	if strings.Contains(text, secret) {
		t.Error("the log reveals the client secret")
	}
	if !strings.Contains(text, `"instance":"north"`) {
		t.Errorf("no log line names instance north:\n%s", text)
	}
}
