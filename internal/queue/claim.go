package queue

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// ClaimNew claims the rows among ids that are still pending. Rows another
// pass has locked or already claimed are skipped, so concurrent passes never
// hold the same notice. Each claimed row becomes status 'deleted' with
// failure_code WEBHOOK_IN_PROGRESS and gets a fresh idempotency key. A row
// a person set back to pending starts over with zero attempts.
func (q *Queue) ClaimNew(ctx context.Context, ids []int64) (*Claim, error) {
	claim := &Claim{Token: newToken()}
	if len(ids) == 0 {
		return claim, nil
	}
	err := q.inTx(ctx, "claim pending notices", func(tx *sql.Tx) error {
		claim.Messages = nil
		rows, err := kohadb.QueryRows(ctx, tx,
			"SELECT * FROM message_queue WHERE message_id IN ("+kohadb.Placeholders(len(ids))+
				") AND status = 'pending' ORDER BY message_id FOR UPDATE SKIP LOCKED", int64Args(ids)...)
		if err != nil || len(rows) == 0 {
			return err
		}
		locked := make([]int64, len(rows))
		for i, r := range rows {
			markClaimed(r)
			c := &Claimed{Message: r, IdempotencyKey: newIdempotencyKey()}
			locked[i] = c.MessageID()
			claim.Messages = append(claim.Messages, c)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE message_queue SET status = 'deleted', failure_code = 'WEBHOOK_IN_PROGRESS' WHERE message_id IN ("+
			kohadb.Placeholders(len(locked))+")", int64Args(locked)...); err != nil {
			return err
		}
		return q.insertClaims(ctx, tx, claim)
	})
	if err != nil {
		return nil, err
	}
	return claim, nil
}

func (q *Queue) insertClaims(ctx context.Context, tx *sql.Tx, claim *Claim) error {
	now := q.now()
	lease := dbTime(now.Add(q.lease))
	var sb strings.Builder
	sb.WriteString(`INSERT INTO koha_webhooks_deliveries
		(message_id, state, idempotency_key, claim_owner, claim_token, lease_expires_at, attempts, created_at, updated_at) VALUES `)
	args := make([]any, 0, len(claim.Messages)*8)
	for i, c := range claim.Messages {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, 'in_progress', ?, ?, ?, ?, 0, ?, ?)")
		args = append(args, c.MessageID(), c.IdempotencyKey, q.owner, claim.Token, lease, dbTime(now), dbTime(now))
	}
	sb.WriteString(` ON DUPLICATE KEY UPDATE state = 'in_progress', idempotency_key = VALUES(idempotency_key),
		claim_owner = VALUES(claim_owner), claim_token = VALUES(claim_token), lease_expires_at = VALUES(lease_expires_at),
		attempts = 0, next_attempt_at = NULL, last_http_status = NULL, last_error = NULL,
		first_attempt_at = NULL, last_attempt_at = NULL, delivered_at = NULL, updated_at = VALUES(updated_at)`)
	_, err := tx.ExecContext(ctx, sb.String(), args...)
	return err
}

// ClaimDue claims up to limit notices whose retry was due at dueBy or whose
// previous claim's lease has expired (a pass that died or stalled). A pass
// passes its start time as dueBy, so a notice it retried itself waits for
// the next pass. The notices keep their idempotency key and attempt count;
// the new token fences out the previous holder.
func (q *Queue) ClaimDue(ctx context.Context, f Filter, limit int, dueBy time.Time) (*Claim, error) {
	claim := &Claim{Token: newToken()}
	err := q.inTx(ctx, "claim due retries", func(tx *sql.Tx) error {
		claim.Messages = nil
		ids, err := q.lockDue(ctx, tx, f, limit, dueBy)
		if err != nil || len(ids) == 0 {
			return err
		}
		state, err := q.deliveryState(ctx, tx, ids)
		if err != nil {
			return err
		}
		rows, err := kohadb.QueryRows(ctx, tx,
			"SELECT * FROM message_queue WHERE message_id IN ("+kohadb.Placeholders(len(ids))+") ORDER BY message_id", int64Args(ids)...)
		if err != nil {
			return err
		}
		for _, r := range rows {
			markClaimed(r)
			id, _ := r.Int("message_id")
			c := state[id]
			c.Message = r
			claim.Messages = append(claim.Messages, c)
		}
		return q.takeOver(ctx, tx, claim.Token, ids)
	})
	if err != nil {
		return nil, err
	}
	return claim, nil
}

// markClaimed sets a row read under a claim's lock to the values the claim
// writes, so that every attempt's payload shows the notice the same way.
func markClaimed(r *kohadb.Row) {
	r.Set("status", []byte("deleted"))
	r.Set("failure_code", []byte("WEBHOOK_IN_PROGRESS"))
}

func (q *Queue) lockDue(ctx context.Context, tx *sql.Tx, f Filter, limit int, dueBy time.Time) ([]int64, error) {
	where, fargs := f.where("mq.")
	args := append([]any{dbTime(dueBy), dbTime(q.now())}, fargs...)
	args = append(args, limit)
	rows, err := tx.QueryContext(ctx, `SELECT d.message_id FROM koha_webhooks_deliveries d
		JOIN message_queue mq ON mq.message_id = d.message_id
		WHERE ((d.state = 'retry' AND d.next_attempt_at <= ?) OR (d.state = 'in_progress' AND d.lease_expires_at <= ?))
		  AND mq.status = 'deleted'`+where+`
		ORDER BY d.message_id LIMIT ? FOR UPDATE SKIP LOCKED`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (q *Queue) deliveryState(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*Claimed, error) {
	rows, err := tx.QueryContext(ctx, "SELECT message_id, idempotency_key, attempts, COALESCE(first_attempt_at, '') FROM koha_webhooks_deliveries WHERE message_id IN ("+
		kohadb.Placeholders(len(ids))+")", int64Args(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]*Claimed{}
	for rows.Next() {
		var id int64
		var first string
		c := &Claimed{}
		if err := rows.Scan(&id, &c.IdempotencyKey, &c.Attempts, &first); err != nil {
			return nil, err
		}
		if first != "" {
			c.FirstAttemptAt = parseDBTime(first)
		}
		out[id] = c
	}
	return out, rows.Err()
}

func (q *Queue) takeOver(ctx context.Context, tx *sql.Tx, token string, ids []int64) error {
	now := q.now()
	args := append([]any{q.owner, token, dbTime(now.Add(q.lease)), dbTime(now)}, int64Args(ids)...)
	if _, err := tx.ExecContext(ctx, `UPDATE koha_webhooks_deliveries SET state = 'in_progress', claim_owner = ?, claim_token = ?,
		lease_expires_at = ?, updated_at = ? WHERE message_id IN (`+kohadb.Placeholders(len(ids))+")", args...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "UPDATE message_queue SET failure_code = 'WEBHOOK_IN_PROGRESS' WHERE message_id IN ("+
		kohadb.Placeholders(len(ids))+")", int64Args(ids)...)
	return err
}

// Extend renews the lease of every notice still held under token. It
// returns how many notices the token still holds.
func (q *Queue) Extend(ctx context.Context, token string) (int64, error) {
	now := q.now()
	res, err := q.db.ExecContext(ctx, `UPDATE koha_webhooks_deliveries SET lease_expires_at = ?, updated_at = ?
		WHERE claim_token = ? AND state = 'in_progress'`, dbTime(now.Add(q.lease)), dbTime(now), token)
	if err != nil {
		return 0, &DBError{Op: "extend lease", Err: err}
	}
	return res.RowsAffected()
}

// Release gives up the claim on notices that were not attempted (a pass
// that is stopping): their lease ends now, so the next pass takes them. Their
// message_queue rows stay 'deleted', never pending.
func (q *Queue) Release(ctx context.Context, token string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	now := dbTime(q.now())
	args := append([]any{now, now, token}, int64Args(ids)...)
	_, err := q.db.ExecContext(ctx, `UPDATE koha_webhooks_deliveries SET lease_expires_at = ?, updated_at = ?, claim_token = NULL
		WHERE claim_token = ? AND state = 'in_progress' AND message_id IN (`+kohadb.Placeholders(len(ids))+")", args...)
	if err != nil {
		return &DBError{Op: "release claims", Err: err}
	}
	return nil
}

// Peek reads the rows of ids without claiming them, for test mode, which
// writes nothing.
func (q *Queue) Peek(ctx context.Context, ids []int64) (*Claim, error) {
	claim := &Claim{}
	if len(ids) == 0 {
		return claim, nil
	}
	rows, err := kohadb.QueryRows(ctx, q.db,
		"SELECT * FROM message_queue WHERE message_id IN ("+kohadb.Placeholders(len(ids))+") ORDER BY message_id", int64Args(ids)...)
	if err != nil {
		return nil, &DBError{Op: "read notices", Err: err}
	}
	for _, r := range rows {
		id, _ := r.Int("message_id")
		claim.Messages = append(claim.Messages, &Claimed{Message: r, IdempotencyKey: fmt.Sprintf("test-mode-%d", id)})
	}
	return claim, nil
}
