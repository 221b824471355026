package notice

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalize returns the content as plain text with LF line endings and ASCII
// spaces, and whether it was HTML. Invalid UTF-8 becomes U+FFFD. HTML content
// is converted to text first, so that entities such as &nbsp; are normalised
// like the characters they stand for.
func normalize(content, contentType string) (string, bool) {
	if !utf8.ValidString(content) {
		content = strings.ToValidUTF8(content, "\uFFFD")
	}
	isHTML := looksLikeHTML(content, contentType)
	if isHTML {
		content = htmlToText(content)
	}
	return cleanText(content), isHTML
}

// looksLikeHTML reports whether the content type names HTML or the content
// starts with a tag.
func looksLikeHTML(content, contentType string) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	return strings.HasPrefix(strings.TrimLeft(content, " \t\r\n\uFEFF\u00A0"), "<")
}

// cleanText removes byte-order marks (U+FEFF) and zero-width spaces wherever
// they occur. It turns CRLF, CR, NEL, U+2028 and U+2029 into LF, and every
// Unicode space separator (U+00A0, U+2007, U+202F, ...), vertical tab and
// form feed into an ASCII space. Each tab becomes a space, or two spaces in
// indentation, because YAML forbids tabs there. A line that mixes tabs and
// spaces in its indentation is therefore read as if a tab were two spaces.
func cleanText(s string) string {
	if isCleanASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	lineStart := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case '\r':
				if i < len(s) && s[i] == '\n' {
					i++
				}
				b.WriteByte('\n')
				lineStart = true
			case '\n':
				b.WriteByte('\n')
				lineStart = true
			case '\v', '\f':
				b.WriteByte(' ')
			case '\t':
				if lineStart {
					b.WriteString("  ")
				} else {
					b.WriteByte(' ')
				}
			case ' ':
				b.WriteByte(' ')
			default:
				b.WriteByte(c)
				lineStart = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\uFEFF' || r == '\u200B' || r == '\u2060':
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
			lineStart = true
		case unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
			lineStart = false
		}
	}
	return b.String()
}

// isCleanASCII reports whether s is ASCII without CR, tab, vertical tab or
// form feed, which cleanText would return unchanged.
func isCleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\r' || c == '\t' || c == '\v' || c == '\f' {
			return false
		}
	}
	return true
}
