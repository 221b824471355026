// Package delivery sends notice payloads to the notice service over HTTP.
//
// A Client obtains an OAuth2 client-credentials token, caches it until
// shortly before it expires, and POSTs each notice as JSON with a bearer
// token, an Idempotency-Key header and, when a signing secret is configured,
// Standard Webhooks signature headers. Bodies over 3 MiB are gzipped.
// Redirects are never followed.
//
// Every failure is an *Error whose Kind names its class (DNS, refused,
// reset, timeout, TLS, HTTP status class and so on). Error.Retryable turns
// the kind into the decision to retry or give up, and Result.RetryAfter
// carries the receiver's Retry-After for the retry schedule.
package delivery
