package main

import (
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/notice"
)

func TestParseMixReadsWeights(t *testing.T) {
	m, err := parseMix("hold=3, digest=2,cancel=0")
	if err != nil {
		t.Fatal(err)
	}
	want := mix{shapeHold: 3, shapeDigest: 2}
	if m != want {
		t.Errorf("parseMix = %v, want %v", m, want)
	}
}

func TestParseMixRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "hold", "hold=x", "hold=-1", "renewal=2", "hold=0,cancel=0"} {
		if _, err := parseMix(in); err == nil {
			t.Errorf("parseMix(%q) returned no error", in)
		}
	}
}

func TestMixCountsSumToN(t *testing.T) {
	m := mix{3, 3, 2, 1, 1}
	for _, n := range []int{1, 7, 10, 999, 100_000} {
		counts := m.counts(n)
		total := 0
		for _, c := range counts {
			total += c
		}
		if total != n {
			t.Errorf("counts(%d) = %v, sum %d", n, counts, total)
		}
	}
	if got := m.counts(100_000); got != [shapeCount]int{30_000, 30_000, 20_000, 10_000, 10_000} {
		t.Errorf("counts(100000) = %v", got)
	}
	if got := (mix{shapeCancel: 1}).counts(5); got[shapeCancel] != 5 {
		t.Errorf("single-shape mix counts = %v", got)
	}
}

func TestPlanNoticesNameOwnRecords(t *testing.T) {
	p := newPlan(planConfig{notices: 1000, history: 10, mix: mix{3, 3, 2, 1, 1}, digestMin: 5, digestMax: 50, seed: 1})
	if len(p.queue) != 1000 {
		t.Fatalf("queue has %d notices", len(p.queue))
	}
	for i, n := range p.queue {
		switch n.shape {
		case shapeCheckout, shapeDigest:
			for _, id := range n.ids {
				if id < 1 || id > int64(p.loans) || p.loanOwner[id-1] != n.borrower {
					t.Fatalf("notice %d (%s) names loan %d of patron %d, want a loan of %d", i, n.shape, id, p.loanOwner[id-1], n.borrower)
				}
			}
			if n.shape == shapeDigest && (len(n.ids) < 5 || len(n.ids) > 50) {
				t.Errorf("digest %d has %d checkouts, want 5 to 50", i, len(n.ids))
			}
		case shapeCheckin:
			j := int(n.ids[0]) - p.loans - 1
			if j < 0 || j >= p.returned || p.returnedOwner(j) != n.borrower {
				t.Errorf("check-in %d names old_issues %d, outside the plan or of another patron", i, n.ids[0])
			}
		case shapeHold:
			if j := int(n.ids[0]) - 1; j < 0 || j >= p.holds || p.holdOwner(j) != n.borrower {
				t.Errorf("hold notice %d names reserve %d, outside the plan or of another patron", i, n.ids[0])
			}
		case shapeCancel:
			if j := int(n.ids[0]) - p.holds - 1; j < 0 || j >= p.cancels || p.cancelOwner(j) != n.borrower {
				t.Errorf("cancel notice %d names old_reserves %d, outside the plan or of another patron", i, n.ids[0])
			}
		}
	}
}

func TestPlanIsReproducible(t *testing.T) {
	c := planConfig{notices: 500, mix: mix{3, 3, 2, 1, 1}, digestMin: 5, digestMax: 50, seed: 7}
	a, b := newPlan(c), newPlan(c)
	for i := range a.queue {
		if a.queue[i].content() != b.queue[i].content() || a.queue[i].borrower != b.queue[i].borrower {
			t.Fatalf("notice %d differs between two plans of the same seed", i)
		}
	}
}

func TestContentParsesToSpec(t *testing.T) {
	p := newPlan(planConfig{notices: 200, mix: mix{1, 1, 1, 1, 1}, digestMin: 2, digestMax: 4, seed: 3})
	for i, n := range p.queue {
		got, err := notice.Parse(notice.Input{Content: n.content(), LetterCode: shapeLetters[n.shape]})
		if err != nil {
			t.Fatalf("notice %d %q: %v", i, n.content(), err)
		}
		want := n.notice()
		if !equalIDs(got.Checkouts, want.Checkouts) || !equalIDs(got.OldCheckouts, want.OldCheckouts) ||
			!equalIDs(got.Holds, want.Holds) || !equalIDs(got.OldHolds, want.OldHolds) {
			t.Errorf("notice %d %q parses to %+v, the SQL floor uses %+v", i, n.content(), got, want)
		}
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHistoryBodyIsNoWebhook(t *testing.T) {
	if strings.Contains(strings.ToLower(historyBody), "webhook") {
		t.Error("history rows would be scanned as webhook candidates")
	}
}

func TestStatementKind(t *testing.T) {
	cases := map[string]string{
		"SELECT * FROM items":           "SELECT",
		"  insert into x values (1)":    "INSERT",
		"/* hint */ UPDATE t SET a = 1": "UPDATE",
		"-- note\nDELETE FROM t":        "DELETE",
		"START TRANSACTION":             "START",
		"(SELECT 1) UNION (SELECT 2)":   "SELECT",
		"":                              "OTHER",
		"/* unterminated":               "OTHER",
		"commit":                        "COMMIT",
	}
	for in, want := range cases {
		if got := statementKind([]byte(in)); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 50); got != 50*time.Millisecond {
		t.Errorf("p50 = %s", got)
	}
	if got := percentile(d, 99); got != 99*time.Millisecond {
		t.Errorf("p99 = %s", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %s", got)
	}
}

func TestServerConfigAllowsOnlyLoopback(t *testing.T) {
	for _, dsn := range []string{"root@tcp(127.0.0.1:3306)/", "root@tcp([::1]:3306)/", "root@tcp(localhost:3306)/"} {
		if _, err := serverConfig(dsn); err != nil {
			t.Errorf("serverConfig(%q): %v", dsn, err)
		}
	}
	for _, dsn := range []string{"root@tcp(10.0.0.5:3306)/", "root@tcp(db.example.org:3306)/", "root@unix(/run/mysqld/mysqld.sock)/"} {
		if _, err := serverConfig(dsn); err == nil {
			t.Errorf("serverConfig(%q) accepted a non-loopback address", dsn)
		}
	}
}
