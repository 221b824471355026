package delivery

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// maxDrainBytes is how much of a response body is read before the
	// body is closed. A body read to its end lets the connection be
	// reused, and a longer one costs a new connection rather than
	// unbounded reading.
	maxDrainBytes = 64 * 1024
	// maxSnippetBytes is the length limit of the response body excerpt in
	// an error message.
	maxSnippetBytes = 200
)

// redactedToken replaces the access token in a response excerpt.
const redactedToken = "[token]"

// drainBody reads up to maxDrainBytes of the body and closes it. It returns
// the first headSize bytes and whether the body went on past them. Read
// errors are ignored because the status is already known.
func drainBody(body io.ReadCloser, headSize int) (head []byte, truncated bool) {
	defer body.Close()
	head = make([]byte, headSize)
	n, _ := io.ReadFull(body, head)
	rest, _ := io.Copy(io.Discard, io.LimitReader(body, max(maxDrainBytes-int64(n), 1)))
	return head[:n], rest > 0
}

// responseExcerpt returns the start of a response body as one line for an
// error message. A receiver may echo the request, so every occurrence of
// the access token becomes "[token]", and when the head was cut, a partial
// token at its end is dropped.
func responseExcerpt(head []byte, truncated bool, token string) string {
	text := oneLine(head)
	if token != "" {
		text = strings.ReplaceAll(text, token, redactedToken)
		if truncated {
			text = trimPrefixOverlap(text, token)
		}
	}
	return truncateUTF8(text, maxSnippetBytes)
}

// trimPrefixOverlap removes the longest end of text that is a proper
// prefix of token.
func trimPrefixOverlap(text, token string) string {
	for k := min(len(token)-1, len(text)); k > 0; k-- {
		if strings.HasSuffix(text, token[:k]) {
			return text[:len(text)-k]
		}
	}
	return text
}

// sanitizeSnippet returns b as one line of valid UTF-8 of at most
// maxSnippetBytes bytes.
func sanitizeSnippet(b []byte) string {
	return truncateUTF8(oneLine(b), maxSnippetBytes)
}

// oneLine returns b as valid UTF-8 in which every run of white space and
// control characters is one space, without leading or trailing space.
func oneLine(b []byte) string {
	text := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// truncateUTF8 returns the longest start of text of at most limit bytes
// that does not split a character.
func truncateUTF8(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// parseRetryAfter returns the delay requested by a Retry-After header value,
// given as delay-seconds or as an HTTP date. It returns 0 for an absent or
// malformed value and for a date in the past.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds <= 0 {
			return 0
		}
		// Values beyond what a Duration holds are capped rather than
		// wrapped around.
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(seconds, maxSeconds)) * time.Second
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0
	}
	return max(at.Sub(now), 0)
}

// redirectNote returns " (redirect to <location> not followed)" for a 3xx
// response. The location loses its user info, query and fragment, which may
// carry credentials.
func redirectNote(resp *http.Response) string {
	location := resp.Header.Get("Location")
	if location == "" {
		return " (redirect not followed)"
	}
	u, err := url.Parse(location)
	if err != nil {
		return " (redirect not followed)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return " (redirect to " + sanitizeSnippet([]byte(u.String())) + " not followed)"
}
