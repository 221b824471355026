package inbound

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// requestError is the rejection of a report, with an HTTP status and a
// message for the client.
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return e.message }

func badRequest(message string) *requestError {
	return &requestError{status: http.StatusBadRequest, message: message}
}

func conflict(message string) *requestError {
	return &requestError{status: http.StatusConflict, message: message}
}

// internalErrorMessage is sent for database failures, whose details go to
// the log only.
const internalErrorMessage = "internal error: a database request failed; the koha-webhooks log has the details"

// writeJSON sends v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error: the response could not be encoded", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// writeError sends {"error": message} with the given status.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// rejectionLogInterval is the minimum time between two log lines for the
// same kind of rejected request.
const rejectionLogInterval = time.Minute

// rejectionLog logs rejected credentials and token requests at warning
// level, at most one line per kind and interval, because any client that reaches the port can
// produce them in bulk. Each line counts the rejections left out since the
// previous one. The kinds are a small fixed set, so the map stays small.
type rejectionLog struct {
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	kinds map[string]*rejectionCount
}

type rejectionCount struct {
	logged     time.Time
	suppressed int
}

func newRejectionLog(log *slog.Logger, now func() time.Time) *rejectionLog {
	return &rejectionLog{log: log, now: now, kinds: map[string]*rejectionCount{}}
}

// Record logs one rejection of the given kind with attrs unless a line of
// that kind was logged within rejectionLogInterval.
func (l *rejectionLog) Record(kind, reason string, attrs ...any) {
	now := l.now()
	l.mu.Lock()
	count, ok := l.kinds[kind]
	if !ok {
		count = &rejectionCount{}
		l.kinds[kind] = count
	}
	if !count.logged.IsZero() && now.Sub(count.logged) < rejectionLogInterval {
		count.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := count.suppressed
	count.logged, count.suppressed = now, 0
	l.mu.Unlock()

	attrs = append(attrs, "kind", kind, "reason", reason, "suppressed_since_last", suppressed)
	l.log.Warn("inbound API rejected a request", attrs...)
}
