package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenFailure(t *testing.T) {
	t.Parallel()
	respond := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc // nil: nothing listens
		wantStatus int
		wantReason string
	}{
		{"server error", respond(500, "text/html", "<h1>down</h1>"), 500,
			"token request failed: HTTP 500 from token endpoint"},
		{"invalid client", respond(401, "application/json", `{"error":"invalid_client","error_description":"bad secret `+testClientSecret+`"}`), 401,
			`token request failed: HTTP 401 from token endpoint (error "invalid_client")`},
		{"secret echoed", respond(400, "application/json", `{"error":"unknown secret `+testClientSecret+`"}`), 400,
			`token request failed: HTTP 400 from token endpoint (error "unknown secret [secret]")`},
		{"error with 200", respond(200, "application/json", `{"error":"invalid_scope"}`), 200,
			`token request failed: HTTP 200 from token endpoint (error "invalid_scope")`},
		{"bad json", respond(200, "application/json", `{"access_token":`), 0,
			"token request failed: cannot parse json: "},
		{"no access token", respond(200, "application/json", `{"token_type":"Bearer","expires_in":3600}`), 0,
			"token request failed: server response missing access_token"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.invalid/token?client_secret=x", http.StatusTemporaryRedirect)
		}, 307, "token request failed: HTTP 307 from token endpoint (redirect to https://elsewhere.invalid/token not followed)"},
		{"unreachable", nil, 0, "token request failed: connection refused (127.0.0.1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			authURL := "http://" + closedAddr(t) + "/token"
			if tc.handler != nil {
				authURL = newNoticeServer(t, tc.handler).URL + "/token"
			}
			notices := newNoticeServer(t, okHandler)
			c := newTestClient(t, authURL, notices.URL, nil)

			tokenErr := c.Token(context.Background())
			res := c.Deliver(context.Background(), testNotice(`{}`))

			var authErr *Error
			if !errors.As(tokenErr, &authErr) || authErr.Kind != KindAuth {
				t.Fatalf("Token() error = %v, want kind auth", tokenErr)
			}
			if res.Err == nil || res.Err.Kind != KindAuth {
				t.Fatalf("Deliver() Err = %v, want kind auth", res.Err)
			}
			if !res.Err.Retryable() {
				t.Error("Retryable() = false, want true")
			}
			if res.Err.StatusCode != tc.wantStatus {
				t.Errorf("Err.StatusCode = %d, want %d", res.Err.StatusCode, tc.wantStatus)
			}
			if res.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0 because the notice URL was not contacted", res.StatusCode)
			}
			if got := notices.requests.Load(); got != 0 {
				t.Errorf("notice requests = %d, want 0", got)
			}
			got := res.Err.Error()
			t.Logf("Error() = %q", got)
			if !strings.HasPrefix(got, tc.wantReason) {
				t.Errorf("Error() = %q, want prefix %q", got, tc.wantReason)
			}
			if strings.Contains(got, testClientSecret) {
				t.Errorf("Error() = %q contains the client secret", got)
			}
		})
	}
}

func TestTokenCacheExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn int
		steps     []time.Duration // clock advance before each later Token call
		want      []int32         // token fetches after each call
	}{
		{"one hour", 3600, []time.Duration{3539 * time.Second, time.Second}, []int32{1, 1, 2}},
		{"short lived", 30, []time.Duration{26 * time.Second, time.Second}, []int32{1, 1, 2}},
		{"no expiry", 0, []time.Duration{365 * 24 * time.Hour}, []int32{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tokens := newTokenServer(t, tc.expiresIn)
			notices := newNoticeServer(t, okHandler)
			c := newTestClient(t, tokens.URL, notices.URL, nil)
			clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			c.now = clock.Now

			for i, want := range tc.want {
				if i > 0 {
					clock.Advance(tc.steps[i-1])
				}
				if err := c.Token(context.Background()); err != nil {
					t.Fatalf("call %d: Token() error = %v", i+1, err)
				}
				if got := tokens.fetches.Load(); got != want {
					t.Errorf("call %d: token fetches = %d, want %d", i+1, got, want)
				}
			}
		})
	}
}

func TestTokenSharedFetch(t *testing.T) {
	t.Parallel()
	const workers = 8
	tokens := newTokenServer(t, 3600)
	tokens.gate = make(chan struct{})
	notices := newNoticeServer(t, okHandler)
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.MaxConcurrency = workers
	})
	var joined atomic.Int32
	allJoined := make(chan struct{})
	c.tokens.onJoin = func() {
		if joined.Add(1) == workers-1 {
			close(allJoined)
		}
	}
	go func() {
		// Let the token endpoint respond once every other delivery waits
		// for the fetch that the first one started.
		<-allJoined
		close(tokens.gate)
	}()
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
	if got := tokens.fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestTokenWaitCanceled(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	tokens.gate = make(chan struct{})
	notices := newNoticeServer(t, okHandler)
	c := newTestClient(t, tokens.URL, notices.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := c.Token(ctx)

	var tokenErr *Error
	if !errors.As(err, &tokenErr) || tokenErr.Kind != KindCanceled {
		t.Fatalf("Token() error = %v, want kind canceled", err)
	}
	// The fetch started for the canceled caller goes on and serves the
	// next one.
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.Token(context.Background()); err != nil {
			t.Errorf("second Token() error = %v", err)
		}
	})
	close(tokens.gate)
	wg.Wait()
	if got := tokens.fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestTokenTimeout(t *testing.T) {
	t.Parallel()
	tokens := newTokenServer(t, 3600)
	tokens.gate = make(chan struct{})
	t.Cleanup(func() { close(tokens.gate) })
	notices := newNoticeServer(t, okHandler)
	c := newTestClient(t, tokens.URL, notices.URL, func(cfg *Config) {
		cfg.Timeout = 50 * time.Millisecond
	})

	res := c.Deliver(context.Background(), testNotice(`{}`))

	if res.Err == nil || res.Err.Kind != KindAuth {
		t.Fatalf("Err = %v, want kind auth", res.Err)
	}
	if got, want := res.Err.Error(), "token request failed: timed out after 50ms"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := notices.requests.Load(); got != 0 {
		t.Errorf("notice requests = %d, want 0", got)
	}
}
