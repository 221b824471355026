package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
)

// Kind is the class of a delivery failure. Its values are short lowercase
// words, usable as metric labels.
type Kind string

// Failure kinds. Error.Retryable maps each kind to retry or give up.
const (
	// KindDNS is a failed name lookup of the notice or token host.
	KindDNS Kind = "dns"
	// KindRefused is a connection refused by the remote host.
	KindRefused Kind = "refused"
	// KindReset is a connection reset, a broken pipe, or a connection
	// closed before a response arrived.
	KindReset Kind = "reset"
	// KindTimeout is a connect timeout or the total request timeout.
	KindTimeout Kind = "timeout"
	// KindTLS is a TLS handshake or certificate verification failure.
	KindTLS Kind = "tls"
	// KindNetwork is any other transport error.
	KindNetwork Kind = "network"
	// KindAuth means no access token could be obtained: the token endpoint
	// was unreachable, returned a non-2xx status, or sent a response
	// without a usable access_token.
	KindAuth Kind = "auth"
	// KindRedirect is a 3xx response from the notice URL. Redirects are
	// never followed.
	KindRedirect Kind = "redirect"
	// KindHTTPClient is a 4xx response other than 408, 425 and 429, a 401
	// that persists after a fresh token, or a status outside 2xx to 5xx.
	KindHTTPClient Kind = "http_client"
	// KindHTTPServer is a 5xx response.
	KindHTTPServer Kind = "http_server"
	// KindHTTPRetryable is a 408, 425 or 429 response.
	KindHTTPRetryable Kind = "http_retryable"
	// KindCanceled means the caller's context was canceled, usually at
	// shutdown, before the delivery finished.
	KindCanceled Kind = "canceled"
	// KindRequest means the request could not be built, for example
	// because the notice has no idempotency key.
	KindRequest Kind = "request"
)

// Error is a failed delivery or token request.
type Error struct {
	// Kind is the failure class that decides whether to retry.
	Kind Kind
	// StatusCode is the HTTP status of the response that caused the
	// failure, from the notice URL or the token endpoint, or 0 when no
	// response arrived.
	StatusCode int
	// Err is the underlying error, nil for a failure status. Its text may
	// contain URLs, so it is not part of Error's output.
	Err error

	reason string
}

// Error returns a one-line reason suitable for Koha's failure_code column,
// such as "HTTP 503 Service Unavailable" or "connection refused
// (127.0.0.1:8443)". It never contains the client secret or a token.
func (e *Error) Error() string {
	if e.reason != "" {
		return e.reason
	}
	if e.StatusCode != 0 {
		return statusText(e.StatusCode)
	}
	return string(e.Kind)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the notice should be tried again later. It is
// the only place where a failure kind is turned into retry or give up.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindDNS, KindRefused, KindReset, KindTimeout, KindNetwork,
		KindHTTPServer, KindHTTPRetryable:
		return true
	case KindAuth:
		// Failure policy: fail open (retry) because a token endpoint that
		// is down or misconfigured is fixed without touching the notices.
		return true
	case KindTLS:
		// Failure policy: fail open (retry) because an expired or
		// incomplete certificate chain is usually fixed by the receiver's
		// operator within the retry window, and giving up would mark
		// notices failed that were never sent. The retries stay bounded
		// by the schedule, and each failure_code shows the TLS reason.
		return true
	case KindCanceled:
		// Failure policy: fail open (retry) because a canceled delivery
		// is no evidence of a receiver failure, so the notice must be
		// tried again after a restart.
		return true
	case KindRedirect, KindHTTPClient, KindRequest:
		// Failure policy: fail closed (give up) because a redirect, a 4xx
		// or a request that cannot be built fails the same way on every
		// attempt until a person changes the configuration or the payload.
		return false
	default:
		// Failure policy: fail open (retry) for an unknown kind because
		// the retries are bounded and a notice marked failed is never
		// sent.
		return true
	}
}

// statusKind returns the failure kind for an HTTP status from the notice
// URL, or "" for a 2xx status.
func statusKind(code int) Kind {
	switch {
	case code >= 200 && code <= 299:
		return ""
	case code >= 300 && code <= 399:
		return KindRedirect
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return KindHTTPRetryable
	case code >= 500 && code <= 599:
		return KindHTTPServer
	default:
		return KindHTTPClient
	}
}

// statusText formats a status code as "HTTP 503 Service Unavailable".
func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("HTTP %d %s", code, text)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// classify returns the failure kind of a transport error from an HTTP
// request. The order of the checks matters: a DNS timeout is a DNS failure,
// and a certificate error is TLS even though it arrives as a net.OpError.
func classify(err error) Kind {
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case isTLSError(err):
		return KindTLS
	case isDNSError(err):
		return KindDNS
	case isTimeout(err):
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindReset
	default:
		return KindNetwork
	}
}

func isDNSError(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func isTLSError(err error) bool {
	var (
		verifyErr     *tls.CertificateVerificationError
		recordErr     tls.RecordHeaderError
		alertErr      tls.AlertError
		echErr        *tls.ECHRejectionError
		authorityErr  x509.UnknownAuthorityError
		hostnameErr   x509.HostnameError
		invalidErr    x509.CertificateInvalidError
		systemRootErr x509.SystemRootsError
		opErr         *net.OpError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &echErr), errors.As(err, &authorityErr), errors.As(err, &hostnameErr),
		errors.As(err, &invalidErr), errors.As(err, &systemRootErr):
		return true
	case errors.As(err, &opErr):
		// crypto/tls reports alerts it sends or receives as a net.OpError
		// with one of these operations, and the alert type it sends is
		// unexported.
		return opErr.Op == "local error" || opErr.Op == "remote error"
	default:
		return false
	}
}

// describe returns a one-line reason for a transport error of the given
// kind. It unwraps url.Error first because that error's text contains the
// request URL, which may carry credentials in its query.
func describe(kind Kind, err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	addr := remoteAddr(err)

	switch kind {
	case KindDNS:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return fmt.Sprintf("DNS lookup failed for %s: %s", dnsErr.Name, dnsErr.Err)
		}
		return "DNS lookup failed: " + err.Error()
	case KindRefused:
		return "connection refused" + addr
	case KindReset:
		switch {
		case errors.Is(err, syscall.EPIPE):
			return "broken pipe" + addr
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return "connection closed before a complete response" + addr
		default:
			return "connection reset" + addr
		}
	case KindTimeout:
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return "connect timed out" + addr
		}
		return "timed out: " + err.Error()
	case KindTLS:
		return "TLS error: " + err.Error()
	case KindCanceled:
		return "canceled before the delivery finished"
	default:
		return err.Error()
	}
}

// remoteAddr returns " (host:port)" for an error that names the remote
// address, or "".
func remoteAddr(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Addr != nil {
		return " (" + opErr.Addr.String() + ")"
	}
	return ""
}
