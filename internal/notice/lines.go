package notice

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// line is one logical line of the normalised content. A physical line that
// holds glued fragments yields several logical lines with the same number.
type line struct {
	num    int    // 1-based physical line number
	indent int    // leading spaces, always 0 for HTML notices
	text   string // the line without indentation and trailing spaces
}

// splitLines splits normalised content into logical lines. For HTML notices
// the indentation is dropped, because it comes from the HTML source and not
// from the YAML.
func splitLines(s string, dropIndent bool) []line {
	lines := make([]line, 0, strings.Count(s, "\n")+1)
	for num := 1; ; num++ {
		raw, rest, more := strings.Cut(s, "\n")
		text := strings.TrimRight(raw, " ")
		trimmed := strings.TrimLeft(text, " ")
		indent := len(text) - len(trimmed)
		if dropIndent {
			indent = 0
		}
		lines = appendLogical(lines, line{num: num, indent: indent, text: trimmed})
		if !more {
			return lines
		}
		s = rest
	}
}

// appendLogical appends ln to lines, split where Koha glued two fragments
// together: a document marker with content behind it ("--- webhook: yes"), a
// key glued to the id before it ("70083webhook: yes"), and a dash marker or
// separator glued to the end of a line ("70083---", "70083----"). Full-line
// comments are never split.
func appendLogical(lines []line, ln line) []line {
	t := ln.text
	if t == "" || t[0] == '#' {
		return append(lines, ln)
	}
	if n := leadingDashes(t); n >= 3 && n < len(t) && t[n] == ' ' {
		lines = append(lines, line{num: ln.num, indent: ln.indent, text: t[:n]})
		t = strings.TrimLeft(t[n:], " ")
	}
	for {
		i := gluedKeyIndex(t)
		if i <= 0 {
			break
		}
		lines = append(lines, line{num: ln.num, indent: ln.indent, text: strings.TrimRight(t[:i], " ")})
		t = t[i:]
	}
	if i := gluedDashIndex(t); i > 0 {
		lines = append(lines, line{num: ln.num, indent: ln.indent, text: strings.TrimRight(t[:i], " ")})
		t = t[i:]
	}
	return append(lines, line{num: ln.num, indent: ln.indent, text: t})
}

func leadingDashes(t string) int {
	n := 0
	for n < len(t) && t[n] == '-' {
		n++
	}
	return n
}

// isDashLine reports whether t is a line of three or more dashes: "---" is a
// YAML document marker, four or more are a digest separator.
func isDashLine(t string) bool {
	return len(t) >= 3 && leadingDashes(t) == len(t)
}

// gluedKeyIndex returns the index of a known key that directly follows an
// ASCII digit in t and is followed by ": " or a line end, or -1.
func gluedKeyIndex(t string) int {
	for i := 1; i < len(t); i++ {
		if t[i] != ':' || i+1 < len(t) && t[i+1] != ' ' {
			continue
		}
		j := i
		for j > 0 && (isASCIILetter(t[j-1]) || t[j-1] == '_') {
			j--
		}
		if j > 0 && j < i && isASCIIDigit(t[j-1]) && lookupKey(t[j:i]) != "" {
			return j
		}
	}
	return -1
}

// gluedDashIndex returns the index of a run of three or more dashes that
// ends t and follows other text, or -1.
func gluedDashIndex(t string) int {
	j := len(t)
	for j > 0 && t[j-1] == '-' {
		j--
	}
	if len(t)-j < 3 || j == 0 {
		return -1
	}
	return j
}

// splitKey splits a block mapping line "key: value" into its key and value.
// The key may be quoted. The colon must be followed by a space or end the
// line, as in YAML, except after a known key, where "patron:51" is accepted.
// Lines that start a sequence item, a flow collection or a comment are not
// keys.
func splitKey(t string) (name, value string, ok bool) {
	if t == "" {
		return "", "", false
	}
	switch t[0] {
	case '#', '-', '[', '{', ']', '}', ',', '|', '>', '%', '@', '`', '!', '&', '*', '?':
		return "", "", false
	case '"', '\'':
		end := strings.IndexByte(t[1:], t[0])
		if end < 0 {
			return "", "", false
		}
		name = t[1 : end+1]
		rest := strings.TrimLeft(t[end+2:], " ")
		if rest == "" || rest[0] != ':' || len(rest) > 1 && rest[1] != ' ' && lookupKey(name) == "" {
			return "", "", false
		}
		return name, strings.TrimLeft(rest[1:], " "), true
	}
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '#' && i > 0 && t[i-1] == ' ':
			return splitCompactKey(t)
		case t[i] == ':' && (i+1 == len(t) || t[i+1] == ' '):
			name = strings.TrimRight(t[:i], " ")
			if name == "" {
				return "", "", false
			}
			return name, strings.TrimLeft(t[i+1:], " "), true
		}
	}
	return splitCompactKey(t)
}

// splitCompactKey accepts "key:value" without a space for known keys only,
// because templates write "patron:[% borrower.borrowernumber %]".
func splitCompactKey(t string) (name, value string, ok bool) {
	i := strings.IndexByte(t, ':')
	if i <= 0 || lookupKey(t[:i]) == "" {
		return "", "", false
	}
	return t[:i], strings.TrimLeft(t[i+1:], " "), true
}

// isKnownKeyLine reports whether t is a line with a known key.
func isKnownKeyLine(t string) bool {
	name, _, ok := splitKey(t)
	return ok && lookupKey(name) != ""
}

// stripComment removes a trailing " # comment" from a plain value.
func stripComment(t string) string {
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(t, " #"); i >= 0 {
		t = t[:i]
	}
	return strings.TrimRight(t, " ")
}

// stripItemMarkers removes the "- " markers of block sequence items, nested
// ones included. item reports whether there was one.
func stripItemMarkers(t string) (rest string, item bool) {
	for t == "-" || strings.HasPrefix(t, "- ") {
		t = strings.TrimLeft(t[1:], " ")
		item = true
	}
	return t, item
}

// looksLikeIDs reports whether a line without a key reads as ids. Its first
// value starts with a digit in any script, so that "70115abc" and "٧٠١" are
// read and then rejected. A Perl object reference such as
// "Koha::Old::Checkout=HASH(0x55d0c2a8)" also reads as ids, because
// templates print one when they output an object instead of its id.
func looksLikeIDs(t string) bool {
	return looksLikeIDsPlain(stripComment(t))
}

// looksLikeIDsPlain is looksLikeIDs for a line without its comment.
func looksLikeIDsPlain(t string) bool {
	i := 0
	for i < len(t) && strings.IndexByte("[ \"',", t[i]) >= 0 {
		i++
	}
	if i == len(t) {
		return false
	}
	if isASCIIDigit(t[i]) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(t[i:])
	return unicode.IsDigit(r) || isPerlReference(t)
}

// isPerlReference reports whether t contains a stringified Perl reference,
// such as "=HASH(0x" or "=ARRAY(0x".
func isPerlReference(t string) bool {
	for _, kind := range [...]string{"=HASH(0x", "=ARRAY(0x", "=SCALAR(0x", "=CODE(0x", "=REF(0x"} {
		if strings.Contains(t, kind) {
			return true
		}
	}
	return false
}

// endsCommentRun reports whether t is a structural line that ends a run of
// comment lines: a known key, a block sequence item with an id, or an id line
// ending in a comma. Blank lines and dash lines end a run before this check.
// Any other line continues a title that wrapped, even if it has a colon.
//
// NOTE: an id line without a trailing comma (such as "70084") right after a
// comment is read as wrapped title text, so its id is lost. A title can wrap
// onto a line of digits, and templates that add comments end ids with commas.
func endsCommentRun(t string) bool {
	if t[0] == '#' {
		return false
	}
	if isKnownKeyLine(t) {
		return true
	}
	rest, item := stripItemMarkers(t)
	if item {
		return looksLikeIDs(rest)
	}
	plain := stripComment(t)
	return strings.HasSuffix(plain, ",") && looksLikeIDsPlain(plain)
}

func isASCIIDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
