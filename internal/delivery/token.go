package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxRefreshMargin is the longest time before expiry at which a cached token
// is replaced. Tokens living less than ten times this are replaced when 90 %
// of their lifetime has passed.
const maxRefreshMargin = time.Minute

// accessToken is a token obtained from the token endpoint.
type accessToken struct {
	value string
	// refreshAt is when the token is replaced, shortly before it expires.
	// It is zero when the endpoint sent no expires_in, and then the token
	// is kept until the notice URL rejects it.
	refreshAt time.Time
	// generation numbers tokens in the order they were fetched, starting
	// at 1, so a caller can tell whether the token it saw rejected has
	// been replaced already.
	generation uint64
}

// tokenFetch is one token request shared by every caller that needs a token
// while it runs.
type tokenFetch struct {
	done  chan struct{}
	token *accessToken
	err   *Error
}

// tokenCache fetches OAuth2 client-credentials tokens and caches the latest
// one. Concurrent callers share one request.
type tokenCache struct {
	oauth   *clientcredentials.Config
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	// base is canceled by Client.Close and ends a running fetch.
	base context.Context

	// onJoin, when set by a test, is called each time a caller waits for a
	// fetch that another caller started.
	onJoin func()

	mu         sync.Mutex
	current    *accessToken
	fetching   *tokenFetch
	generation uint64
}

// get returns a token that has not reached its refresh time and is newer
// than generation rejected, fetching one when needed. Pass rejected=0 when
// no token was rejected. A caller whose ctx ends stops waiting, but the
// fetch goes on for the other callers.
func (tc *tokenCache) get(ctx context.Context, rejected uint64) (*accessToken, *Error) {
	tc.mu.Lock()
	if t := tc.current; t != nil && t.generation > rejected && tc.fresh(t) {
		tc.mu.Unlock()
		return t, nil
	}
	fetch := tc.fetching
	if fetch == nil {
		fetch = &tokenFetch{done: make(chan struct{})}
		tc.fetching = fetch
		go tc.fetch(fetch)
	} else if tc.onJoin != nil {
		tc.onJoin()
	}
	tc.mu.Unlock()

	select {
	case <-fetch.done:
		return fetch.token, fetch.err
	case <-ctx.Done():
		return nil, contextError(ctx)
	}
}

func (tc *tokenCache) fresh(t *accessToken) bool {
	return t.refreshAt.IsZero() || tc.now().Before(t.refreshAt)
}

// fetch requests a token, stores it and wakes the waiting callers. It runs
// in its own goroutine so that one caller giving up does not fail the
// request for the others.
func (tc *tokenCache) fetch(fetch *tokenFetch) {
	ctx, cancel := context.WithTimeoutCause(tc.base, tc.timeout, errTokenTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, tc.client)

	fetchedAt := tc.now()
	tok, err := tc.oauth.Token(ctx)

	tc.mu.Lock()
	defer tc.mu.Unlock()
	if err != nil {
		fetch.err = tc.authError(ctx, err)
	} else {
		tc.generation++
		tc.current = &accessToken{
			value:      tok.AccessToken,
			refreshAt:  refreshTime(fetchedAt, tok),
			generation: tc.generation,
		}
		fetch.token = tc.current
	}
	tc.fetching = nil
	close(fetch.done)
}

var errTokenTimeout = errors.New("token request timed out")

// refreshTime returns when a token fetched at fetchedAt should be replaced:
// one tenth of its lifetime before expiry, but at most maxRefreshMargin
// before. It returns the zero time when the lifetime is unknown.
func refreshTime(fetchedAt time.Time, tok *oauth2.Token) time.Time {
	var lifetime time.Duration
	switch {
	case tok.ExpiresIn > 0:
		lifetime = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		// Form-encoded responses only set Expiry, computed from the
		// wall clock by the oauth2 package.
		lifetime = time.Until(tok.Expiry)
	default:
		return time.Time{}
	}
	margin := min(lifetime/10, maxRefreshMargin)
	return fetchedAt.Add(lifetime - margin)
}

// authError turns a failed token request into a KindAuth error whose text
// names the cause without the response body, because a token endpoint may
// echo the request. The client secret is replaced in the text for the same
// reason, since the OAuth2 error code comes from the endpoint.
func (tc *tokenCache) authError(ctx context.Context, err error) *Error {
	e := tc.describeFailure(ctx, err)
	e.reason = strings.ReplaceAll(e.reason, tc.oauth.ClientSecret, "[secret]")
	return e
}

func (tc *tokenCache) describeFailure(ctx context.Context, err error) *Error {
	const prefix = "token request failed: "

	var retrieveErr *oauth2.RetrieveError
	switch {
	case errors.As(err, &retrieveErr) && retrieveErr.Response != nil:
		return &Error{Kind: KindAuth, StatusCode: retrieveErr.Response.StatusCode, Err: err,
			reason: prefix + retrieveReason(retrieveErr)}
	case context.Cause(ctx) == errTokenTimeout:
		return &Error{Kind: KindAuth, Err: err,
			reason: fmt.Sprintf("%stimed out after %s", prefix, tc.timeout)}
	case tc.base.Err() != nil:
		return &Error{Kind: KindCanceled, Err: err, reason: "token request canceled because the client was closed"}
	}

	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		// The oauth2 package returns plain errors for a response it
		// cannot parse or that lacks access_token.
		return &Error{Kind: KindAuth, Err: err,
			reason: prefix + strings.TrimPrefix(err.Error(), "oauth2: ")}
	}
	return &Error{Kind: KindAuth, Err: err, reason: prefix + describe(classify(err), err)}
}

// retrieveReason describes a non-2xx or error response from the token
// endpoint by its status and OAuth2 error code.
func retrieveReason(e *oauth2.RetrieveError) string {
	resp := e.Response
	reason := fmt.Sprintf("HTTP %d from token endpoint", resp.StatusCode)
	if e.ErrorCode != "" {
		reason += fmt.Sprintf(" (error %q)", sanitizeSnippet([]byte(e.ErrorCode)))
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		reason += redirectNote(resp)
	}
	return reason
}
