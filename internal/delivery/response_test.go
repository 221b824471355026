package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"seconds with spaces", " 30 ", 30 * time.Second},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"huge", "99999999999999999", time.Duration(int64(1<<63-1) / int64(time.Second) * int64(time.Second))},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"rfc850 date", now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{"date in past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"malformed", "soon", 0},
		{"fraction", "1.5", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.value, got, tc.want)
			}
		})
	}
}

func TestSanitizeSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"plain", `{"error":"bad"}`, `{"error":"bad"}`},
		{"newlines", "line one\r\n\tline two\n", "line one line two"},
		{"control", "a\x00b\x1bc", "a b c"},
		{"invalid utf8", "ok\xffok", "ok\uFFFDok"},
		{"empty", "", ""},
		{"long", strings.Repeat("x", 300), strings.Repeat("x", 200)},
		{"long multibyte", strings.Repeat("é", 150), strings.Repeat("é", 100)},
		{"cut inside rune", "x" + strings.Repeat("é", 150), "x" + strings.Repeat("é", 99)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := sanitizeSnippet([]byte(tc.input))
			if got != tc.want {
				t.Errorf("sanitizeSnippet(%q) = %q, want %q", tc.input, got, tc.want)
			}
			if len(got) > maxSnippetBytes {
				t.Errorf("len = %d, want at most %d", len(got), maxSnippetBytes)
			}
			if !utf8.ValidString(got) {
				t.Errorf("sanitizeSnippet(%q) = %q is not valid UTF-8", tc.input, got)
			}
		})
	}
}

func TestRedirectNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		location string
		want     string
	}{
		{"absent", "", " (redirect not followed)"},
		{"https", "https://notices.example/hook", " (redirect to https://notices.example/hook not followed)"},
		{"credentials removed", "https://user:pw@notices.example/hook?key=abc#frag", " (redirect to https://notices.example/hook not followed)"},
		{"relative", "/other", " (redirect to /other not followed)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{Header: http.Header{}}
			if tc.location != "" {
				resp.Header.Set("Location", tc.location)
			}
			if got := redirectNote(resp); got != tc.want {
				t.Errorf("redirectNote() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResponseExcerpt(t *testing.T) {
	t.Parallel()
	const token = "tok-0123456789"
	tests := []struct {
		name      string
		head      string
		truncated bool
		want      string
	}{
		{"no token", "invalid payload", false, "invalid payload"},
		{"token echoed", "bad token tok-0123456789, bad tok-0123456789", false, "bad token [token], bad [token]"},
		{"partial token at cut", "bad token tok-012", true, "bad token "},
		{"prefix kept when complete", "ends with tok-012", false, "ends with tok-012"},
		{"token then cut", "tok-0123456789 and more", true, "[token] and more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := responseExcerpt([]byte(tc.head), tc.truncated, token); got != tc.want {
				t.Errorf("responseExcerpt(%q) = %q, want %q", tc.head, got, tc.want)
			}
		})
	}
}
