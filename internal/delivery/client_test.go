package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/version"
)

// capturedRequest is what the notice server received.
type capturedRequest struct {
	header http.Header
	body   []byte
}

func captureHandler(t *testing.T, got chan<- capturedRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		got <- capturedRequest{header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusOK)
	}
}

func expectedSignature(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestDeliverHeaders(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	received := make(chan capturedRequest, 1)
	notices := newNoticeServer(t, captureHandler(t, received))
	key := []byte("0123456789abcdef0123456789abcdef")
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.CustomerID = "library-7"
		cfg.SigningSecret = "whsec_" + base64.StdEncoding.EncodeToString(key)
	})
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c.now = clock.Now

	body := `{"message_id":42,"text":"Ünïcode ✓"}`
	res := c.Deliver(context.Background(), testNotice(body))

	if res.Err != nil {
		t.Fatalf("Deliver() error = %v", res.Err)
	}
	if res.StatusCode != http.StatusOK {
		t.Errorf("StatusCode = %d, want 200", res.StatusCode)
	}
	if res.BytesSent != len(body) {
		t.Errorf("BytesSent = %d, want %d", res.BytesSent, len(body))
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %s, want positive", res.Duration)
	}
	req := <-received
	if string(req.body) != body {
		t.Errorf("body = %q, want %q", req.body, body)
	}
	wantHeaders := map[string]string{
		"Authorization":     "Bearer token-1",
		"Content-Type":      "application/json",
		"Content-Encoding":  "",
		"Customer-Id":       "library-7",
		"Idempotency-Key":   "koha-test-42",
		"User-Agent":        "koha-webhooks/" + version.Version,
		"Webhook-Id":        "koha-test-42",
		"Webhook-Timestamp": "1700000000",
		"Webhook-Signature": expectedSignature(key, "koha-test-42", "1700000000", []byte(body)),
	}
	for name, want := range wantHeaders {
		if got := req.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func TestDeliverWithoutOptionalHeaders(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	received := make(chan capturedRequest, 1)
	notices := newNoticeServer(t, captureHandler(t, received))
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.UserAgent = "custom-agent/2"
	})

	if res := c.Deliver(context.Background(), testNotice(`{}`)); res.Err != nil {
		t.Fatalf("Deliver() error = %v", res.Err)
	}
	req := <-received
	for _, name := range []string{"Customer-Id", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
		if got := req.header.Values(name); len(got) != 0 {
			t.Errorf("header %s = %q, want absent", name, got)
		}
	}
	if got := req.header.Get("User-Agent"); got != "custom-agent/2" {
		t.Errorf("User-Agent = %q, want custom-agent/2", got)
	}
}

func TestDeliverGzipThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		threshold int
		size      int
		wantGzip  bool
	}{
		{"below threshold", 100, 99, false},
		{"at threshold", 100, 100, false},
		{"above threshold", 100, 101, true},
		{"compression disabled", -1, 5000, false},
		{"default at 3 MiB", 0, 3 * 1024 * 1024, false},
		{"default above 3 MiB", 0, 3*1024*1024 + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tokens := newTokenServer(t, 3600)
			received := make(chan capturedRequest, 1)
			notices := newNoticeServer(t, captureHandler(t, received))
			key := []byte("raw-signing-key")
			c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
				cfg.GzipThreshold = tc.threshold
				cfg.SigningSecret = string(key)
			})
			body := []byte(`"` + strings.Repeat("a", tc.size-2) + `"`)

			res := c.Deliver(context.Background(), testNotice(string(body)))

			if res.Err != nil {
				t.Fatalf("Deliver() error = %v", res.Err)
			}
			req := <-received
			if res.BytesSent != len(req.body) {
				t.Errorf("BytesSent = %d, want %d bytes received", res.BytesSent, len(req.body))
			}
			wantSignature := expectedSignature(key, "koha-test-42", req.header.Get("Webhook-Timestamp"), req.body)
			if got := req.header.Get("Webhook-Signature"); got != wantSignature {
				t.Errorf("signature = %q, want %q over the bytes sent", got, wantSignature)
			}
			if !tc.wantGzip {
				if got := req.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", got)
				}
				if got := req.header.Get("Content-Encoding"); got != "" {
					t.Errorf("Content-Encoding = %q, want none", got)
				}
				if !bytes.Equal(req.body, body) {
					t.Errorf("body differs from the notice body")
				}
				return
			}
			if got := req.header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("Content-Type = %q, want application/octet-stream", got)
			}
			if got := req.header.Get("Content-Encoding"); got != "gzip" {
				t.Errorf("Content-Encoding = %q, want gzip", got)
			}
			zr, err := gzip.NewReader(bytes.NewReader(req.body))
			if err != nil {
				t.Fatalf("gzip.NewReader: %v", err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("decompress: %v", err)
			}
			if !bytes.Equal(plain, body) {
				t.Errorf("decompressed body differs from the notice body")
			}
		})
	}
}

func TestDeliverStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter string
		body       string
		wantKind   Kind
		wantRetry  bool
		wantAfter  time.Duration
		wantReason string
	}{
		{status: 200},
		{status: 201},
		{status: 204},
		{status: 301, wantKind: KindRedirect, wantReason: "HTTP 301 Moved Permanently (redirect not followed)"},
		{status: 400, body: "{\"error\":\n\"bad payload\"}", wantKind: KindHTTPClient, wantReason: `HTTP 400 Bad Request: {"error": "bad payload"}`},
		{status: 403, wantKind: KindHTTPClient, wantReason: "HTTP 403 Forbidden"},
		{status: 404, wantKind: KindHTTPClient, wantReason: "HTTP 404 Not Found"},
		{status: 408, wantKind: KindHTTPRetryable, wantRetry: true, wantReason: "HTTP 408 Request Timeout"},
		{status: 410, wantKind: KindHTTPClient, wantReason: "HTTP 410 Gone"},
		{status: 425, wantKind: KindHTTPRetryable, wantRetry: true, wantReason: "HTTP 425 Too Early"},
		{status: 429, retryAfter: "120", wantKind: KindHTTPRetryable, wantRetry: true, wantAfter: 2 * time.Minute, wantReason: "HTTP 429 Too Many Requests"},
		{status: 500, body: strings.Repeat("x", 1000), wantKind: KindHTTPServer, wantRetry: true, wantReason: "HTTP 500 Internal Server Error: " + strings.Repeat("x", 200)},
		{status: 502, wantKind: KindHTTPServer, wantRetry: true, wantReason: "HTTP 502 Bad Gateway"},
		{status: 503, retryAfter: "Sun, 06 Nov 1994 08:49:37 GMT", wantKind: KindHTTPServer, wantRetry: true, wantAfter: 90 * time.Second, wantReason: "HTTP 503 Service Unavailable"},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			tokens := newTokenServer(t, 3600)
			notices := newNoticeServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			c := newTestClient(t, tokens.URL, notices.URL, nil)
			// The HTTP date lies 90 seconds after this clock.
			clock := &fakeClock{now: time.Date(1994, 11, 6, 8, 48, 7, 0, time.UTC)}
			c.now = clock.Now

			res := c.Deliver(context.Background(), testNotice(`{}`))

			if res.StatusCode != tc.status {
				t.Errorf("StatusCode = %d, want %d", res.StatusCode, tc.status)
			}
			if res.RetryAfter != tc.wantAfter {
				t.Errorf("RetryAfter = %s, want %s", res.RetryAfter, tc.wantAfter)
			}
			if got := notices.requests.Load(); got != 1 {
				t.Errorf("notice requests = %d, want 1", got)
			}
			if tc.wantKind == "" {
				if res.Err != nil {
					t.Fatalf("Err = %v, want nil", res.Err)
				}
				return
			}
			if res.Err == nil {
				t.Fatalf("Err = nil, want kind %q", tc.wantKind)
			}
			if res.Err.Kind != tc.wantKind {
				t.Errorf("Kind = %q, want %q", res.Err.Kind, tc.wantKind)
			}
			if res.Err.StatusCode != tc.status {
				t.Errorf("Err.StatusCode = %d, want %d", res.Err.StatusCode, tc.status)
			}
			if got := res.Err.Retryable(); got != tc.wantRetry {
				t.Errorf("Retryable() = %v, want %v", got, tc.wantRetry)
			}
			if got := res.Err.Error(); got != tc.wantReason {
				t.Errorf("Error() = %q, want %q", got, tc.wantReason)
			}
		})
	}
}

func TestDeliverRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	notices := newNoticeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, "rejected request with header %q", r.Header.Get("Authorization"))
	})
	c := newTestClient(t, tokens.URL, notices.URL, nil)

	res := c.Deliver(context.Background(), testNotice(`{}`))

	if res.Err == nil {
		t.Fatal("Err = nil, want HTTP 400")
	}
	want := `HTTP 400 Bad Request: rejected request with header "Bearer [token]"`
	if got := res.Err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDeliverRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved?key=abc", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	notices := newNoticeServer(t, mux.ServeHTTP)
	c := newTestClient(t, tokens.URL, notices.URL+"/hook", nil)

	res := c.Deliver(context.Background(), testNotice(`{}`))

	if res.Err == nil || res.Err.Kind != KindRedirect {
		t.Fatalf("Err = %v, want kind redirect", res.Err)
	}
	if res.Err.Retryable() {
		t.Error("Retryable() = true, want false")
	}
	if got := targetHits.Load(); got != 0 {
		t.Errorf("redirect target hits = %d, want 0", got)
	}
	want := "HTTP 307 Temporary Redirect (redirect to /moved not followed)"
	if got := res.Err.Error(); !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want prefix %q", got, want)
	}
}

func TestDeliverRefreshOn401(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		acceptFrom int // first token number the notice server accepts, 0 for none
		wantErr    bool
	}{
		{"accepted after refresh", 2, false},
		{"rejected twice", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tokens := newTokenServer(t, 3600)
			notices := newNoticeServer(t, func(w http.ResponseWriter, r *http.Request) {
				var n int
				_, _ = fmt.Sscanf(r.Header.Get("Authorization"), "Bearer token-%d", &n)
				if tc.acceptFrom == 0 || n < tc.acceptFrom {
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = io.WriteString(w, "invalid token")
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			c := newTestClient(t, tokens.URL, notices.URL, nil)

			res := c.Deliver(context.Background(), testNotice(`{"a":1}`))

			if got := tokens.fetches.Load(); got != 2 {
				t.Errorf("token fetches = %d, want 2", got)
			}
			if got := notices.requests.Load(); got != 2 {
				t.Errorf("notice requests = %d, want 2", got)
			}
			if res.BytesSent != 2*len(`{"a":1}`) {
				t.Errorf("BytesSent = %d, want %d", res.BytesSent, 2*len(`{"a":1}`))
			}
			if !tc.wantErr {
				if res.Err != nil {
					t.Fatalf("Err = %v, want nil", res.Err)
				}
				return
			}
			if res.Err == nil || res.Err.Kind != KindHTTPClient {
				t.Fatalf("Err = %v, want kind http_client", res.Err)
			}
			if res.Err.Retryable() {
				t.Error("Retryable() = true, want false")
			}
			want := "HTTP 401 Unauthorized after a token refresh: invalid token"
			if got := res.Err.Error(); got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestDeliverConcurrent401sRefreshOnce(t *testing.T) {
	t.Parallel()
	const workers = 8
	tokens := newTokenServer(t, 3600)
	var arrived atomic.Int32
	allArrived := make(chan struct{})
	notices := newNoticeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer token-1":
			// Hold every request until all workers hold the old token, so
			// that all of them see a 401 and ask for a refresh.
			if arrived.Add(1) == workers {
				close(allArrived)
			}
			<-allArrived
			w.WriteHeader(http.StatusUnauthorized)
		case "Bearer token-2":
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	})
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.MaxConcurrency = workers
	})
	batch := make([]Notice, workers)
	for i := range batch {
		batch[i] = Notice{MessageID: int64(i), IdempotencyKey: fmt.Sprintf("key-%d", i), Body: []byte(`{}`)}
	}

	results := deliverAll(c, batch)

	for i, res := range results {
		if res.Err != nil {
			t.Errorf("notice %d: Err = %v, want nil", i, res.Err)
		}
	}
	if got := tokens.fetches.Load(); got != 2 {
		t.Errorf("token fetches = %d, want 2", got)
	}
	if got := notices.requests.Load(); got != 2*workers {
		t.Errorf("notice requests = %d, want %d", got, 2*workers)
	}
}

func TestDeliverConcurrencyBound(t *testing.T) {
	t.Parallel()
	const limit, total = 2, 12
	tokens := newTokenServer(t, 3600)
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	full := make(chan struct{})
	var fullOnce sync.Once
	notices := newNoticeServer(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		reached := inFlight == limit
		mu.Unlock()
		if reached {
			fullOnce.Do(func() { close(full) })
		}
		// The first requests wait until the limit is reached, so that a
		// missing bound would let more than limit requests in.
		<-full
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.MaxConcurrency = limit
	})
	batch := make([]Notice, total)
	for i := range batch {
		batch[i] = Notice{MessageID: int64(i), IdempotencyKey: fmt.Sprintf("key-%d", i), Body: []byte(`{}`)}
	}

	results := deliverAll(c, batch)

	for i, res := range results {
		if res.Err != nil {
			t.Errorf("notice %d: Err = %v, want nil", i, res.Err)
		}
	}
	if maxInFlight > limit {
		t.Errorf("max requests in flight = %d, want at most %d", maxInFlight, limit)
	}
	if got := tokens.fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestDeliverReusesConnections(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	var newConns atomic.Int32
	notices := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// An error body below the drain limit must not cost the
		// connection.
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, strings.Repeat("busy ", 2000))
	}))
	notices.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			newConns.Add(1)
		}
	}
	notices.Start()
	t.Cleanup(notices.Close)
	c := newTestClient(t, tokens.URL, notices.URL, nil)

	for range 5 {
		res := c.Deliver(context.Background(), testNotice(`{}`))
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("StatusCode = %d, want 503", res.StatusCode)
		}
	}

	if got := newConns.Load(); got != 1 {
		t.Errorf("connections opened = %d, want 1", got)
	}
}

func TestDeliverTransportErrors(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)

	hangup := func(linger bool) string {
		srv := newNoticeServer(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			if linger {
				// A zero linger makes Close send a TCP RST.
				_ = conn.(*net.TCPConn).SetLinger(0)
			}
			_ = conn.Close()
		})
		return srv.URL
	}
	tlsServer := httptest.NewTLSServer(http.HandlerFunc(okHandler))
	t.Cleanup(tlsServer.Close)

	// The resolver fails every query locally, so the lookup of a name in
	// the reserved .invalid domain never leaves the machine.
	offlineDialer := &net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS server in tests")
		},
	}}
	offlineTransport := &http.Transport{DialContext: offlineDialer.DialContext}

	tests := []struct {
		name       string
		noticeURL  string
		transport  http.RoundTripper
		wantKind   Kind
		wantReason string
	}{
		{"refused", "http://" + closedAddr(t) + "/hook?key=hidden", nil, KindRefused, "connection refused (127.0.0.1:"},
		{"closed", hangup(false), nil, KindReset, "connection closed before a complete response"},
		{"reset", hangup(true), nil, KindReset, "connection "},
		{"untrusted certificate", tlsServer.URL, nil, KindTLS, "TLS error: tls: failed to verify certificate"},
		{"dns", "http://notices.koha-webhooks.invalid/hook", offlineTransport, KindDNS, "DNS lookup failed for notices.koha-webhooks.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, tokens.URL, tc.noticeURL, func(cfg *Config) {
				cfg.Transport = tc.transport
			})

			res := c.Deliver(context.Background(), testNotice(`{}`))

			if res.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0", res.StatusCode)
			}
			if res.Err == nil {
				t.Fatalf("Err = nil, want kind %q", tc.wantKind)
			}
			if res.Err.Kind != tc.wantKind {
				t.Errorf("Kind = %q (%v), want %q", res.Err.Kind, res.Err, tc.wantKind)
			}
			if !res.Err.Retryable() {
				t.Error("Retryable() = false, want true")
			}
			got := res.Err.Error()
			t.Logf("Error() = %q", got)
			if !strings.HasPrefix(got, tc.wantReason) {
				t.Errorf("Error() = %q, want prefix %q", got, tc.wantReason)
			}
			if strings.Contains(got, "hidden") {
				t.Errorf("Error() = %q contains the URL query", got)
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	release := make(chan struct{})
	notices := newNoticeServer(t, func(w http.ResponseWriter, _ *http.Request) {
		<-release
		w.WriteHeader(http.StatusOK)
	})
	// Cleanups run in reverse order, so the handler is released before
	// the server waits for it to return.
	t.Cleanup(func() { close(release) })
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.Timeout = 50 * time.Millisecond
	})

	res := c.Deliver(context.Background(), testNotice(`{}`))

	if res.Err == nil || res.Err.Kind != KindTimeout {
		t.Fatalf("Err = %v, want kind timeout", res.Err)
	}
	if got, want := res.Err.Error(), "timed out after 50ms"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !res.Err.Retryable() {
		t.Error("Retryable() = false, want true")
	}
}

func TestDeliverCanceled(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	arrived := make(chan struct{})
	release := make(chan struct{})
	notices := newNoticeServer(t, func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-release
	})
	t.Cleanup(func() { close(release) })
	c := newTestClient(t, tokens.URL, notices.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()

	res := c.Deliver(ctx, testNotice(`{}`))

	if res.Err == nil || res.Err.Kind != KindCanceled {
		t.Fatalf("Err = %v, want kind canceled", res.Err)
	}
	if !res.Err.Retryable() {
		t.Error("Retryable() = false, want true")
	}
}

func TestDeliverMissingIdempotencyKey(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	notices := newNoticeServer(t, okHandler)
	c := newTestClient(t, tokens.URL, notices.URL, nil)

	res := c.Deliver(context.Background(), Notice{MessageID: 7, Body: []byte(`{}`)})

	if res.Err == nil || res.Err.Kind != KindRequest {
		t.Fatalf("Err = %v, want kind request", res.Err)
	}
	if got, want := res.Err.Error(), "notice 7 has no idempotency key"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := notices.requests.Load(); got != 0 {
		t.Errorf("notice requests = %d, want 0", got)
	}
}
