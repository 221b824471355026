package payload

import (
	"unicode/utf8"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// writer appends JSON to a byte slice. It writes objects field by field so
// that rows keep their column order and no intermediate maps are built.
type writer struct {
	buf     []byte
	strings bool // every non-null value as a JSON string
	first   []bool
}

func (w *writer) openObject() {
	w.buf = append(w.buf, '{')
	w.first = append(w.first, true)
}

func (w *writer) closeObject() {
	w.buf = append(w.buf, '}')
	w.first = w.first[:len(w.first)-1]
}

func (w *writer) openArray() {
	w.buf = append(w.buf, '[')
	w.first = append(w.first, true)
}

func (w *writer) closeArray() {
	w.buf = append(w.buf, ']')
	w.first = w.first[:len(w.first)-1]
}

// comma writes the separator before the next member of the open object or
// array.
func (w *writer) comma() {
	top := len(w.first) - 1
	if w.first[top] {
		w.first[top] = false
		return
	}
	w.buf = append(w.buf, ',')
}

func (w *writer) key(k string) {
	w.comma()
	w.buf = appendString(w.buf, k)
	w.buf = append(w.buf, ':')
}

// value writes one column value typed as t.
func (w *writer) value(v []byte, t kohadb.ValueType) {
	switch {
	case v == nil:
		w.buf = append(w.buf, "null"...)
	case t == kohadb.Number && !w.strings && isJSONNumber(v):
		w.buf = append(w.buf, v...)
	default:
		w.buf = appendString(w.buf, string(v))
	}
}

// row writes r as an object without the columns in omit, then the extra
// members from extra (called with the writer positioned inside the object).
func (w *writer) row(r *kohadb.Row, omit map[string]bool, extra func()) {
	if r == nil {
		w.buf = append(w.buf, "null"...)
		return
	}
	w.openObject()
	for i, name := range r.Columns.Names {
		if omit[name] {
			continue
		}
		w.key(name)
		w.value(r.Values[i], r.Columns.Types[i])
	}
	if extra != nil {
		extra()
	}
	w.closeObject()
}

// isJSONNumber reports whether MariaDB's text for a numeric column is also a
// valid JSON number (it is, except for forms like "1e5" without a digit
// before the exponent, which MariaDB does not produce, or an empty string).
func isJSONNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	if i >= len(v) || v[i] < '0' || v[i] > '9' {
		return false
	}
	if v[i] == '0' && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9' {
		return false
	}
	for ; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			return false
		}
	}
	return v[len(v)-1] >= '0' && v[len(v)-1] <= '9'
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// every other character, emoji and bidirectional marks included, is kept.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
