package inbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// requestOrigin is who sent a report and from where, for the audit table.
type requestOrigin struct {
	caller       caller
	remoteAddr   string
	forwardedFor string // X-Forwarded-For as received, "" when absent
}

// storedMessage is the message_queue row a report applies to, with the
// notice's koha_webhooks_deliveries state ("" when it has no row).
type storedMessage struct {
	id            int64
	status        string
	subject       sql.NullString
	content       sql.NullString
	deliveryState string
}

// change is the set of message_queue values a report writes. Nil fields
// are left alone.
type change struct {
	oldStatus   string
	newStatus   string
	failureCode *string
	subject     *string
	content     *string
}

func (c change) empty() bool {
	return c.newStatus == c.oldStatus && c.failureCode == nil && c.subject == nil && c.content == nil
}

// planChange decides what rep changes in msg, following the state machine in
// the package documentation. It returns a *requestError with status 409
// when the notice may not change.
func planChange(msg storedMessage, rep report) (change, error) {
	switch msg.deliveryState {
	case "sent":
	case "":
		// Failure policy: fail closed because Koha, not koha-webhooks,
		// manages notices that koha-webhooks never delivered.
		return change{}, conflict(fmt.Sprintf("message %d was not delivered by koha-webhooks; only notices it delivered can be updated", msg.id))
	case "in_progress", "retry":
		// Failure policy: fail closed because the delivery outcome is not
		// yet written and would overwrite the report.
		return change{}, conflict(fmt.Sprintf("message %d is still being delivered by koha-webhooks (delivery state %s); report again after delivery succeeded", msg.id, msg.deliveryState))
	default:
		// Failure policy: fail closed because the receiver never accepted
		// a notice that failed or was skipped.
		return change{}, conflict(fmt.Sprintf("message %d was not delivered by koha-webhooks (delivery state %s), so it cannot be updated", msg.id, msg.deliveryState))
	}
	if msg.status != statusSent && msg.status != statusFailed {
		// Failure policy: fail closed because someone in Koha queued the
		// notice again, and the next delivery decides its status.
		return change{}, conflict(fmt.Sprintf("message %d was queued again in Koha (status %s) and waits for a new delivery", msg.id, msg.status))
	}

	ch := change{oldStatus: msg.status, newStatus: msg.status}
	switch {
	case rep.status == statusSent && msg.status == statusFailed:
		// Failure policy: fail closed because a reported failure is final.
		return change{}, conflict(fmt.Sprintf("message %d was already reported as failed, which is final; it cannot become sent", msg.id))
	case rep.status == statusFailed && msg.status == statusSent:
		code := receiverFailedCode
		if rep.reason != "" {
			code += ": " + rep.reason
		}
		ch.newStatus, ch.failureCode = statusFailed, &code
	}
	if rep.subject != nil && (!msg.subject.Valid || msg.subject.String != *rep.subject) {
		ch.subject = rep.subject
	}
	if rep.content != nil && (!msg.content.Valid || msg.content.String != *rep.content) {
		ch.content = rep.content
	}
	return ch, nil
}

// applyReport applies rep in one transaction that locks the message_queue
// row, and records the change in the audit table. A report that changes
// nothing writes nothing.
func (a *API) applyReport(ctx context.Context, rep report, origin requestOrigin) (change, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return change{}, fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()

	msg, err := lockMessage(ctx, tx, rep.messageID)
	if err != nil {
		return change{}, err
	}
	ch, err := planChange(msg, rep)
	if err != nil || ch.empty() {
		return ch, err
	}
	if err := updateMessage(ctx, tx, rep.messageID, ch); err != nil {
		return change{}, err
	}
	if err := a.insertAudit(ctx, tx, rep, ch, origin); err != nil {
		return change{}, err
	}
	if err := tx.Commit(); err != nil {
		return change{}, fmt.Errorf("commit report for message %d: %w", rep.messageID, err)
	}
	return ch, nil
}

// lockMessage reads and locks the message_queue row and reads its delivery
// state. A *requestError with status 404 means the message does not exist.
func lockMessage(ctx context.Context, tx *sql.Tx, id int64) (storedMessage, error) {
	msg := storedMessage{id: id}
	err := tx.QueryRowContext(ctx, `SELECT status, subject, content FROM message_queue WHERE message_id = ? FOR UPDATE`, id).
		Scan(&msg.status, &msg.subject, &msg.content)
	if errors.Is(err, sql.ErrNoRows) {
		return msg, &requestError{status: http.StatusNotFound, message: fmt.Sprintf("message %d does not exist", id)}
	}
	if err != nil {
		return msg, fmt.Errorf("lock message %d: %w", id, err)
	}

	// A plain read is enough here, and it avoids a lock-order deadlock with
	// the queue, which locks delivery rows before message rows. A "sent"
	// delivery row only changes after a person sets the message back to
	// pending, and that update waits for the lock held above.
	err = tx.QueryRowContext(ctx, `SELECT state FROM koha_webhooks_deliveries WHERE message_id = ?`, id).Scan(&msg.deliveryState)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return msg, fmt.Errorf("read delivery state of message %d: %w", id, err)
	}
	return msg, nil
}

// updateMessage writes ch to message_queue. Koha's updated_on column
// changes by itself.
func updateMessage(ctx context.Context, tx *sql.Tx, id int64, ch change) error {
	sets := []string{"status = ?"}
	args := []any{ch.newStatus}
	if ch.failureCode != nil {
		sets, args = append(sets, "failure_code = ?"), append(args, *ch.failureCode)
	}
	if ch.subject != nil {
		sets, args = append(sets, "subject = ?"), append(args, *ch.subject)
	}
	if ch.content != nil {
		sets, args = append(sets, "content = ?"), append(args, *ch.content)
	}
	args = append(args, id)
	if _, err := tx.ExecContext(ctx, "UPDATE message_queue SET "+strings.Join(sets, ", ")+" WHERE message_id = ?", args...); err != nil {
		return fmt.Errorf("update message %d: %w", id, err)
	}
	return nil
}

// insertAudit adds the row that records ch to the audit table.
func (a *API) insertAudit(ctx context.Context, tx *sql.Tx, rep report, ch change, origin requestOrigin) error {
	var failureCode, contentLength, patron, forwardedFor any
	if ch.failureCode != nil {
		failureCode = *ch.failureCode
	}
	if ch.content != nil {
		contentLength = len(*ch.content)
	}
	if origin.caller.patron != 0 {
		patron = origin.caller.patron
	}
	if origin.forwardedFor != "" {
		forwardedFor = origin.forwardedFor
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+AuditTable+`
		(message_id, route, old_status, new_status, failure_code, subject_changed, content_changed, content_length,
		 caller, caller_borrowernumber, remote_addr, forwarded_for, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rep.messageID, rep.route, ch.oldStatus, ch.newStatus, failureCode, ch.subject != nil, ch.content != nil, contentLength,
		truncate(origin.caller.String(), 255), patron, origin.remoteAddr, forwardedFor, dbTime(a.now()))
	if err != nil {
		return fmt.Errorf("record report for message %d in %s: %w", rep.messageID, AuditTable, err)
	}
	return nil
}
