package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "koha-client"
	testClientSecret = "s3cr3t-client-secret"
)

// tokenServer is an OAuth2 token endpoint on loopback that issues
// "token-1", "token-2", … and checks the client-credentials form.
type tokenServer struct {
	*httptest.Server
	fetches atomic.Int32
	// expiresIn is sent as expires_in when positive.
	expiresIn int
	// gate, when not nil, is waited on before each response.
	gate chan struct{}
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve(t)))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) serve(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := ts.fetches.Add(1)
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request form: %v", err)
		}
		checks := map[string]string{
			"grant_type":    "client_credentials",
			"client_id":     testClientID,
			"client_secret": testClientSecret,
		}
		for key, want := range checks {
			if got := r.PostForm.Get(key); got != want {
				t.Errorf("token request %s = %q, want %q", key, got, want)
			}
		}
		if got := r.Header.Get("Authorization"); got != "" {
			t.Errorf("token request Authorization = %q, want none because credentials go in the body", got)
		}
		if ts.gate != nil {
			<-ts.gate
		}

		resp := map[string]any{"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer"}
		if ts.expiresIn > 0 {
			resp["expires_in"] = ts.expiresIn
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// noticeServer is a webhook receiver on loopback that counts requests.
type noticeServer struct {
	*httptest.Server
	requests atomic.Int32
}

func newNoticeServer(t *testing.T, handler http.HandlerFunc) *noticeServer {
	t.Helper()
	ns := &noticeServer{}
	ns.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns.requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(ns.Close)
	return ns
}

func okHandler(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusAccepted)
}

// newTestClient returns a client for the given endpoints with test
// credentials; fill sets further fields.
func newTestClient(t *testing.T, authURL, noticeURL string, fill func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		AuthURL:      authURL,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		NoticeURL:    noticeURL,
	}
	if fill != nil {
		fill(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func testNotice(body string) Notice {
	return Notice{MessageID: 42, IdempotencyKey: "koha-test-42", Body: []byte(body)}
}

// closedAddr returns a loopback address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}

// fakeClock is a settable clock for token expiry and timestamps.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func deliverAll(c *Client, notices []Notice) []Result {
	results := make([]Result, len(notices))
	var wg sync.WaitGroup
	for i, n := range notices {
		wg.Go(func() {
			results[i] = c.Deliver(context.Background(), n)
		})
	}
	wg.Wait()
	return results
}
