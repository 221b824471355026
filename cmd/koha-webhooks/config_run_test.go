package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// storeServiceSettings stores the credentials of svc and an archive
// directory for the instance with `config set`.
func (s *kohaSite) storeServiceSettings(svc *noticeservice.Service, extra ...string) string {
	s.t.Helper()
	archive := s.t.TempDir()
	args := []string{"config", "set", "--instance", siteInstance, "auth_url=" + svc.TokenURL(), "client_id=" + svc.ClientID,
		"client_secret=" + svc.ClientSecret, "notice_url=" + svc.NoticeURL(), "customer_id=cust-9", "archive_path=" + archive}
	s.mustCommand(nil, append(args, extra...)...)
	return archive
}

func TestRunWithStoredSettingsOnly(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	patron, err := s.sample.AddPatron(s.ctx, sample.Patron{Surname: "Lamarr"})
	if err != nil {
		t.Fatal(err)
	}
	title, err := s.sample.AddTitle(s.ctx, "Frequency hopping", "Antheil", sample.ItemType)
	if err != nil {
		t.Fatal(err)
	}
	hold, err := s.sample.AddHold(s.ctx, patron, title.Biblionumber, 0, sample.MainLibrary)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.sample.Enqueue(s.ctx, sample.Message{Borrowernumber: patron, LetterCode: "HOLD", Transport: "sms", Content: fmt.Sprintf("webhook: yes\nhold: %d\n", hold)})
	if err != nil {
		t.Fatal(err)
	}
	svc := noticeservice.Start("koha-stored", "stored-secret")
	defer svc.Close()
	archive := s.storeServiceSettings(svc, "json_values=strings")

	code, _, stderr := s.command(nil, "run", "--instance", siteInstance)
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	if status, _ := s.status(id); status != "sent" {
		t.Fatalf("notice status = %s, want sent\n%s", status, stderr)
	}
	received := svc.Received()
	if len(received) != 1 {
		t.Fatalf("received %d POSTs, want 1", len(received))
	}
	if got := received[0].Header.Get("customer-id"); got != "cust-9" {
		t.Errorf("customer-id header = %q, want the stored cust-9", got)
	}
	var body struct {
		Message map[string]any `json:"message"`
	}
	if err := json.Unmarshal(received[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if got := body.Message["message_id"]; got != fmt.Sprint(id) {
		t.Errorf("message_id = %#v, want the string %q (json_values=strings from plugin_data)", got, fmt.Sprint(id))
	}
	files, _ := filepath.Glob(filepath.Join(archive, "*-Notices-*.json"))
	if len(files) != 1 {
		t.Errorf("archive files in the stored archive_path: %v, want one", files)
	}
	if strings.Contains(stderr, "stored-secret") {
		t.Errorf("log reveals the secret:\n%s", stderr)
	}
}

func TestRunKohaConfErrors(t *testing.T) {
	t.Parallel()
	s := newKohaSite(t, "")
	svc := noticeservice.Start("koha", "secret")
	defer svc.Close()
	s.storeServiceSettings(svc)

	malformed := filepath.Join(t.TempDir(), "koha-conf.xml")
	os.WriteFile(malformed, []byte("<yazgfs><config><database>x</config>"), 0o600)
	cases := []struct {
		name string
		conf string // replaces koha-conf.xml's extra elements; "" keeps it
		env  map[string]string
		args []string
		want []string
	}{
		{"malformed file", "", map[string]string{"KOHA_CONF": malformed}, nil, []string{"invalid XML in " + malformed}},
		{"missing instance", "", nil, []string{"--instance", "absent"}, []string{"koha-conf.xml not found at " + filepath.Join(s.sitesDir, "absent")}},
		{"placeholder key", "<encryption_key>__ENCRYPTION_KEY__</encryption_key>", nil, []string{"--instance", siteInstance},
			[]string{"WebhookCredentials", "__ENCRYPTION_KEY__"}},
		{"TLS without server support", "<tls>yes</tls>", nil, []string{"--instance", siteInstance}, []string{"TLS requested but server does not support TLS"}},
		{"TLS CA file missing", "<tls>yes</tls><ca>/nonexistent/ca.pem</ca>", nil, []string{"--instance", siteInstance},
			[]string{"<ca>", "cannot read the CA certificate file /nonexistent/ca.pem"}},
	}
	for _, c := range cases {
		if c.conf != "" {
			s.writeConf(c.conf)
		}
		code, _, stderr := s.command(c.env, append([]string{"run"}, c.args...)...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, exitUsage, stderr)
		}
		for _, want := range c.want {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, want, stderr)
			}
		}
	}
}
