package pass

import (
	"context"
	"fmt"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

// decide turns one delivery result into the notice's outcome. The
// retry-or-fail decision comes from the error's type (delivery.Error's
// Retryable); this function only applies the schedule.
func (p *run) decide(c *queue.Claimed, res delivery.Result, now time.Time) *queue.Outcome {
	id := c.MessageID()
	attempts := c.Attempts + 1
	o := &queue.Outcome{MessageID: id, Attempts: attempts, AttemptedAt: now, HTTPStatus: res.StatusCode}
	if res.Err == nil {
		o.State = queue.StateSent
		return o
	}
	reason := res.Err.Error()
	o.Error = truncate(reason, 2000)

	if !res.Err.Retryable() {
		// Failure policy: fail closed for permanent errors (other 4xx, 3xx,
		// a request that cannot be built): retrying cannot help.
		o.State = queue.StateFailed
		o.FailureCode = truncate("WEBHOOK_FAILED: "+reason, 1000)
		p.log.Warn("notice failed", "message_id", id, "error", reason, "http_status", res.StatusCode)
		return o
	}
	next, ok := p.cfg.Retry.Next(now, attempts, res.RetryAfter)
	if !ok {
		o.State = queue.StateFailed
		o.FailureCode = truncate(fmt.Sprintf("WEBHOOK_FAILED: gave up after %d attempts: %s", attempts, reason), 1000)
		p.log.Warn("notice failed: retries exhausted", "message_id", id, "attempts", attempts, "error", reason)
		return o
	}

	// Failure policy: fail open to a retry for transient errors (network,
	// timeouts, 408, 425, 429, 5xx, no token). The row stays 'deleted', so
	// Koha does not email it meanwhile.
	o.State = queue.StateRetry
	o.NextAttemptAt = next
	prefix := "WEBHOOK_RETRY"
	if res.Err.Kind == delivery.KindAuth {
		prefix = "WEBHOOK_AUTH_FAILED"
	}
	o.FailureCode = truncate(fmt.Sprintf("%s: attempt %d of %d, next at %s: %s",
		prefix, attempts, p.cfg.Retry.MaxAttempts(), next.UTC().Format("2006-01-02 15:04:05 UTC"), reason), 1000)
	p.log.Info("notice will be retried", "message_id", id, "attempt", attempts, "next_attempt_at", next.UTC().Format(time.RFC3339), "error", reason)
	return o
}

// record writes the batch's outcomes, retrying on a lost database
// connection, and returns unstarted notices to the queue.
func (p *run) record(ctx context.Context, token string, items []*item, unstarted []int64) error {
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()

	var outcomes []queue.Outcome
	for _, it := range items {
		if it.outcome != nil {
			outcomes = append(outcomes, *it.outcome)
		}
	}
	var discarded []int64
	err := retryDB(writeCtx, p.log, "record outcomes", func() error {
		var err error
		discarded, err = p.cfg.Queue.Record(writeCtx, token, outcomes)
		return err
	})
	if err != nil {
		// Failure policy: fail closed. The claims stay in progress and
		// another pass delivers them again with the same idempotency key
		// once the lease expires.
		return err
	}
	gone := map[int64]bool{}
	for _, id := range discarded {
		gone[id] = true
		p.log.Warn("outcome discarded: another pass took over the notice after this pass's lease expired", "message_id", id)
	}
	p.summary.Discarded += len(discarded)
	for _, it := range items {
		if it.outcome != nil && !gone[it.id] {
			p.summary.addOutcome(it.claimed.Message, it.outcome)
			if p.cfg.Observer != nil {
				p.cfg.Observer.Recorded(it.claimed.Message, it.outcome)
			}
		}
	}
	if len(unstarted) > 0 {
		p.summary.addReleased(len(unstarted))
		return retryDB(writeCtx, p.log, "release claims", func() error {
			return p.cfg.Queue.Release(writeCtx, token, unstarted)
		})
	}
	return nil
}

// reportTestMode counts what the batch would have done.
func (p *run) reportTestMode(items []*item) {
	for _, it := range items {
		o := it.outcome
		if o == nil {
			o = &queue.Outcome{MessageID: it.id, State: queue.StateSent}
		}
		p.summary.addOutcome(it.claimed.Message, o)
		if p.cfg.Observer != nil {
			p.cfg.Observer.Recorded(it.claimed.Message, o)
		}
		if o.FailureCode != "" {
			p.log.Info("test mode: notice would end", "message_id", it.id, "failure_code", o.FailureCode)
		}
	}
}
