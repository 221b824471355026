package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

// timeoutError is a net.Error that reports a timeout, like net/http's TLS
// handshake timeout.
type timeoutError struct{}

func (timeoutError) Error() string   { return "net/http: TLS handshake timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func opError(op string, err error) error {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	return &url.Error{Op: "Post", URL: "http://127.0.0.1:9/hook?key=hidden", Err: &net.OpError{Op: op, Net: "tcp", Addr: addr, Err: err}}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		want       Kind
		wantReason string
	}{
		{"refused", opError("dial", &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}), KindRefused, "connection refused (127.0.0.1:9)"},
		{"reset", opError("read", &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}), KindReset, "connection reset (127.0.0.1:9)"},
		{"aborted", opError("read", &os.SyscallError{Syscall: "read", Err: syscall.ECONNABORTED}), KindReset, "connection reset (127.0.0.1:9)"},
		{"broken pipe", opError("write", &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}), KindReset, "broken pipe (127.0.0.1:9)"},
		{"eof", &url.Error{Op: "Post", URL: "http://h/", Err: io.EOF}, KindReset, "connection closed before a complete response"},
		{"unexpected eof", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), KindReset, "connection closed before a complete response"},
		{"dns not found", opError("dial", &net.DNSError{Err: "no such host", Name: "notices.invalid", IsNotFound: true}), KindDNS, "DNS lookup failed for notices.invalid: no such host"},
		{"dns timeout", opError("dial", &net.DNSError{Err: "i/o timeout", Name: "notices.invalid", IsTimeout: true}), KindDNS, "DNS lookup failed for notices.invalid: i/o timeout"},
		{"connect timeout", opError("dial", os.ErrDeadlineExceeded), KindTimeout, "connect timed out (127.0.0.1:9)"},
		{"deadline exceeded", &url.Error{Op: "Post", URL: "http://h/", Err: context.DeadlineExceeded}, KindTimeout, "timed out: context deadline exceeded"},
		{"net error timeout", &url.Error{Op: "Post", URL: "http://h/", Err: timeoutError{}}, KindTimeout, "timed out: net/http: TLS handshake timeout"},
		{"canceled", &url.Error{Op: "Post", URL: "http://h/", Err: context.Canceled}, KindCanceled, "canceled before the delivery finished"},
		{"certificate verification", opError("dial", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), KindTLS, "TLS error: "},
		{"unknown authority", x509.UnknownAuthorityError{}, KindTLS, "TLS error: x509: certificate signed by unknown authority"},
		{"hostname mismatch", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "notices.example"}, KindTLS, "TLS error: x509: certificate is not valid for any names"},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired, Cert: &x509.Certificate{}}, KindTLS, "TLS error: x509: certificate has expired"},
		{"record header", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, KindTLS, "TLS error: tls: first record does not look like a TLS handshake"},
		{"remote alert", &net.OpError{Op: "remote error", Err: tls.AlertError(40)}, KindTLS, "TLS error: remote error: tls: handshake failure"},
		{"local alert", &net.OpError{Op: "local error", Err: errors.New("tls: bad certificate")}, KindTLS, "TLS error: local error: tls: bad certificate"},
		{"other", &url.Error{Op: "Post", URL: "http://h/", Err: errors.New("http2: server sent GOAWAY")}, KindNetwork, "http2: server sent GOAWAY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tc.err)
			if got != tc.want {
				t.Fatalf("classify(%v) = %q, want %q", tc.err, got, tc.want)
			}
			reason := describe(got, tc.err)
			if !strings.HasPrefix(reason, tc.wantReason) {
				t.Errorf("describe() = %q, want prefix %q", reason, tc.wantReason)
			}
			if strings.Contains(reason, "hidden") {
				t.Errorf("describe() = %q contains the URL query", reason)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		want bool
	}{
		{KindDNS, true},
		{KindRefused, true},
		{KindReset, true},
		{KindTimeout, true},
		{KindTLS, true},
		{KindNetwork, true},
		{KindAuth, true},
		{KindHTTPRetryable, true},
		{KindHTTPServer, true},
		{KindCanceled, true},
		{KindRedirect, false},
		{KindHTTPClient, false},
		{KindRequest, false},
		{Kind("unknown"), true},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			e := &Error{Kind: tc.kind}
			if got := e.Retryable(); got != tc.want {
				t.Errorf("Retryable() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatusKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want Kind
	}{
		{200, ""},
		{202, ""},
		{299, ""},
		{301, KindRedirect},
		{308, KindRedirect},
		{400, KindHTTPClient},
		{401, KindHTTPClient},
		{404, KindHTTPClient},
		{408, KindHTTPRetryable},
		{410, KindHTTPClient},
		{425, KindHTTPRetryable},
		{429, KindHTTPRetryable},
		{500, KindHTTPServer},
		{503, KindHTTPServer},
		{599, KindHTTPServer},
		{600, KindHTTPClient},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			if got := statusKind(tc.code); got != tc.want {
				t.Errorf("statusKind(%d) = %q, want %q", tc.code, got, tc.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"reason", &Error{Kind: KindRefused, reason: "connection refused (127.0.0.1:9)"}, "connection refused (127.0.0.1:9)"},
		{"status only", &Error{Kind: KindHTTPServer, StatusCode: 503}, "HTTP 503 Service Unavailable"},
		{"unknown status", &Error{Kind: KindHTTPClient, StatusCode: 499}, "HTTP 499"},
		{"kind only", &Error{Kind: KindNetwork}, "network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
