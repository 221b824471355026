package pass_test

import (
	"fmt"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/pass"
)

// statementCount returns the session's SELECT, INSERT and UPDATE counters.
// The fixture's pool is limited to one connection, so the session is the
// pass's.
func statementCount(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	rows, err := f.db.DB.QueryContext(f.ctx, `SHOW SESSION STATUS WHERE Variable_name IN ('Com_select', 'Com_insert', 'Com_update')`)
	must(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		must(t, rows.Scan(&name, &n))
		out[name] = n
	}
	return out
}

func TestRunStatementsPerBatchAreConstant(t *testing.T) {
	f := setup(t)
	f.db.DB.SetMaxOpenConns(1)
	f.db.DB.SetMaxIdleConns(1)
	f.db.DB.SetConnMaxLifetime(0)

	measure := func(n int) map[string]int {
		for i := range n {
			switch i % 3 {
			case 0:
				f.enqueue(f.ada, "HOLD", "email", fmt.Sprintf("webhook: yes\nhold: %d\n", f.adaHold))
			case 1:
				f.enqueue(f.ada, "DUEDGST", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d, %d\n", f.adaLoan, 990000+i))
			default:
				f.enqueue(f.ada, "WELCOME", "sms", "webhook: yes\n")
			}
		}
		before := statementCount(t, f)
		s := f.run(pass.Options{})
		after := statementCount(t, f)
		if s.Sent != n {
			t.Fatalf("pass of %d notices sent %d", n, s.Sent)
		}
		delta := map[string]int{}
		for k := range after {
			// The SHOW STATUS statement itself counts as a SELECT.
			delta[k] = after[k] - before[k]
		}
		return delta
	}

	small := measure(10)
	large := measure(200)
	for _, name := range []string{"Com_select", "Com_insert", "Com_update"} {
		if small[name] != large[name] {
			t.Errorf("%s: %d statements for 10 notices, %d for 200; want the same", name, small[name], large[name])
		}
	}
	t.Logf("statements per pass of one batch: %v", large)
}
