package main

import (
	"sync/atomic"

	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
)

// tally counts, per pending notice, the POSTs the receiver accepted, without
// keeping bodies. It is safe for concurrent use by the receiver's handlers.
type tally struct {
	first   int64 // message_id of the first pending notice
	perID   []atomic.Int32
	retries atomic.Int64 // POSTs whose idempotency key was seen before
	foreign atomic.Int64 // POSTs naming no pending notice
	enabled atomic.Bool
}

func newTally(first int64, n int) *tally {
	return &tally{first: first, perID: make([]atomic.Int32, n)}
}

// respond is the receiver's Respond hook: it records the POST and accepts
// it with 200.
func (t *tally) respond(r *noticeservice.Received, attempt int) noticeservice.Reply {
	if !t.enabled.Load() {
		return noticeservice.Reply{}
	}
	if attempt > 1 {
		t.retries.Add(1)
	}
	i := r.MessageID - t.first
	if i < 0 || i >= int64(len(t.perID)) {
		t.foreign.Add(1)
		return noticeservice.Reply{}
	}
	t.perID[i].Add(1)
	return noticeservice.Reply{}
}

// check returns how many notices were never POSTed and how many were
// POSTed more than once.
func (t *tally) check() (missing, duplicated int) {
	for i := range t.perID {
		switch n := t.perID[i].Load(); {
		case n == 0:
			missing++
		case n > 1:
			duplicated++
		}
	}
	return missing, duplicated
}
