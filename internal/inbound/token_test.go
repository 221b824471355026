package inbound_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// tokenReply is the JSON body of a token endpoint response.
type tokenReply struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// requestToken posts form to path with an optional Authorization header.
func (f *fixture) requestToken(path string, form url.Values, authorization string) (*http.Response, tokenReply) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, f.server.URL+path, strings.NewReader(form.Encode()))
	must(f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := f.server.Client().Do(req)
	must(f.t, err)
	defer resp.Body.Close()
	var reply tokenReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		f.t.Fatalf("decode token response: %v", err)
	}
	return resp, reply
}

// issue obtains a token for clientID and secret and fails the test unless
// the endpoint issues one.
func (f *fixture) issue(clientID, secret string) string {
	f.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	resp, reply := f.requestToken("/api/v1/oauth/token", form, "")
	if resp.StatusCode != http.StatusOK || reply.AccessToken == "" {
		f.t.Fatalf("token request: status code %d, error %q: %s", resp.StatusCode, reply.Error, reply.ErrorDescription)
	}
	return reply.AccessToken
}

func TestTokenEndpoint(t *testing.T) {
	f := setup(t)
	owner := f.staff("svc", "svc-pass", flagCatalogue)
	f.grantConfigure(owner)
	client := f.apiKey(owner, "s3cret-value", bcrypt.MinCost)
	kohaCost := f.apiKey(owner, "koha-cost-secret", 8)
	revoked := f.apiKey(owner, "revoked-secret", bcrypt.MinCost)
	f.exec(`UPDATE api_keys SET active = 0 WHERE client_id = ?`, revoked)
	unpermitted := f.apiKey(f.staff("pat", "pat-pass", flagCatalogue), "pat-secret", bcrypt.MinCost)

	form := func(pairs ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(pairs); i += 2 {
			v.Add(pairs[i], pairs[i+1])
		}
		return v
	}
	clientBasic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	tests := []struct {
		name          string
		path          string
		form          url.Values
		authorization string
		wantStatus    int
		wantError     string
	}{
		{"form credentials", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", client, "client_secret", "s3cret-value"), "", 200, ""},
		{"basic credentials", "/api/v1/oauth/token", form("grant_type", "client_credentials"), clientBasic(client, "s3cret-value"), 200, ""},
		{"cost 8 secret", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", kohaCost, "client_secret", "koha-cost-secret"), "", 200, ""},
		{"path under prefix", "/api/v1/contrib/webhook_notifications/oauth/token", form("grant_type", "client_credentials", "client_id", client, "client_secret", "s3cret-value"), "", 200, ""},
		{"wrong secret", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", client, "client_secret", "guess"), "", 401, "invalid_client"},
		{"wrong basic secret", "/api/v1/oauth/token", form("grant_type", "client_credentials"), clientBasic(client, "guess"), 401, "invalid_client"},
		{"unknown client", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", "s3cret-value"), "", 401, "invalid_client"},
		{"revoked key", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", revoked, "client_secret", "revoked-secret"), "", 401, "invalid_client"},
		{"no client authentication", "/api/v1/oauth/token", form("grant_type", "client_credentials"), "", 401, "invalid_client"},
		{"owner without permission", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_id", unpermitted, "client_secret", "pat-secret"), "", 400, "unauthorized_client"},
		{"missing grant_type", "/api/v1/oauth/token", form("client_id", client, "client_secret", "s3cret-value"), "", 400, "invalid_request"},
		{"password grant", "/api/v1/oauth/token", form("grant_type", "password", "client_id", client, "client_secret", "s3cret-value"), "", 400, "unsupported_grant_type"},
		{"credentials twice", "/api/v1/oauth/token", form("grant_type", "client_credentials", "client_secret", "s3cret-value"), clientBasic(client, "s3cret-value"), 400, "invalid_request"},
		{"repeated parameter", "/api/v1/oauth/token", form("grant_type", "client_credentials", "grant_type", "client_credentials", "client_id", client, "client_secret", "s3cret-value"), "", 400, "invalid_request"},
	}
	t.Cleanup(func() { f.checkLogsOmit("s3cret-value", "koha-cost-secret", "revoked-secret", "pat-secret", "guess") })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, reply := f.requestToken(tt.path, tt.form, tt.authorization)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status code = %d, want %d (error %q: %s)", resp.StatusCode, tt.wantStatus, reply.Error, reply.ErrorDescription)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if reply.Error != tt.wantError {
				t.Errorf("error = %q, want %q", reply.Error, tt.wantError)
			}
			if tt.wantStatus == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.wantStatus != http.StatusOK {
				if reply.AccessToken != "" {
					t.Error("error response carries an access token")
				}
				return
			}
			f.checkLogsOmit(reply.AccessToken)
			if reply.TokenType != "Bearer" {
				t.Errorf("token_type = %q, want Bearer", reply.TokenType)
			}
			if reply.ExpiresIn != 3600 {
				t.Errorf("expires_in = %d, want 3600", reply.ExpiresIn)
			}
			if len(reply.AccessToken) < 40 {
				t.Errorf("access_token has %d characters, want at least 40", len(reply.AccessToken))
			}
		})
	}
}

func TestIssuedToken(t *testing.T) {
	f := setup(t)
	owner := f.staff("svc", "svc-pass", flagCatalogue)
	f.grantConfigure(owner)
	client := f.apiKey(owner, "s3cret-value", bcrypt.MinCost)
	token := f.issue(client, "s3cret-value")

	sum := sha256.Sum256([]byte(token))
	var hashed, plain int
	must(t, f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM koha_webhooks_api_tokens WHERE token_sha256 = ? AND client_id = ? AND patron_id = ?`,
		hex.EncodeToString(sum[:]), client, owner).Scan(&hashed))
	must(t, f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM koha_webhooks_api_tokens WHERE token_sha256 = ? OR client_id = ?`, token, token).Scan(&plain))
	if hashed != 1 {
		t.Errorf("rows with the token's hash = %d, want 1", hashed)
	}
	if plain != 0 {
		t.Errorf("rows containing the plain token = %d, want 0", plain)
	}

	id := f.delivered()
	resp := f.post(f.reportURL(id, "status", "status", "failed"), bearer(token))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status code = %d, want 204", resp.StatusCode)
	}
	audit := f.audit(id)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %d, want 1", len(audit))
	}
	if want := "api_key:" + client; audit[0].caller != want {
		t.Errorf("caller = %q, want %q", audit[0].caller, want)
	}
	if audit[0].callerBorrowernumber.Int64 != owner {
		t.Errorf("caller_borrowernumber = %v, want %d", audit[0].callerBorrowernumber, owner)
	}
}

func TestIssuedTokenExpires(t *testing.T) {
	f := setup(t)
	owner := f.staff("svc", "svc-pass", flagSuperlibrarian)
	token := f.issue(f.apiKey(owner, "s3cret-value", bcrypt.MinCost), "s3cret-value")
	target := f.reportURL(f.delivered(), "status", "status", "sent")

	f.clock.Advance(59 * time.Minute)
	if got := f.post(target, bearer(token)).StatusCode; got != http.StatusNoContent {
		t.Fatalf("before expiry: status code = %d, want 204", got)
	}
	f.clock.Advance(2 * time.Minute)
	if got := f.post(target, bearer(token)).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("after expiry: status code = %d, want 401", got)
	}
}

func TestIssuedTokenRevoked(t *testing.T) {
	f := setup(t)
	target := f.reportURL(f.delivered(), "status", "status", "sent")
	tests := []struct {
		name   string
		revoke string // statement run with the key owner's borrowernumber
		want   int
	}{
		{"key deactivated", `UPDATE api_keys SET active = 0 WHERE patron_id = ?`, http.StatusUnauthorized},
		{"key deleted", `DELETE FROM api_keys WHERE patron_id = ?`, http.StatusUnauthorized},
		{"permission removed", `UPDATE borrowers SET flags = 0 WHERE borrowernumber = ?`, http.StatusForbidden},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := f.staff(fmt.Sprintf("svc%d", i), "svc-pass", flagSuperlibrarian)
			token := f.issue(f.apiKey(owner, "s3cret-value", bcrypt.MinCost), "s3cret-value")
			if got := f.post(target, bearer(token)).StatusCode; got != http.StatusNoContent {
				t.Fatalf("before revoking: status code = %d, want 204", got)
			}
			f.exec(tt.revoke, owner)
			if got := f.post(target, bearer(token)).StatusCode; got != tt.want {
				t.Errorf("after revoking: status code = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestKohaIssuedToken(t *testing.T) {
	f := setup(t)
	owner := f.staff("svc", "svc-pass", flagSuperlibrarian)
	client := f.apiKey(owner, "s3cret-value", bcrypt.MinCost)
	now := f.clock.Now().Unix()
	f.exec(`INSERT INTO oauth_access_tokens (access_token, client_id, expires) VALUES ('koha-live-token', ?, ?), ('koha-old-token', ?, ?)`,
		client, now+600, client, now-1)
	id := f.delivered()

	if got := f.post(f.reportURL(id, "status", "status", "sent"), bearer("koha-live-token")).StatusCode; got != http.StatusNoContent {
		t.Errorf("live Koha token: status code = %d, want 204", got)
	}
	if got := f.post(f.reportURL(id, "status", "status", "sent"), bearer("koha-old-token")).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("expired Koha token: status code = %d, want 401", got)
	}
}
