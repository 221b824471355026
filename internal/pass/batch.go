package pass

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/notice"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
	"github.com/koha-webhooks/koha-webhooks/internal/records"
)

type parseResult struct {
	content string
	notice  *notice.Notice
	err     error
}

// item is one claimed notice on its way through the batch.
type item struct {
	claimed *queue.Claimed
	id      int64
	notice  *notice.Notice
	bundle  *records.Bundle
	body    []byte
	outcome *queue.Outcome // set once the notice's fate is decided
}

// batch is a claim that has been parsed, loaded and built, waiting to be
// delivered and recorded.
type batch struct {
	token     string
	items     []*item
	stopLease func()
}

// handle takes one claim through parse → load → build and hands it to the
// delivery stage, which delivers and records it while the next claim is
// prepared.
func (p *run) handle(ctx context.Context, claim *queue.Claim, parsed map[int64]parseResult) error {
	if len(claim.Messages) == 0 {
		return nil
	}
	p.actions.start(ctx)
	p.handled += len(claim.Messages)
	p.summary.Claimed += len(claim.Messages)
	p.log.Debug("batch claimed", "notices", len(claim.Messages), "first_message_id", claim.Messages[0].MessageID())
	b := &batch{token: claim.Token, stopLease: func() {}}
	if !p.cfg.TestMode {
		b.stopLease = p.keepLease(ctx, claim.Token)
	}

	b.items = p.parseClaimed(claim, parsed)
	if err := p.load(ctx, b.items); err != nil {
		p.abandon(ctx, b)
		return err
	}
	p.build(b.items)
	p.archiveItems(b.items)
	if p.cfg.TestMode {
		p.reportTestMode(b.items)
		return nil
	}
	select {
	case p.batches <- b:
		return nil
	case <-p.deliveryFailed:
		p.abandon(ctx, b)
		return errDeliveryStage
	}
}

// errDeliveryStage stops preparing batches after the delivery stage failed;
// that stage reports its own error.
var errDeliveryStage = errors.New("delivery stage stopped")

// deliverBatches delivers and records prepared batches until the channel
// closes. After a failure it returns the claims of the remaining batches
// to the queue.
func (p *run) deliverBatches(ctx context.Context) error {
	var failed error
	for b := range p.batches {
		if failed != nil {
			p.abandon(ctx, b)
			continue
		}
		unstarted := p.deliverAll(ctx, b.items)
		failed = p.record(ctx, b.token, b.items, unstarted)
		b.stopLease()
		if failed != nil {
			close(p.deliveryFailed)
		}
	}
	return failed
}

// abandon gives up a prepared batch: its notices stay claimed ('deleted',
// never pending) and are released to the next pass.
func (p *run) abandon(ctx context.Context, b *batch) {
	b.stopLease()
	ids := make([]int64, len(b.items))
	for i, it := range b.items {
		ids[i] = it.id
	}
	// Failure policy: fail open to the lease, because if even the release
	// fails the notices are taken over once their lease expires.
	if err := p.cfg.Queue.Release(context.WithoutCancel(ctx), b.token, ids); err != nil {
		p.log.Warn("cannot release claims; they are retried when their lease expires", "error", err, "notices", len(ids))
	}
	p.summary.addReleased(len(ids))
}

func (p *run) parseClaimed(claim *queue.Claim, parsed map[int64]parseResult) []*item {
	items := make([]*item, 0, len(claim.Messages))
	for _, c := range claim.Messages {
		it := &item{claimed: c, id: c.MessageID()}
		content := c.Message.String("content")
		pr, ok := parsed[it.id]
		if !ok || pr.content != content {
			// The row changed since it was selected (Koha appended a
			// fragment) or it is a retry: parse what the claim locked.
			n, err := notice.Parse(notice.Input{Content: content, ContentType: c.Message.String("content_type"), LetterCode: c.Message.String("letter_code")})
			pr = parseResult{notice: n, err: err}
		}
		var perr *notice.ParseError
		switch {
		case errors.Is(pr.err, notice.ErrNotWebhook):
			// Failure policy: fail open to Koha, because the content is no
			// longer a webhook notice and Koha should send it as written.
			it.outcome = &queue.Outcome{MessageID: it.id, State: queue.StateReturned}
		case errors.As(pr.err, &perr):
			it.outcome = p.fail(it, "WEBHOOK_PARSE_ERROR: "+perr.Error())
		case pr.err != nil:
			it.outcome = p.fail(it, "WEBHOOK_PARSE_ERROR: "+pr.err.Error())
		default:
			it.notice = pr.notice
			for _, rej := range pr.notice.Rejected {
				p.log.Warn("invalid id ignored", "message_id", it.id, "key", rej.Key, "value", rej.Value, "line", rej.Line)
			}
		}
		items = append(items, it)
	}
	return items
}

func (p *run) load(ctx context.Context, items []*item) error {
	var reqs []records.Request
	var pending []*item
	for _, it := range items {
		if it.outcome == nil {
			reqs = append(reqs, records.Request{Message: it.claimed.Message, Notice: it.notice})
			pending = append(pending, it)
		}
	}
	if len(reqs) == 0 {
		return nil
	}
	bundles, err := p.loader.Load(ctx, reqs)
	if err != nil {
		return err
	}
	for i, b := range bundles {
		pending[i].bundle = b
	}
	return nil
}

// build decides the notices that cannot be sent and builds the payload of
// every other one.
func (p *run) build(items []*item) {
	for _, it := range items {
		b := it.bundle
		if it.outcome != nil || b == nil {
			continue
		}
		if len(b.Missing) > 0 || len(b.Foreign) > 0 {
			p.log.Warn("records left out of notice", "message_id", it.id,
				"missing", strings.Join(b.Missing, ", "), "other_patron", strings.Join(b.Foreign, ", "))
		}
		switch {
		case b.NoData != "":
			it.outcome = p.fail(it, "WEBHOOK_NO_DATA: "+b.NoData)
		case p.skipPhoneCall(b):
			it.outcome = &queue.Outcome{MessageID: it.id, State: queue.StateSkipped, FailureCode: "WEBHOOK_SKIPPED: patron has email or SMS"}
		default:
			it.body = payload.Build(nil, b, p.cfg.Payload)
		}
		// The rows are no longer needed once the payload exists; dropping
		// them keeps a waiting batch small.
		it.bundle = nil
	}
}

// skipPhoneCall reports whether a phone notice for an overdue letter can be
// skipped because the patron gets email or SMS.
func (p *run) skipPhoneCall(b *records.Bundle) bool {
	if !p.cfg.SkipOverdueCalls || b.Message.String("message_transport_type") != "phone" || b.Patron == nil {
		return false
	}
	if !p.overdue[strings.ToUpper(b.Message.String("letter_code"))] {
		return false
	}
	for _, column := range []string{"email", "emailpro", "B_email", "smsalertnumber"} {
		if strings.TrimSpace(b.Patron.String(column)) != "" {
			return true
		}
	}
	return false
}

// fail returns a final failure that involved no delivery attempt.
func (p *run) fail(it *item, code string) *queue.Outcome {
	p.log.Warn("notice failed", "message_id", it.id, "failure_code", code)
	return &queue.Outcome{MessageID: it.id, State: queue.StateFailed, FailureCode: truncate(code, 1000)}
}

// deliverAll POSTs every built payload, at most Concurrency at a time, and
// returns the ids of notices it did not start because the pass is stopping.
func (p *run) deliverAll(ctx context.Context, items []*item) (unstarted []int64) {
	var send []*item
	for _, it := range items {
		if it.outcome == nil && it.body != nil {
			send = append(send, it)
		}
	}
	if len(send) == 0 {
		return nil
	}
	if err := p.cfg.Deliverer.Token(ctx); err != nil {
		// Failure policy: fail closed, because nothing may be POSTed
		// without a token; the notices wait for a retry instead.
		p.actions.write(ctx, "OAUTH_FAILED", err.Error())
		if p.cfg.Observer != nil {
			p.cfg.Observer.TokenFailed(err)
		}
		p.log.Error("cannot obtain an access token; notices will be retried", "error", err, "notices", len(send))
		now := p.cfg.Now()
		for _, it := range send {
			it.outcome = p.decide(it.claimed, delivery.Result{Err: asDeliveryError(err)}, now)
		}
		return nil
	}

	deliverCtx, cancel := p.graceContext(ctx)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, p.cfg.Concurrency)
	for _, it := range send {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			unstarted = append(unstarted, it.id)
			continue
		}
		wg.Add(1)
		go func(it *item) {
			defer func() { <-sem; wg.Done() }()
			res := p.cfg.Deliverer.Deliver(deliverCtx, delivery.Notice{MessageID: it.id, IdempotencyKey: it.claimed.IdempotencyKey, Body: it.body})
			if res.Err != nil && res.Err.Kind == delivery.KindCanceled {
				mu.Lock()
				unstarted = append(unstarted, it.id)
				mu.Unlock()
				return
			}
			it.outcome = p.decide(it.claimed, res, p.cfg.Now())
			p.summary.addDelivery(res)
			if res.Err == nil {
				p.log.Debug("notice delivered", "message_id", it.id, "http_status", res.StatusCode,
					"bytes", res.BytesSent, "duration", res.Duration.String())
			}
			if p.cfg.Observer != nil {
				p.cfg.Observer.Delivered(it.claimed.Message, res)
			}
		}(it)
	}
	wg.Wait()
	return unstarted
}

// graceContext returns a context for deliveries that outlives ctx by the
// grace period, so requests in flight when a stop is requested can finish.
func (p *run) graceContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deliverCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		p.log.Info("stop requested: finishing deliveries in flight", "grace_period", p.cfg.GracePeriod.String())
		time.AfterFunc(p.cfg.GracePeriod, cancel)
	})
	return deliverCtx, func() { stop(); cancel() }
}

// keepLease extends the claim's lease every third of its length until the
// returned function is called.
func (p *run) keepLease(ctx context.Context, token string) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(p.cfg.Queue.Lease() / 3)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				if _, err := p.cfg.Queue.Extend(context.WithoutCancel(ctx), token); err != nil {
					p.log.Warn("cannot extend lease", "error", err)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func asDeliveryError(err error) *delivery.Error {
	var de *delivery.Error
	if errors.As(err, &de) {
		return de
	}
	return &delivery.Error{Kind: delivery.KindAuth, Err: fmt.Errorf("%w", err)}
}
