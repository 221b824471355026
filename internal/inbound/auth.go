package inbound

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Koha permission bits (userflags.bit) and the plugins sub-permission that
// allows changing notices through this API.
const (
	superlibrarianBit = 0
	pluginsModuleBit  = 19
	pluginsConfigure  = "configure"
)

// realm is the realm of the WWW-Authenticate challenges.
const realm = "koha-webhooks"

// maxTokenLength bounds the bearer tokens that are looked up in the
// database. Tokens issued here have 43 characters, and Koha's fit in
// oauth_access_tokens.access_token, a varchar(191).
const maxTokenLength = 512

// caller is the authenticated identity behind a request.
type caller struct {
	kind   string // "token", "api_key" or "staff"
	name   string // "#n" for static tokens, the client_id or the staff login
	patron int64  // borrowernumber whose permissions apply, 0 for static tokens
}

// String returns the identity recorded in the audit table, for example
// "api_key:3f2a…" or "staff:jdoe".
func (c caller) String() string { return c.kind + ":" + c.name }

// authError is the rejection of a request's credentials, with status 401
// when they are missing or invalid and 403 when they lack the permission.
type authError struct {
	status int
	// message is sent to the client.
	message string
	// bearerError is the RFC 6750 error code for the WWW-Authenticate
	// header, set when a bearer token was rejected.
	bearerError string
}

func (e *authError) Error() string { return e.message }

func unauthorized(message string) *authError {
	return &authError{status: http.StatusUnauthorized, message: message}
}

// callerHandler handles a request whose caller is authenticated and
// permitted.
type callerHandler func(w http.ResponseWriter, r *http.Request, c caller)

// requireCaller authenticates each request and checks its permission before
// calling next.
func (a *API) requireCaller(next callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r.Context(), r)
		var rejected *authError
		switch {
		case errors.As(err, &rejected):
			// Failure policy: fail closed because an unauthenticated or
			// unpermitted caller must not change a notice.
			a.writeAuthError(w, rejected)
			return
		case err != nil:
			// Failure policy: fail closed because credentials that could
			// not be checked are treated as invalid.
			a.log.Error("inbound API could not check credentials", "path", r.URL.Path, "error", err)
			writeError(w, http.StatusInternalServerError, internalErrorMessage)
			return
		}
		next(w, r, c)
	})
}

func (a *API) writeAuthError(w http.ResponseWriter, e *authError) {
	if e.status == http.StatusUnauthorized {
		bearer := fmt.Sprintf("Bearer realm=%q", realm)
		if e.bearerError != "" {
			bearer += fmt.Sprintf(", error=%q", e.bearerError)
		}
		w.Header().Add("WWW-Authenticate", bearer)
		w.Header().Add("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", realm))
	}
	writeError(w, e.status, e.message)
}

// authenticate returns the caller of r, or an *authError when the
// credentials are missing, invalid or lack permission. Other errors are
// database failures.
func (a *API) authenticate(ctx context.Context, r *http.Request) (caller, error) {
	header := r.Header.Get("Authorization")
	scheme, credentials, _ := strings.Cut(header, " ")
	credentials = strings.TrimSpace(credentials)

	var c caller
	var err error
	switch {
	case header == "":
		// Failure policy: fail closed because every call must be
		// authenticated.
		a.rejections.Record("missing", "no Authorization header", "path", r.URL.Path)
		return caller{}, unauthorized("authentication required: send an Authorization header with a Bearer token or Basic credentials of a Koha staff account")
	case strings.EqualFold(scheme, "Bearer"):
		c, err = a.authenticateBearer(ctx, credentials)
	case strings.EqualFold(scheme, "Basic"):
		c, err = a.authenticateBasic(ctx, r)
	default:
		// Failure policy: fail closed because no other scheme is supported.
		a.rejections.Record("scheme", "unsupported authorization scheme", "scheme", truncate(scheme, 32))
		return caller{}, unauthorized(fmt.Sprintf("unsupported authorization scheme %q: use Bearer or Basic", scheme))
	}
	if err != nil {
		return caller{}, err
	}
	if c.kind == "token" {
		return c, nil
	}
	return c, a.requirePermission(ctx, c)
}

// authenticateBearer accepts a configured static token, an access token this
// package issued, or an access token Koha issued.
func (a *API) authenticateBearer(ctx context.Context, token string) (caller, error) {
	invalid := &authError{status: http.StatusUnauthorized, bearerError: "invalid_token",
		message: "invalid bearer token: it is unknown, expired or revoked. Request a new token from the token endpoint"}
	if token == "" || len(token) > maxTokenLength {
		// Failure policy: fail closed because an empty or oversized token
		// cannot be valid.
		a.rejections.Record("bearer", "malformed token")
		return caller{}, invalid
	}
	if n := a.matchStaticToken(token); n > 0 {
		return caller{kind: "token", name: fmt.Sprintf("#%d", n)}, nil
	}
	c, found, err := a.lookupIssuedToken(ctx, token)
	if err != nil || found {
		return c, err
	}
	c, found, err = a.lookupKohaToken(ctx, token)
	if err != nil || found {
		return c, err
	}
	// Failure policy: fail closed because the token matches no static,
	// issued or Koha token that is still valid.
	a.rejections.Record("bearer", "unknown, expired or revoked token")
	return caller{}, invalid
}

// matchStaticToken returns the 1-based position of token in the configured
// static tokens, or 0. It compares SHA-256 hashes in constant time and
// always checks every configured token, so the timing does not reveal which
// one, or how much of one, matched.
func (a *API) matchStaticToken(token string) int {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range a.staticTokens {
		if subtle.ConstantTimeCompare(sum[:], a.staticTokens[i][:]) == 1 && match == 0 {
			match = i + 1
		}
	}
	return match
}

// lookupKohaToken finds token in Koha's oauth_access_tokens, which stores the
// tokens of Koha's own /api/v1/oauth/token endpoint in plain text with the
// expiry in Unix seconds. The token's API key must be active.
func (a *API) lookupKohaToken(ctx context.Context, token string) (caller, bool, error) {
	var c caller
	err := a.db.QueryRowContext(ctx, `SELECT o.client_id, k.patron_id
		FROM oauth_access_tokens o JOIN api_keys k ON k.client_id = o.client_id
		WHERE o.access_token = ? AND o.expires > ? AND k.active = 1`, token, a.now().Unix()).Scan(&c.name, &c.patron)
	if errors.Is(err, sql.ErrNoRows) {
		return caller{}, false, nil
	}
	if err != nil {
		return caller{}, false, fmt.Errorf("look up Koha access token: %w", err)
	}
	c.kind = "api_key"
	return c, true, nil
}

// requirePermission returns an *authError with status 403 unless the
// caller's patron may configure plugins.
func (a *API) requirePermission(ctx context.Context, c caller) error {
	ok, err := hasPluginPermission(ctx, a.db, c.patron)
	if err != nil {
		return err
	}
	if !ok {
		// Failure policy: fail closed because only staff allowed to
		// configure plugins may change notices.
		a.rejections.Record("permission", "patron lacks the plugins permission", "caller", c.String(), "borrowernumber", c.patron)
		return &authError{status: http.StatusForbidden,
			message: fmt.Sprintf("%s lacks permission: the patron needs superlibrarian, the plugins module, or the plugins sub-permission %q", c, pluginsConfigure)}
	}
	return nil
}

// queryRower is the part of *sql.DB and *sql.Tx the permission check uses.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// hasPluginPermission reports whether the patron is a superlibrarian, has
// the whole plugins module, or has the plugins sub-permission "configure".
// A patron that does not exist has no permission.
func hasPluginPermission(ctx context.Context, db queryRower, borrowernumber int64) (bool, error) {
	var ok bool
	err := db.QueryRowContext(ctx, `SELECT (COALESCE(b.flags, 0) & ?) <> 0 OR (COALESCE(b.flags, 0) & ?) <> 0
		OR EXISTS (SELECT 1 FROM user_permissions p WHERE p.borrowernumber = b.borrowernumber AND p.module_bit = ? AND p.code = ?)
		FROM borrowers b WHERE b.borrowernumber = ?`,
		int64(1)<<superlibrarianBit, int64(1)<<pluginsModuleBit, pluginsModuleBit, pluginsConfigure, borrowernumber).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read permissions of borrower %d: %w", borrowernumber, err)
	}
	return ok, nil
}
