package notice

import (
	"html"
	"strings"
)

// breakTags are the HTML elements whose start and end tags become a line
// break. Notice editors wrap each line in <p> or <div>, or end it with <br>.
var breakTags = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "body": true,
	"br": true, "center": true, "dd": true, "div": true, "dl": true, "dt": true,
	"fieldset": true, "figcaption": true, "figure": true, "footer": true, "form": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"header": true, "hr": true, "html": true, "li": true, "main": true, "nav": true,
	"ol": true, "p": true, "pre": true, "section": true, "table": true, "tbody": true,
	"tfoot": true, "thead": true, "tr": true, "ul": true,
}

// hiddenTags are the HTML elements whose text is not part of the notice.
var hiddenTags = map[string]bool{"script": true, "style": true, "title": true}

// htmlToText turns an HTML notice into text: block tags become line breaks,
// table cells are separated by a space, the text of script, style and title
// elements and comments are dropped, other tags are removed, and entities are
// decoded. Line breaks in the HTML source are kept.
func htmlToText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	hidden := ""
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if hidden == "" {
				b.WriteString(s[i:])
			}
			break
		}
		if hidden == "" {
			b.WriteString(s[i : i+lt])
		}
		i += lt
		name, closing, end, ok := scanTag(s, i)
		if !ok {
			if hidden == "" {
				b.WriteByte('<')
			}
			i++
			continue
		}
		i = end
		switch {
		case hidden != "":
			if closing && name == hidden {
				hidden = ""
			}
		case hiddenTags[name] && !closing && !strings.HasSuffix(s[:end], "/>"):
			hidden = name
		case breakTags[name]:
			b.WriteByte('\n')
		case name == "td" || name == "th":
			b.WriteByte(' ')
		}
	}
	return html.UnescapeString(b.String())
}

// scanTag reads the tag or comment that starts at s[i] == '<'. It returns the
// lower-case element name ("" for comments and declarations), whether it is
// an end tag, and the index just past it. ok is false when the '<' does not
// start a tag and is literal text.
func scanTag(s string, i int) (name string, closing bool, end int, ok bool) {
	if strings.HasPrefix(s[i:], "<!--") {
		j := strings.Index(s[i+4:], "-->")
		if j < 0 {
			return "", false, len(s), true
		}
		return "", false, i + 4 + j + 3, true
	}
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	if j >= len(s) || !(isASCIILetter(s[j]) || !closing && (s[j] == '!' || s[j] == '?')) {
		return "", false, 0, false
	}
	k := j
	for k < len(s) && (isASCIILetter(s[k]) || '0' <= s[k] && s[k] <= '9') {
		k++
	}
	name = strings.ToLower(s[j:k])
	return name, closing, tagEnd(s, k), true
}

// tagEnd returns the index just past the '>' that closes a tag, skipping
// quoted attribute values, or len(s) when the tag is not closed. A quote
// starts a value only right after '=', so a stray apostrophe does not hide
// the rest of the notice.
func tagEnd(s string, i int) int {
	var quote, prev byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && prev == '=':
			quote = c
		case c == '>':
			return i + 1
		}
		if c != ' ' {
			prev = c
		}
	}
	return len(s)
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
