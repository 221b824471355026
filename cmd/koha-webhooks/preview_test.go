package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// previewSite is a site with one patron who has a loan and a hold.
type previewSite struct {
	*kohaSite
	patron, loan, hold int64
}

func newPreviewSite(t *testing.T, confExtra string) *previewSite {
	t.Helper()
	p := &previewSite{kohaSite: newKohaSite(t, confExtra)}
	var err error
	if p.patron, err = p.sample.AddPatron(p.ctx, sample.Patron{Surname: "Hopper", Email: "grace@example.org"}); err != nil {
		t.Fatal(err)
	}
	title, err := p.sample.AddTitle(p.ctx, "Compilers", "Aho", sample.ItemType)
	if err != nil {
		t.Fatal(err)
	}
	if p.loan, err = p.sample.AddCheckout(p.ctx, p.patron, title.Itemnumber); err != nil {
		t.Fatal(err)
	}
	if p.hold, err = p.sample.AddHold(p.ctx, p.patron, title.Biblionumber, 0, sample.MainLibrary); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *previewSite) enqueue(letter, transport, content string) int64 {
	p.t.Helper()
	id, err := p.sample.Enqueue(p.ctx, sample.Message{Borrowernumber: p.patron, LetterCode: letter, Transport: transport, Content: content})
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// preview runs `preview --message-id id` on the instance.
func (p *previewSite) preview(env map[string]string, id int64, args ...string) string {
	p.t.Helper()
	return p.mustCommand(env, append([]string{"preview", "--instance", siteInstance, "--message-id", fmt.Sprint(id)}, args...)...)
}

func TestPreviewOutcomes(t *testing.T) {
	t.Parallel()
	p := newPreviewSite(t, "")
	sendable := p.enqueue("HOLD", "sms", fmt.Sprintf("webhook: yes\nhold: %d\n", p.hold))
	mention := p.enqueue("NEWSLETTER", "email", "Our new webhook feature sends notices faster.")
	broken := p.enqueue("HOLD", "sms", "webhook: yes\nholds: [1, 2\n")
	missing := p.enqueue("HOLD", "sms", "webhook: yes\nhold: 999999\n")
	phone := p.enqueue("ODUE", "phone", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", p.loan))
	sent := p.enqueue("HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", p.hold))
	p.db.DB.Exec(`UPDATE message_queue SET status = 'sent' WHERE message_id = ?`, sent)

	cases := []struct {
		name    string
		id      int64
		env     map[string]string
		want    string
		payload bool
	}{
		{"sendable", sendable, nil, "outcome: would be sent", true},
		{"mentions the word", mention, nil, "outcome: not a webhook notice: left for Koha", false},
		{"broken YAML", broken, nil, "outcome: would fail: WEBHOOK_PARSE_ERROR: ", false},
		{"unknown hold", missing, nil, "outcome: would fail: WEBHOOK_NO_DATA: ", false},
		{"phone overdue call", phone, map[string]string{"WEBHOOK_SKIP_OVERDUE_CALLS": "1"}, "outcome: would be skipped: WEBHOOK_SKIPPED: patron has email or SMS", true},
		{"phone call without the skip", phone, nil, "outcome: would be sent", true},
		{"already sent", sent, nil, "outcome: not pending (status sent), so no pass takes it until it is resent; if it were pending: would be sent", true},
	}
	for _, c := range cases {
		out := p.preview(c.env, c.id)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, c.want, out)
		}
		if hasPayload := strings.Contains(out, "payload (full, typed values"); hasPayload != c.payload {
			t.Errorf("%s: payload printed = %v, want %v:\n%s", c.name, hasPayload, c.payload, out)
		}
	}

	out := p.preview(nil, sendable)
	for _, want := range []string{fmt.Sprintf(`"message_id": %d`, sendable), fmt.Sprintf(`"reserve_id": %d`, p.hold), "\n  \"patron\": {"} {
		if !strings.Contains(out, want) {
			t.Errorf("pretty payload lacks %q:\n%s", want, out)
		}
	}
}

func TestPreviewChangesNothing(t *testing.T) {
	t.Parallel()
	p := newPreviewSite(t, "")
	id := p.enqueue("HOLD", "sms", fmt.Sprintf("webhook: yes\nhold: %d\n", p.hold))
	var updatedBefore string
	p.db.DB.QueryRow(`SELECT updated_on FROM message_queue WHERE message_id = ?`, id).Scan(&updatedBefore)

	p.preview(nil, id)

	if status, code := p.status(id); status != "pending" || code != "" {
		t.Errorf("notice after preview: status %s, failure_code %q; want pending and empty", status, code)
	}
	var updatedAfter string
	p.db.DB.QueryRow(`SELECT updated_on FROM message_queue WHERE message_id = ?`, id).Scan(&updatedAfter)
	if updatedAfter != updatedBefore {
		t.Error("preview updated the message_queue row")
	}
	var tables, logs int
	p.db.DB.QueryRow(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'koha_webhooks_deliveries'`).Scan(&tables)
	p.db.DB.QueryRow(`SELECT COUNT(*) FROM action_logs`).Scan(&logs)
	if tables != 0 || logs != 0 {
		t.Errorf("preview created %d tables and %d action_logs rows, want none", tables, logs)
	}
}

func TestPreviewRejectsBadArguments(t *testing.T) {
	t.Parallel()
	p := newPreviewSite(t, "")
	code, _, stderr := p.command(nil, "preview", "--instance", siteInstance)
	if code != exitUsage || !strings.Contains(stderr, "--message-id") {
		t.Errorf("without --message-id: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = p.command(nil, "preview", "--instance", siteInstance, "--message-id", "987654")
	if code != exitFailed || !strings.Contains(stderr, "message_id 987654 not found in message_queue") {
		t.Errorf("unknown message: exit %d, stderr %q", code, stderr)
	}
}

// TestJSONValuesFromEverySource checks that json_values reaches the payload
// from a flag, the environment, Koha's database and koha-conf.xml, in that
// order of precedence.
func TestJSONValuesFromEverySource(t *testing.T) {
	t.Parallel()
	p := newPreviewSite(t, "")
	id := p.enqueue("HOLD", "sms", fmt.Sprintf("webhook: yes\nhold: %d\n", p.hold))
	typed := fmt.Sprintf(`"reserve_id": %d`, p.hold)
	asStrings := fmt.Sprintf(`"reserve_id": "%d"`, p.hold)

	expect := func(label, out, want string) {
		t.Helper()
		if !strings.Contains(out, want) {
			t.Errorf("%s: payload lacks %s:\n%s", label, want, out)
		}
	}
	expect("default", p.preview(nil, id), typed)

	p.writeConf("<encryption_key>" + siteKey + "</encryption_key>\n<webhook_json_values>strings</webhook_json_values>")
	expect("koha-conf.xml", p.preview(nil, id), asStrings)

	p.mustCommand(nil, "config", "set", "--instance", siteInstance, "json_values=typed")
	expect("database over koha-conf.xml", p.preview(nil, id), typed)
	p.mustCommand(nil, "config", "set", "--instance", siteInstance, "json_values=strings")
	expect("database", p.preview(nil, id), asStrings)

	env := map[string]string{"WEBHOOK_JSON_VALUES": "typed"}
	expect("environment over database", p.preview(env, id), typed)
	expect("flag over environment", p.preview(env, id, "--json-values", "strings"), asStrings)
}
