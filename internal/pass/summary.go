package pass

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/delivery"
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/queue"
)

// Summary counts what one pass did.
type Summary struct {
	mu sync.Mutex

	Started, Finished time.Time
	// NotWebhook counts pending rows that mention "webhook" but are not
	// webhook notices; they were left to Koha.
	NotWebhook int
	// Selected counts webhook notices found pending.
	Selected int
	// Claimed counts notices the pass took, due retries included.
	Claimed int

	Sent, Retry, Failed, Skipped, Returned int
	// ParseErrors, NoData and AuthFailed break down Failed and Retry.
	ParseErrors, NoData, AuthFailed int
	// Discarded counts outcomes dropped because another pass took over.
	Discarded int
	// Released counts notices returned unstarted because the pass stopped.
	Released int

	// BytesSent is the payload bytes POSTed, and Latencies the time of each
	// POST.
	BytesSent int64
	Latencies []time.Duration
	// ByType counts outcomes per letter code, transport and state.
	ByType map[string]map[string]map[string]int

	ArchivePath string
	LibraryName string
	// LastMessageID is the highest message_id the search for new notices
	// reached; the next poll can start after it.
	LastMessageID int64
}

func newSummary(now time.Time) *Summary {
	return &Summary{Started: now, ByType: map[string]map[string]map[string]int{}}
}

func (s *Summary) addDelivery(res delivery.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.BytesSent += int64(res.BytesSent)
	s.Latencies = append(s.Latencies, res.Duration)
}

func (s *Summary) addReleased(n int) {
	s.mu.Lock()
	s.Released += n
	s.mu.Unlock()
}

func (s *Summary) addOutcome(message *kohadb.Row, o *queue.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch o.State {
	case queue.StateSent:
		s.Sent++
	case queue.StateRetry:
		s.Retry++
	case queue.StateFailed:
		s.Failed++
	case queue.StateSkipped:
		s.Skipped++
	case queue.StateReturned:
		s.Returned++
	}
	switch {
	case strings.HasPrefix(o.FailureCode, "WEBHOOK_PARSE_ERROR"):
		s.ParseErrors++
	case strings.HasPrefix(o.FailureCode, "WEBHOOK_NO_DATA"):
		s.NoData++
	case strings.HasPrefix(o.FailureCode, "WEBHOOK_AUTH_FAILED"):
		s.AuthFailed++
	}
	letter, transport := message.String("letter_code"), message.String("message_transport_type")
	if s.ByType[letter] == nil {
		s.ByType[letter] = map[string]map[string]int{}
	}
	if s.ByType[letter][transport] == nil {
		s.ByType[letter][transport] = map[string]int{}
	}
	s.ByType[letter][transport][string(o.State)]++
}

// logValue returns the summary as log attributes.
func (s *Summary) attrs() []any {
	byType, _ := json.Marshal(s.ByType)
	return []any{
		"claimed", s.Claimed, "sent", s.Sent, "retry", s.Retry, "failed", s.Failed,
		"parse_errors", s.ParseErrors, "no_data", s.NoData, "auth_failed", s.AuthFailed,
		"skipped", s.Skipped, "returned_to_koha", s.Returned, "not_webhook", s.NotWebhook,
		"discarded", s.Discarded, "released", s.Released, "bytes_sent", s.BytesSent,
		"duration", s.Finished.Sub(s.Started).Round(time.Millisecond).String(),
		slog.String("by_type", string(byType)),
	}
}

// actionInfo is the JSON written to action_logs for MESSAGES_PROCESSED.
func (s *Summary) actionInfo() string {
	info := map[string]any{
		"total_messages_count": s.Claimed,
		"results": map[string]any{
			"sent":    map[string]int{"successful": s.Sent, "failed": s.Failed},
			"retry":   s.Retry,
			"skipped": s.Skipped,
			"types":   s.ByType,
		},
	}
	b, _ := json.Marshal(info)
	return string(b)
}
