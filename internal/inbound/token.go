package inbound

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// maxTokenRequestBytes bounds the form body of a token request.
const maxTokenRequestBytes = 64 << 10

// dbTimeLayout is the layout of DATETIME(6) values.
const dbTimeLayout = "2006-01-02 15:04:05.000000"

// dbTime formats t for a DATETIME(6) column, in UTC like every time this
// package stores.
func dbTime(t time.Time) string { return t.UTC().Format(dbTimeLayout) }

// tokenError is an OAuth2 error response (RFC 6749 section 5.2).
type tokenError struct {
	status      int
	code        string // invalid_request, invalid_client, unauthorized_client or unsupported_grant_type
	description string
}

func (e *tokenError) Error() string { return e.code + ": " + e.description }

// tokenResponse is a successful OAuth2 access token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}

// apiKey is the api_keys row a client authenticated with.
type apiKey struct {
	clientID string
	patron   int64
}

// handleToken implements the OAuth2 client-credentials grant with Koha API
// keys. Clients authenticate either with client_id and client_secret in
// the form body or with an "Authorization: Basic" header (RFC 6749 section
// 2.3.1), but not both.
func (a *API) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")

	response, err := a.issueToken(w, r)
	var rejected *tokenError
	switch {
	case errors.As(err, &rejected):
		// Credential failures are recorded where they are detected, with
		// the client_id.
		if rejected.code == "invalid_request" || rejected.code == "unsupported_grant_type" {
			a.rejections.Record("token request", rejected.description)
		}
		if rejected.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
		}
		writeJSON(w, rejected.status, map[string]string{"error": rejected.code, "error_description": rejected.description})
	case err != nil:
		a.log.Error("inbound API could not issue an access token", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": internalErrorMessage})
	default:
		writeJSON(w, http.StatusOK, response)
	}
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request) (tokenResponse, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "invalid_request", "the body is not a valid application/x-www-form-urlencoded form: " + err.Error()}
	}
	if name := repeatedParameter(r.PostForm); name != "" {
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %s is given more than once", name)}
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "client_credentials":
	case "":
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "invalid_request", "grant_type is missing; send grant_type=client_credentials in the form body"}
	default:
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use client_credentials", grant)}
	}

	clientID, secret, err := clientCredentials(r)
	if err != nil {
		return tokenResponse{}, err
	}
	key, err := a.verifyClient(r.Context(), clientID, secret)
	if err != nil {
		return tokenResponse{}, err
	}
	permitted, err := hasPluginPermission(r.Context(), a.db, key.patron)
	if err != nil {
		return tokenResponse{}, err
	}
	if !permitted {
		// Failure policy: fail closed because the key's owner may not
		// change notices, so a token would be of no use.
		a.rejections.Record("token endpoint", "API key owner lacks the plugins permission", "client_id", key.clientID, "borrowernumber", key.patron)
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "unauthorized_client",
			fmt.Sprintf("the owner of API key %s needs superlibrarian, the plugins module, or the plugins sub-permission %q", key.clientID, pluginsConfigure)}
	}
	return a.storeToken(r.Context(), key)
}

// repeatedParameter returns the name of a form parameter given more than
// once, which RFC 6749 section 3.2 forbids, or "".
func repeatedParameter(form url.Values) string {
	var names []string
	for name, values := range form {
		if len(values) > 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// clientCredentials returns the client_id and secret from the Basic header
// or the form body.
func clientCredentials(r *http.Request) (clientID, secret string, err error) {
	headerID, headerSecret, inHeader := r.BasicAuth()
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if inHeader {
		if formSecret != "" {
			return "", "", &tokenError{http.StatusBadRequest, "invalid_request", "client credentials are both in the Authorization header and in the form body; send them in one place"}
		}
		// The header carries both values form-encoded (RFC 6749 section
		// 2.3.1).
		clientID, err1 := url.QueryUnescape(headerID)
		secret, err2 := url.QueryUnescape(headerSecret)
		if err1 == nil && err2 == nil && clientID != "" {
			return clientID, secret, nil
		}
		return "", "", &tokenError{http.StatusUnauthorized, "invalid_client", "the Basic credentials are not a form-encoded client_id and client_secret"}
	}
	if formID == "" || formSecret == "" {
		return "", "", &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication is missing: send client_id and client_secret of a Koha API key"}
	}
	return formID, formSecret, nil
}

// verifyClient checks the secret of an active api_keys row.
func (a *API) verifyClient(ctx context.Context, clientID, secret string) (apiKey, error) {
	var stored sql.NullString
	var active bool
	key := apiKey{clientID: clientID}
	err := a.db.QueryRowContext(ctx, `SELECT secret, patron_id, active FROM api_keys WHERE client_id = ?`, clientID).
		Scan(&stored, &key.patron, &active)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return apiKey{}, fmt.Errorf("look up API key: %w", err)
	}
	invalid := &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed: unknown client_id, wrong secret or revoked API key"}

	// An unknown client_id leaves stored NULL, which checkPassword compares
	// against a dummy hash so that the response time is the same.
	if !checkPassword(stored, secret) {
		// Failure policy: fail closed because the secret does not match.
		a.rejections.Record("token endpoint", "unknown client_id or wrong secret", "client_id", clientID)
		return apiKey{}, invalid
	}
	if !active {
		// Failure policy: fail closed because a Koha administrator revoked
		// the key.
		a.rejections.Record("token endpoint", "API key is revoked", "client_id", clientID)
		return apiKey{}, invalid
	}
	return key, nil
}

// storeToken creates a random access token, stores its SHA-256 hash with
// the expiry, and deletes tokens that have expired.
func (a *API) storeToken(ctx context.Context, key apiKey) (tokenResponse, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)

	now := a.now()
	if _, err := a.db.ExecContext(ctx, `DELETE FROM `+tokensTable+` WHERE expires_at <= ?`, dbTime(now)); err != nil {
		return tokenResponse{}, fmt.Errorf("delete expired access tokens: %w", err)
	}
	_, err := a.db.ExecContext(ctx, `INSERT INTO `+tokensTable+` (token_sha256, client_id, patron_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashToken(token), key.clientID, key.patron, dbTime(now), dbTime(now.Add(a.tokenLifetime)))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("store access token: %w", err)
	}
	a.log.Info("inbound API issued an access token", "client_id", key.clientID, "borrowernumber", key.patron, "expires_in", a.tokenLifetime)
	return tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(a.tokenLifetime / time.Second)}, nil
}

// lookupIssuedToken finds an unexpired token issued by storeToken whose API
// key is still active.
func (a *API) lookupIssuedToken(ctx context.Context, token string) (caller, bool, error) {
	var c caller
	err := a.db.QueryRowContext(ctx, `SELECT t.client_id, k.patron_id
		FROM `+tokensTable+` t JOIN api_keys k ON k.client_id = t.client_id
		WHERE t.token_sha256 = ? AND t.expires_at > ? AND k.active = 1`, hashToken(token), dbTime(a.now())).Scan(&c.name, &c.patron)
	if errors.Is(err, sql.ErrNoRows) {
		return caller{}, false, nil
	}
	if err != nil {
		return caller{}, false, fmt.Errorf("look up issued access token: %w", err)
	}
	c.kind = "api_key"
	return c, true, nil
}

// hashToken returns the hex SHA-256 of token, the form in which issued
// tokens are stored.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
