package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// chunkBytes bounds the payloads held in memory at once by the POST floor.
const chunkBytes = 128 << 20

// postFloor is the time bare keep-alive POSTs of the pass's payloads take.
type postFloor struct {
	total     time.Duration
	posts     int
	bytes     int64
	latencies []time.Duration
}

// archiveReader yields the payloads of an archive file in order.
type archiveReader struct {
	file *os.File
	dec  *json.Decoder
}

// openArchive opens the single archive file in dir and positions the
// decoder at the first element of "messages".
func openArchive(dir string) (*archiveReader, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*-Notices-*.json"))
	if err != nil || len(matches) != 1 {
		return nil, fmt.Errorf("expected one archive file in %s, found %d (%v)", dir, len(matches), err)
	}
	f, err := os.Open(matches[0])
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for {
		tok, err := dec.Token()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read archive %s: %w", matches[0], err)
		}
		if tok == "messages" {
			break
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		f.Close()
		return nil, fmt.Errorf("read archive %s: \"messages\" is not an array", matches[0])
	}
	return &archiveReader{file: f, dec: dec}, nil
}

// next returns up to chunkBytes of payloads, at least one while any remain.
func (a *archiveReader) next() ([][]byte, error) {
	var out [][]byte
	size := 0
	for size < chunkBytes && a.dec.More() {
		var raw json.RawMessage
		if err := a.dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("read archive payload: %w", err)
		}
		out = append(out, raw)
		size += len(raw)
	}
	return out, nil
}

func (a *archiveReader) Close() error { return a.file.Close() }

// poster sends payloads the way a minimal client would: one bearer token,
// kept-alive connections, bounded concurrency.
type poster struct {
	client    *http.Client
	noticeURL string
	token     string
	keyPrefix string
	sent      atomic.Int64
}

func newClient(concurrency int) *http.Client {
	transport := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, DisableCompression: true}
	return &http.Client{Transport: transport, Timeout: time.Minute}
}

// newPoster returns a poster for noticeURL. With tokenURL empty it sends a
// placeholder token.
func newPoster(ctx context.Context, tokenURL, noticeURL, clientID, secret string, concurrency int) (*poster, error) {
	client := newClient(concurrency)
	keyPrefix := fmt.Sprintf("floor-%d-", time.Now().UnixNano())
	if tokenURL == "" {
		return &poster{client: client, noticeURL: noticeURL, token: "none", keyPrefix: keyPrefix}, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, bytes.NewBufferString(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("request a token for the POST floor: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("request a token for the POST floor: status %d, no access_token", resp.StatusCode)
	}
	return &poster{client: client, noticeURL: noticeURL, token: tok.AccessToken, keyPrefix: keyPrefix}, nil
}

// post sends one body and returns its latency.
func (p *poster) post(ctx context.Context, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.noticeURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "koha-webhooks-bench")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%s%d", p.keyPrefix, p.sent.Add(1)))
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	latency := time.Since(start)
	if resp.StatusCode/100 != 2 {
		return latency, fmt.Errorf("POST returned status %s", resp.Status)
	}
	return latency, nil
}

// measurePostFloor POSTs every payload of the pass's archive at the given
// concurrency, once through each poster, and returns one result per poster.
// Reading the archive is not timed: payloads are loaded a chunk at a time,
// and only the POSTs of each chunk are.
func measurePostFloor(ctx context.Context, posters []*poster, archiveDir string, concurrency int) ([]*postFloor, error) {
	archive, err := openArchive(archiveDir)
	if err != nil {
		return nil, err
	}
	defer archive.Close()
	floors := make([]*postFloor, len(posters))
	for i := range floors {
		floors[i] = &postFloor{}
	}
	for {
		bodies, err := archive.next()
		if err != nil {
			return nil, err
		}
		if len(bodies) == 0 {
			return floors, nil
		}
		for i, p := range posters {
			if err := floors[i].postChunk(ctx, p, bodies, concurrency); err != nil {
				return nil, err
			}
		}
	}
}

// startDiscardReceiver starts a loopback server that reads each request
// body and responds 204, the least work any receiver can do.
func startDiscardReceiver() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
}

func (f *postFloor) postChunk(ctx context.Context, p *poster, bodies [][]byte, concurrency int) error {
	latencies := make([]time.Duration, len(bodies))
	var next atomic.Int64
	var failures atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup

	start := time.Now()
	for range min(concurrency, len(bodies)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(bodies)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				d, err := p.post(ctx, bodies[i])
				latencies[i] = d
				if err != nil {
					failures.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	f.total += time.Since(start)

	if ctx.Err() != nil {
		return ctx.Err()
	}
	if firstErr != nil {
		return errors.Join(fmt.Errorf("%d POSTs of the floor failed", failures.Load()), firstErr)
	}

	f.posts += len(bodies)
	for _, b := range bodies {
		f.bytes += int64(len(b))
	}
	f.latencies = append(f.latencies, latencies...)
	return nil
}
