package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// queueState is the content of message_queue and koha_webhooks_deliveries
// after a pass.
type queueState struct {
	byStatus        map[string]int // pending notices' message_queue.status
	historyUnsent   int            // history rows no longer 'sent'
	deliveries      int            // koha_webhooks_deliveries rows
	distinctKeys    int            // distinct idempotency keys among them
	deliveredOnce   int            // rows in state sent after exactly one attempt
	untouchedExtras int            // message_queue rows beyond the plan
}

func readQueueState(ctx context.Context, db *sql.DB, first int64, n int) (*queueState, error) {
	st := &queueState{byStatus: map[string]int{}}
	rows, err := db.QueryContext(ctx, `SELECT status, COUNT(*) FROM message_queue WHERE message_id >= ? AND message_id < ? GROUP BY status`, first, first+int64(n))
	if err != nil {
		return nil, fmt.Errorf("count notices by status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var count int
		if err := rows.Scan(&status, &count); err != nil {
			return nil, err
		}
		st.byStatus[status] = count
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM message_queue WHERE message_id < ? AND status <> 'sent'),
		(SELECT COUNT(*) FROM message_queue WHERE message_id >= ?),
		COUNT(*), COUNT(DISTINCT idempotency_key), COALESCE(SUM(state = 'sent' AND attempts = 1), 0)
		FROM koha_webhooks_deliveries`, first, first+int64(n)).
		Scan(&st.historyUnsent, &st.untouchedExtras, &st.deliveries, &st.distinctKeys, &st.deliveredOnce)
	if err != nil {
		return nil, fmt.Errorf("read koha_webhooks_deliveries: %w", err)
	}
	return st, nil
}

// problems lists every way the state differs from n notices delivered once.
func (st *queueState) problems(n, history int) []string {
	var out []string
	if st.byStatus["sent"] != n {
		out = append(out, fmt.Sprintf("%d of %d notices ended sent (by status: %v)", st.byStatus["sent"], n, st.byStatus))
	}
	if st.historyUnsent != 0 {
		out = append(out, fmt.Sprintf("%d of %d history rows are no longer sent", st.historyUnsent, history))
	}
	if st.untouchedExtras != 0 {
		out = append(out, fmt.Sprintf("%d unexpected message_queue rows after the notices", st.untouchedExtras))
	}
	if st.deliveries != n || st.distinctKeys != n {
		out = append(out, fmt.Sprintf("koha_webhooks_deliveries has %d rows with %d distinct idempotency keys, expected %d", st.deliveries, st.distinctKeys, n))
	}
	if st.deliveredOnce != n {
		out = append(out, fmt.Sprintf("%d of %d deliveries are sent after exactly one attempt", st.deliveredOnce, n))
	}
	return out
}

// deliveryTimes reads, for every delivered notice, the time from start
// until the POST's response arrived (first_attempt_at) and until the
// outcome was written (delivered_at). Both columns hold the child's UTC
// clock, which is this machine's clock.
func deliveryTimes(ctx context.Context, db *sql.DB, start time.Time) (response, recorded []time.Duration, err error) {
	rows, err := db.QueryContext(ctx, `SELECT first_attempt_at, delivered_at FROM koha_webhooks_deliveries WHERE state = 'sent'`)
	if err != nil {
		return nil, nil, fmt.Errorf("read delivery times: %w", err)
	}
	defer rows.Close()
	const layout = "2006-01-02 15:04:05.999999"
	for rows.Next() {
		var attempted, delivered string
		if err := rows.Scan(&attempted, &delivered); err != nil {
			return nil, nil, fmt.Errorf("read delivery times: %w", err)
		}
		a, err1 := time.Parse(layout, attempted)
		d, err2 := time.Parse(layout, delivered)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("unreadable delivery time %q or %q", attempted, delivered)
		}
		response = append(response, a.Sub(start))
		recorded = append(recorded, d.Sub(start))
	}
	return response, recorded, rows.Err()
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of d,
// sorting d in place.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := int(p/100*float64(len(d))+0.999999) - 1
	return d[min(max(rank, 0), len(d)-1)]
}

// timeline splits the pass's wall time using the times the pass wrote per
// notice. It relies on every pending row being a webhook notice, so that
// batch k holds the notices first+k×size to first+(k+1)×size-1.
type timeline struct {
	firstResponse time.Duration // process start to the first POST response
	delivering    time.Duration // sum over batches of first to last POST response
	between       time.Duration // sum over batches of last outcome written to the next batch's first response
	afterLast     time.Duration // last outcome written to process exit
}

func readTimeline(ctx context.Context, db *sql.DB, first int64, size int, start time.Time, wall time.Duration) (*timeline, error) {
	rows, err := db.QueryContext(ctx, `SELECT MIN(first_attempt_at), MAX(first_attempt_at), MAX(delivered_at)
		FROM koha_webhooks_deliveries WHERE state = 'sent' GROUP BY (message_id - ?) DIV ? ORDER BY (message_id - ?) DIV ?`, first, size, first, size)
	if err != nil {
		return nil, fmt.Errorf("read batch times: %w", err)
	}
	defer rows.Close()
	const layout = "2006-01-02 15:04:05.999999"
	t := &timeline{}
	var previous time.Time
	for rows.Next() {
		var a, b, c string
		if err := rows.Scan(&a, &b, &c); err != nil {
			return nil, fmt.Errorf("read batch times: %w", err)
		}
		firstResponse, _ := time.Parse(layout, a)
		lastResponse, _ := time.Parse(layout, b)
		recorded, _ := time.Parse(layout, c)
		if previous.IsZero() {
			t.firstResponse = firstResponse.Sub(start)
		} else {
			t.between += firstResponse.Sub(previous)
		}
		t.delivering += lastResponse.Sub(firstResponse)
		previous = recorded
	}
	if !previous.IsZero() {
		t.afterLast = start.Add(wall).Sub(previous)
	}
	return t, rows.Err()
}
