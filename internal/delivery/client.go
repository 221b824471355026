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
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Notice is one notice to deliver.
type Notice struct {
	// MessageID is the message_queue row id, used in error messages.
	MessageID int64
	// IdempotencyKey is sent as Idempotency-Key and webhook-id. It must
	// be the same on every attempt for one notice, so that the receiver
	// can drop duplicates.
	IdempotencyKey string
	// Body is the JSON document to send.
	Body []byte
}

// Result is the outcome of one Deliver call.
type Result struct {
	// StatusCode is the status of the last response from the notice URL,
	// or 0 when no response arrived.
	StatusCode int
	// Err is nil when the notice was accepted with a 2xx status.
	Err *Error
	// RetryAfter is the delay requested by the Retry-After header of the
	// last response, or 0 when the header was absent or malformed.
	RetryAfter time.Duration
	// Duration is the time Deliver took, including the wait for a free
	// slot and for a token.
	Duration time.Duration
	// BytesSent is the number of body bytes sent, after compression,
	// summed over the requests that received a response. A request that
	// failed without a response is not counted because how much of it
	// left is unknown.
	BytesSent int
}

// Client delivers notices to the notice service. It is safe for concurrent
// use.
type Client struct {
	cfg        Config
	http       *http.Client
	tokens     *tokenCache
	signingKey []byte
	// slots bounds the deliveries in flight to cfg.MaxConcurrency.
	slots chan struct{}
	// now is the clock for webhook-timestamp, Retry-After dates and token
	// expiry. Tests replace it.
	now    func() time.Time
	cancel context.CancelFunc
}

var errRequestTimeout = errors.New("request timed out")

// New returns a Client for cfg after applying the defaults. It returns a
// *ConfigError naming the field when cfg is invalid. New sends no request.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	key, err := decodeSigningSecret(cfg.SigningSecret)
	if err != nil {
		return nil, err
	}

	transport := cfg.Transport
	if transport == nil {
		transport = newTransport(cfg)
	}
	httpClient := &http.Client{
		Transport: transport,
		// Redirects are never followed. Following one would turn the POST
		// into a GET without the body for 301 to 303, or re-send the
		// token and the client secret to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	base, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:        cfg,
		http:       httpClient,
		signingKey: key,
		slots:      make(chan struct{}, cfg.MaxConcurrency),
		now:        time.Now,
		cancel:     cancel,
	}
	c.tokens = &tokenCache{
		oauth: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.AuthURL,
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		client:  httpClient,
		timeout: cfg.Timeout,
		now:     func() time.Time { return c.now() },
		base:    base,
	}
	return c, nil
}

// Token makes sure a valid token is cached, fetching one when needed. A
// caller delivering a batch calls it first, so that a failing token
// endpoint is reported once rather than by every delivery. The error is a
// *Error of kind KindAuth, or KindCanceled or KindTimeout when ctx ends
// first.
func (c *Client) Token(ctx context.Context) error {
	if _, err := c.tokens.get(ctx, 0); err != nil {
		return err
	}
	return nil
}

// Deliver POSTs one notice to the notice URL and returns the outcome. It
// waits for a free slot when MaxConcurrency deliveries are in flight.
// Without a token nothing is sent and Result.Err has kind KindAuth. When the
// notice URL returns 401, Deliver fetches one new token and sends again, and
// a second 401 is a KindHTTPClient failure. Each request is bounded by
// Config.Timeout, so Deliver can take about twice that.
func (c *Client) Deliver(ctx context.Context, n Notice) Result {
	start := time.Now()
	res := c.deliver(ctx, n)
	res.Duration = time.Since(start)
	return res
}

// Close cancels a running token request and closes idle connections.
// Deliveries in flight that already have a token finish normally, and those
// waiting for a token fail with KindCanceled.
func (c *Client) Close() {
	c.cancel()
	c.http.CloseIdleConnections()
}

func (c *Client) deliver(ctx context.Context, n Notice) Result {
	if n.IdempotencyKey == "" {
		return Result{Err: &Error{Kind: KindRequest,
			reason: fmt.Sprintf("notice %d has no idempotency key", n.MessageID)}}
	}
	body, err := c.encode(n.Body)
	if err != nil {
		return Result{Err: &Error{Kind: KindRequest, Err: err, reason: "compressing the body failed: " + err.Error()}}
	}

	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return Result{Err: contextError(ctx)}
	}

	token, authErr := c.tokens.get(ctx, 0)
	if authErr != nil {
		return Result{Err: authErr}
	}
	first := c.post(ctx, n, body, token, false)
	if first.StatusCode != http.StatusUnauthorized {
		return first
	}

	// The notice service rejected a token that had not expired yet, for
	// example after it rotated its keys. Every delivery rejected with the
	// same token shares one new token request.
	token, authErr = c.tokens.get(ctx, token.generation)
	if authErr != nil {
		first.Err = authErr
		return first
	}
	// Failure policy: fail closed (no further refresh) because a second
	// 401 with a token fetched just now means the credentials themselves
	// are rejected, which only a person can fix.
	second := c.post(ctx, n, body, token, true)
	second.BytesSent += first.BytesSent
	return second
}

// encodedBody is a request body as it goes on the wire.
type encodedBody struct {
	data        []byte
	contentType string
	gzipped     bool
}

// encode gzips a body longer than the gzip threshold.
func (c *Client) encode(body []byte) (encodedBody, error) {
	if c.cfg.GzipThreshold < 0 || len(body) <= c.cfg.GzipThreshold {
		return encodedBody{data: body, contentType: "application/json"}, nil
	}

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		return encodedBody{}, err
	}
	if err := zw.Close(); err != nil {
		return encodedBody{}, err
	}
	return encodedBody{data: buf.Bytes(), contentType: "application/octet-stream", gzipped: true}, nil
}

// post sends one request with the given token and reads the response.
// afterRefresh marks the request sent with a token fetched after a 401.
func (c *Client) post(ctx context.Context, n Notice, body encodedBody, token *accessToken, afterRefresh bool) Result {
	reqCtx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errRequestTimeout)
	defer cancel()

	req, err := c.newRequest(reqCtx, n, body, token)
	if err != nil {
		return Result{Err: &Error{Kind: KindRequest, Err: err, reason: "building the request failed"}}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{Err: c.transportError(ctx, reqCtx, err)}
	}
	// The head is longer than the excerpt by the token length, so that a
	// token starting inside the excerpt is read whole and replaced.
	head, truncated := drainBody(resp.Body, 2*maxSnippetBytes+len(token.value))
	snippet := responseExcerpt(head, truncated, token.value)

	res := Result{
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
		BytesSent:  len(body.data),
	}
	kind := statusKind(resp.StatusCode)
	if kind == "" {
		return res
	}

	reason := statusText(resp.StatusCode)
	if afterRefresh {
		reason += " after a token refresh"
	}
	if kind == KindRedirect {
		reason += redirectNote(resp)
	}
	if snippet != "" {
		reason += ": " + snippet
	}
	res.Err = &Error{Kind: kind, StatusCode: resp.StatusCode, reason: reason}
	return res
}

// newRequest builds the POST with its headers. Lowercase header names are
// set on the map directly so that they go out exactly as the receiver's
// documentation spells them. Idempotency-Key keeps its canonical form
// because net/http then treats the POST as safe to resend when a reused
// keep-alive connection turns out to be closed.
func (c *Client) newRequest(ctx context.Context, n Notice, body encodedBody, token *accessToken) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.NoticeURL, bytes.NewReader(body.data))
	if err != nil {
		return nil, err
	}

	h := req.Header
	h.Set("Authorization", "Bearer "+token.value)
	h.Set("Content-Type", body.contentType)
	if body.gzipped {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("User-Agent", c.cfg.UserAgent)
	h.Set("Idempotency-Key", n.IdempotencyKey)
	if c.cfg.CustomerID != "" {
		h["customer-id"] = []string{c.cfg.CustomerID}
	}
	if c.signingKey != nil {
		timestamp := strconv.FormatInt(c.now().Unix(), 10)
		h["webhook-id"] = []string{n.IdempotencyKey}
		h["webhook-timestamp"] = []string{timestamp}
		h["webhook-signature"] = []string{"v1," + sign(c.signingKey, n.IdempotencyKey, timestamp, body.data)}
	}
	return req, nil
}

// sign returns the Standard Webhooks signature: base64 of
// HMAC-SHA256(key, id + "." + timestamp + "." + body). The body is the
// exact bytes sent, so for a gzipped body the receiver must verify the
// signature before decompressing.
func sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// transportError classifies an error from sending a request whose context
// reqCtx was derived from the caller's ctx.
func (c *Client) transportError(ctx, reqCtx context.Context, err error) *Error {
	if context.Cause(reqCtx) == errRequestTimeout {
		return &Error{Kind: KindTimeout, Err: err, reason: fmt.Sprintf("timed out after %s", c.cfg.Timeout)}
	}
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	kind := classify(err)
	return &Error{Kind: kind, Err: err, reason: describe(kind, err)}
}

// contextError returns the error for a caller's context that ended.
func contextError(ctx context.Context) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Err: ctx.Err(), reason: "timed out: the caller's deadline passed"}
	}
	return &Error{Kind: KindCanceled, Err: ctx.Err(), reason: "canceled before the delivery finished"}
}
