package queue

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// State is a notice's state in koha_webhooks_deliveries.
type State string

// The states an outcome can leave a notice in, and the message_queue status
// each maps to.
const (
	StateSent    State = "sent"    // message_queue 'sent'
	StateRetry   State = "retry"   // message_queue 'deleted' until the retry
	StateFailed  State = "failed"  // message_queue 'failed'
	StateSkipped State = "skipped" // message_queue 'deleted'
	// StateReturned hands a row back to Koha: its content stopped being a
	// webhook notice between selection and claim (someone edited it).
	StateReturned State = "returned" // message_queue 'pending'
)

func (s State) messageStatus() string {
	switch s {
	case StateSent:
		return "sent"
	case StateFailed:
		return "failed"
	case StateReturned:
		return "pending"
	}
	return "deleted"
}

// Outcome is the result of handling one claimed notice.
type Outcome struct {
	MessageID int64
	State     State
	// FailureCode is written to message_queue.failure_code; empty writes
	// NULL.
	FailureCode string
	// Attempts is the total number of delivery attempts after this one.
	Attempts int
	// AttemptedAt is when this pass attempted delivery; zero when it did
	// not (a parse error, no data, a skip).
	AttemptedAt   time.Time
	HTTPStatus    int
	Error         string
	NextAttemptAt time.Time // for StateRetry
}

// Record writes outcomes for notices claimed under token, in one
// transaction. Outcomes for notices the token no longer holds (another pass
// took over after the lease expired) are discarded and returned, so a
// stalled pass never overwrites the new holder's result.
func (q *Queue) Record(ctx context.Context, token string, outcomes []Outcome) (discarded []int64, err error) {
	if len(outcomes) == 0 {
		return nil, nil
	}
	err = q.inTx(ctx, "record outcomes", func(tx *sql.Tx) error {
		owned, err := lockOwned(ctx, tx, token, outcomes)
		if err != nil {
			return err
		}
		var kept []Outcome
		discarded = discarded[:0]
		for _, o := range outcomes {
			if owned[o.MessageID] {
				kept = append(kept, o)
			} else {
				discarded = append(discarded, o.MessageID)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		if err := q.updateDeliveries(ctx, tx, kept); err != nil {
			return err
		}
		return updateMessages(ctx, tx, kept)
	})
	return discarded, err
}

func lockOwned(ctx context.Context, tx *sql.Tx, token string, outcomes []Outcome) (map[int64]bool, error) {
	args := []any{token}
	for _, o := range outcomes {
		args = append(args, o.MessageID)
	}
	rows, err := tx.QueryContext(ctx, "SELECT message_id FROM koha_webhooks_deliveries WHERE claim_token = ? AND message_id IN ("+
		kohadb.Placeholders(len(outcomes))+") FOR UPDATE", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owned := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		owned[id] = true
	}
	return owned, rows.Err()
}

// updateDeliveries upserts the delivery rows of kept outcomes in one
// statement; every row exists and is locked, so the insert part never runs.
func (q *Queue) updateDeliveries(ctx context.Context, tx *sql.Tx, kept []Outcome) error {
	now := dbTime(q.now())
	var sb strings.Builder
	sb.WriteString(`INSERT INTO koha_webhooks_deliveries (message_id, state, idempotency_key, attempts, next_attempt_at,
		last_http_status, last_error, first_attempt_at, last_attempt_at, delivered_at, created_at, updated_at) VALUES `)
	args := make([]any, 0, len(kept)*12)
	for i, o := range kept {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var attempted, next, delivered, status, lastErr any
		if !o.AttemptedAt.IsZero() {
			attempted = dbTime(o.AttemptedAt)
		}
		if o.State == StateRetry {
			next = dbTime(o.NextAttemptAt)
		}
		if o.State == StateSent {
			delivered = now
		}
		if o.HTTPStatus > 0 {
			status = o.HTTPStatus
		}
		if o.Error != "" {
			lastErr = o.Error
		}
		args = append(args, o.MessageID, string(o.State), o.Attempts, next, status, lastErr, attempted, attempted, delivered, now, now)
	}
	sb.WriteString(` ON DUPLICATE KEY UPDATE state = VALUES(state), attempts = VALUES(attempts), next_attempt_at = VALUES(next_attempt_at),
		last_http_status = COALESCE(VALUES(last_http_status), last_http_status), last_error = VALUES(last_error),
		first_attempt_at = COALESCE(first_attempt_at, VALUES(first_attempt_at)),
		last_attempt_at = COALESCE(VALUES(last_attempt_at), last_attempt_at),
		delivered_at = VALUES(delivered_at), claim_token = NULL, lease_expires_at = NULL, updated_at = VALUES(updated_at)`)
	_, err := tx.ExecContext(ctx, sb.String(), args...)
	return err
}

// updateMessages writes status and failure_code of every kept outcome in
// one statement.
func updateMessages(ctx context.Context, tx *sql.Tx, kept []Outcome) error {
	var status, code strings.Builder
	var statusArgs, codeArgs, idArgs []any
	status.WriteString("CASE message_id")
	code.WriteString("CASE message_id")
	for _, o := range kept {
		status.WriteString(" WHEN ? THEN ?")
		statusArgs = append(statusArgs, o.MessageID, o.State.messageStatus())
		code.WriteString(" WHEN ? THEN ?")
		var fc any
		if o.FailureCode != "" {
			fc = o.FailureCode
		}
		codeArgs = append(codeArgs, o.MessageID, fc)
		idArgs = append(idArgs, o.MessageID)
	}
	status.WriteString(" END")
	code.WriteString(" END")
	args := append(append(statusArgs, codeArgs...), idArgs...)
	_, err := tx.ExecContext(ctx, "UPDATE message_queue SET status = "+status.String()+", failure_code = "+code.String()+
		" WHERE message_id IN ("+kohadb.Placeholders(len(kept))+")", args...)
	return err
}
