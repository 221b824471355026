// Package inbound serves the HTTP API through which a notice service reports
// what finally became of a notice that koha-webhooks delivered to it. The
// paths are those of the Koha plugin, so a reverse proxy can forward
// /api/v1/contrib/webhook_notifications/ to koha-webhooks:
//
//	POST /api/v1/contrib/webhook_notifications/message/{message_id}/status
//	POST /api/v1/contrib/webhook_notifications/message/{message_id}/content
//	POST /api/v1/oauth/token (also under /api/v1/contrib/webhook_notifications/oauth/token)
//	GET  /api/v1/contrib/webhook_notifications/openapi.json (also .../openapi)
//
// The OpenAPI document served by the last route lists every parameter and
// response.
//
// # Authentication
//
// Every call to the two message routes must carry one of:
//
//   - Authorization: Bearer with a configured static token (caller
//     "token:#n", n counting from 1 in Config.BearerTokens);
//   - Authorization: Bearer with an access token issued by this package's
//     token endpoint, or by Koha's own /api/v1/oauth/token (a row in Koha's
//     oauth_access_tokens table), for an active Koha API key (caller
//     "api_key:<client_id>");
//   - Authorization: Basic with a Koha staff account, looked up by
//     borrowers.userid and then by cardnumber (caller "staff:<login>").
//
// Missing or invalid credentials get 401 with a WWW-Authenticate header.
// Valid credentials get 403 unless the patron behind them is a
// superlibrarian, has the whole plugins module (borrowers.flags bit 19) or
// the plugins sub-permission "configure" in user_permissions. Static tokens
// carry every permission. Permissions and the api_keys active flag are read
// on every request, so revoking them takes effect at once, even for access
// tokens already issued.
//
// The token endpoint implements the OAuth2 client-credentials grant (RFC
// 6749 section 4.4) with the client_id and secret of a row in Koha's
// api_keys table. Koha stores the secret as a bcrypt hash, and this package
// stores only the SHA-256 hash of each access token it issues, in
// koha_webhooks_api_tokens. The system preferences RESTOAuth2ClientCredentials
// and RESTBasicAuth, which switch these methods on for Koha's own REST API,
// are not read here: the plugins permission and api_keys.active decide.
//
// Basic authentication follows Koha's lockout rules. A stored password of
// "!" never matches, only bcrypt hashes ("$2…", any cost) are accepted, and
// an account is locked when login_attempts is negative or has reached the
// FailedLoginAttempts system preference. A wrong password adds one to
// login_attempts and a correct one resets it to 0, so that guessing
// passwords through this API counts towards the same lockout.
//
// # Which notices can change
//
// Only notices that koha-webhooks delivered: the koha_webhooks_deliveries
// row must be in state "sent" and message_queue.status must be "sent" or
// "failed". Any other existing notice gets 409 Conflict with the reason, and
// a message_id that is not in message_queue gets 404. The package never
// writes koha_webhooks_deliveries, whose state "sent" keeps recording that
// the receiver accepted the notice.
//
// A status report moves message_queue.status one way:
//
//	current  reported  result
//	sent     sent      no status change
//	sent     failed    status failed, failure_code WEBHOOK_RECEIVER_FAILED[: reason]
//	failed   failed    no status change; the first failure_code is kept
//	failed   sent      409 Conflict, because a reported failure is final
//
// Subject and content given with either report, or through the content
// route, replace the stored values when they differ. A report that changes
// nothing writes nothing and still returns 204, so a receiver can safely
// repeat it. Each report runs in one transaction that locks the
// message_queue row (SELECT … FOR UPDATE), so concurrent reports for the
// same notice are applied one after the other.
//
// Every change adds a row to koha_webhooks_status_reports with the old and
// new status, the failure_code written, whether subject and content changed
// (and the new content's length, not the content itself), the caller, the
// remote address, any X-Forwarded-For header as received, and the time.
// The audit rows have no foreign key to message_queue, so they outlive
// Koha's clean-up of old messages.
package inbound
