package payload

import (
	"encoding/json"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

func TestAppendStringRoundTrips(t *testing.T) {
	t.Parallel()
	cases := []string{
		"plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x1f control",
		"emoji 🦊 and bidi \u200f\u202e marks", "Ворона и лисица", "كتاب", "<html>&amp;</html>",
	}
	for _, c := range cases {
		var got string
		if err := json.Unmarshal(appendString(nil, c), &got); err != nil {
			t.Errorf("%q: invalid JSON: %v", c, err)
			continue
		}
		if got != c {
			t.Errorf("round trip of %q gave %q", c, got)
		}
	}
}

func TestAppendStringReplacesInvalidUTF8(t *testing.T) {
	t.Parallel()
	var got string
	if err := json.Unmarshal(appendString(nil, "a\xffb"), &got); err != nil {
		t.Fatal(err)
	}
	if got != "a\ufffdb" {
		t.Errorf("got %q", got)
	}
}

func TestNumberValues(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"0": true, "12": true, "-3": true, "12.500000": true, "-0.50": true, "1e+20": true,
		"": false, "007": false, "1.": false, "abc": false, "0x1F": false, "-": false,
	}
	for text, want := range cases {
		if got := isJSONNumber([]byte(text)); got != want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", text, got, want)
		}
		w := &writer{}
		w.value([]byte(text), kohadb.Number)
		var v any
		if err := json.Unmarshal(w.buf, &v); err != nil {
			t.Errorf("value(%q) wrote invalid JSON %s", text, w.buf)
		}
	}
}

func TestStringModeQuotesNumbers(t *testing.T) {
	t.Parallel()
	w := &writer{strings: true}
	w.value([]byte("42"), kohadb.Number)
	if string(w.buf) != `"42"` {
		t.Errorf("got %s", w.buf)
	}
	w = &writer{strings: true}
	w.value(nil, kohadb.Number)
	if string(w.buf) != "null" {
		t.Errorf("NULL in string mode = %s, want null", w.buf)
	}
}
