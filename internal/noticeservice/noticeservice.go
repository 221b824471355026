// Package noticeservice is a small stand-in for the notice service on
// loopback: an OAuth2 client-credentials token endpoint and a webhook
// receiver that records every notice it accepts. The demo, the benchmark
// and the tests run koha-webhooks against it.
package noticeservice

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Received is one POST to the webhook URL.
type Received struct {
	Header http.Header
	Body   []byte // decompressed when sent with Content-Encoding: gzip
	// MessageID is payload.message.message_id (full payloads) or
	// payload.message_id (minimal payloads); 0 when absent.
	MessageID      int64
	IdempotencyKey string
	Status         int // the HTTP status the receiver responded with
	At             time.Time
}

// Reply is the receiver's response to one POST.
type Reply struct {
	Status int         // 0 means 200
	Header http.Header // extra response headers, e.g. Retry-After
}

// Service is a running token endpoint and receiver.
type Service struct {
	ClientID     string
	ClientSecret string
	// Respond, when set, chooses the reply to each authenticated POST;
	// attempt counts the POSTs of the same idempotency key, from 1.
	Respond func(r *Received, attempt int) Reply
	// TokenLifetime is the expires_in of issued tokens; default one hour.
	TokenLifetime time.Duration
	// Discard keeps counts only, not bodies (for the benchmark).
	Discard bool

	server *httptest.Server

	mu           sync.Mutex
	tokenFailure int // HTTP status the token endpoint returns; 0 issues tokens
	tokens       map[string]bool
	tokenCount   int
	received     []*Received
	attempts     map[string]int
	accepted     int
	bytes        int64
	changed      chan struct{}
}

// Start starts a service on a loopback port.
func Start(clientID, clientSecret string) *Service {
	s := &Service{ClientID: clientID, ClientSecret: clientSecret, tokens: map[string]bool{},
		attempts: map[string]int{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /notices", s.notice)
	s.server = httptest.NewServer(mux)
	return s
}

// Close stops the service.
func (s *Service) Close() { s.server.Close() }

// TokenURL returns the token endpoint's URL.
func (s *Service) TokenURL() string { return s.server.URL + "/token" }

// NoticeURL returns the webhook URL.
func (s *Service) NoticeURL() string { return s.server.URL + "/notices" }

// FailTokens makes the token endpoint answer status (0 restores it).
func (s *Service) FailTokens(status int) {
	s.mu.Lock()
	s.tokenFailure = status
	s.mu.Unlock()
}

// RevokeTokens invalidates every issued token, so the next POST gets a 401.
func (s *Service) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]bool{}
	s.mu.Unlock()
}

// TokenRequests returns the number of tokens issued.
func (s *Service) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCount
}

// Received returns every POST received so far, accepted or not.
func (s *Service) Received() []*Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Received(nil), s.received...)
}

// Accepted returns the number of POSTs that got a 2xx response.
func (s *Service) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// BytesReceived returns the body bytes received on the wire.
func (s *Service) BytesReceived() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// WaitAccepted blocks until n POSTs have been accepted or timeout passes,
// and reports whether they were.
func (s *Service) WaitAccepted(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok, ch := s.accepted >= n, s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokenFailure != 0 {
		http.Error(w, `{"error":"temporarily_unavailable"}`, s.tokenFailure)
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != s.ClientID ||
		r.PostForm.Get("client_secret") != s.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	s.tokenCount++
	tok := fmt.Sprintf("token-%d-%d", time.Now().UnixNano(), s.tokenCount)
	s.tokens[tok] = true
	lifetime := s.TokenLifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(lifetime.Seconds())})
}

func (s *Service) notice(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "bad gzip body", http.StatusBadRequest)
			return
		}
	}
	rec := &Received{Header: r.Header.Clone(), IdempotencyKey: r.Header.Get("Idempotency-Key"), At: time.Now()}
	if !s.Discard {
		rec.Body = body
	}
	rec.MessageID = messageID(body)

	s.mu.Lock()
	authorized := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	s.attempts[rec.IdempotencyKey]++
	attempt := s.attempts[rec.IdempotencyKey]
	s.mu.Unlock()

	reply := Reply{Status: http.StatusOK}
	switch {
	case !authorized:
		reply.Status = http.StatusUnauthorized
	case s.Respond != nil:
		reply = s.Respond(rec, attempt)
		if reply.Status == 0 {
			reply.Status = http.StatusOK
		}
	}
	rec.Status = reply.Status

	s.mu.Lock()
	if !s.Discard {
		s.received = append(s.received, rec)
	}
	s.bytes += int64(len(raw))
	if reply.Status/100 == 2 {
		s.accepted++
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(reply.Status)
}

func messageID(body []byte) int64 {
	var p struct {
		MessageID json.Number `json:"message_id"`
		Message   struct {
			MessageID json.Number `json:"message_id"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &p) != nil {
		return 0
	}
	id, err := p.Message.MessageID.Int64()
	if err != nil {
		id, _ = p.MessageID.Int64()
	}
	return id
}
