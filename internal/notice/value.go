package notice

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// readValue adds the value text v, found on line ln, to e. A flow collection
// or a quoted scalar may continue on the following lines. It returns whether
// there was a value. After an empty value, a comment or a block scalar
// indicator ("|", ">-"), the value is left to the lines below.
func (p *fragmentParser) readValue(e *entry, v string, ln line) (bool, *ParseError) {
	v = stripNodeProperties(v)
	switch {
	case v == "" || v[0] == '#' || isBlockIndicator(v):
		return false, nil
	case v[0] == '[' || v[0] == '{':
		return true, p.readCollection(e, v, ln)
	case v[0] == '"' || v[0] == '\'':
		return true, p.readQuoted(e, v, ln)
	}
	v = stripComment(v)
	if !isNull(v) {
		e.fields = append(e.fields, field{text: v, line: ln.num})
	}
	return true, nil
}

// readCollection reads a flow sequence such as "[1, 2]", which may span
// lines. When the YAML decoder rejects a closed collection, its ids are read
// leniently from the text instead.
func (p *fragmentParser) readCollection(e *entry, v string, ln line) *ParseError {
	src, rest, err := p.collect(e, v, ln)
	if err != nil {
		return err
	}
	if rest = stripComment(strings.TrimLeft(rest, " ")); strings.Trim(rest, ", ") != "" {
		return &ParseError{Line: ln.num, What: fmt.Sprintf(
			"invalid YAML: unexpected text %s after the value of %s", quoteValue(rest), keyLabel(e))}
	}
	e.flow = true
	node, _ := decodeYAML(src)
	if node == nil {
		lenient := strings.Map(func(r rune) rune {
			if strings.ContainsRune("[]{}", r) {
				return ' '
			}
			return r
		}, src)
		e.fields = append(e.fields, field{text: lenient, line: ln.num})
		return nil
	}
	return addNodeFields(e, node, ln.num)
}

// readQuoted reads a quoted scalar, which may span lines. A line of quoted
// ids such as `"70083", "70084",` is read as a comma-separated list.
func (p *fragmentParser) readQuoted(e *entry, v string, ln line) *ParseError {
	src, rest, err := p.collect(e, v, ln)
	if err != nil {
		return err
	}
	rest = stripComment(strings.TrimLeft(rest, " "))
	switch {
	case strings.HasPrefix(rest, ","):
		e.fields = append(e.fields, field{text: src + rest, line: ln.num})
		return nil
	case rest != "":
		return &ParseError{Line: ln.num, What: fmt.Sprintf(
			"invalid YAML: unexpected text %s after the quoted value of %s", quoteValue(rest), keyLabel(e))}
	}
	node, _ := decodeYAML(src)
	if node == nil || node.Kind != yaml.ScalarNode {
		e.fields = append(e.fields, field{text: src[1 : len(src)-1], line: ln.num})
		return nil
	}
	e.fields = append(e.fields, field{text: node.Value, line: ln.num})
	return nil
}

// collect returns the text of the flow collection or quoted scalar that
// starts v, reading further lines until it closes, and the text after it on
// its last line. It stops with an error at the end of the fragment or at a
// known key that is not indented deeper than e.
func (p *fragmentParser) collect(e *entry, v string, ln line) (src, rest string, err *ParseError) {
	var sc closeScanner
	if end, ok := sc.scan(v); ok {
		return v[:end], v[end:], nil
	}
	var b strings.Builder
	b.WriteString(v)
	for p.next < len(p.lines) {
		next := p.lines[p.next]
		if next.indent <= e.indent && isKnownKeyLine(next.text) {
			break
		}
		p.next++
		b.WriteString("\n ")
		if end, ok := sc.scan(next.text); ok {
			b.WriteString(next.text[:end])
			return b.String(), next.text[end:], nil
		}
		b.WriteString(next.text)
	}
	kind := "flow sequence"
	switch v[0] {
	case '{':
		kind = "flow mapping"
	case '"', '\'':
		kind = "quoted value"
	}
	return "", "", &ParseError{Line: ln.num, What: fmt.Sprintf(
		"invalid YAML: unclosed %s %s in %s", kind, quoteValue(v), keyLabel(e))}
}

// flowMapping reads a document written as a flow mapping, such as
// "{webhook: yes, patron: 51}", into one entry per known key.
func (p *fragmentParser) flowMapping(ln line, v string) *ParseError {
	doc := newEntry("", "flow mapping", false, ln)
	src, _, err := p.collect(doc, v, ln)
	if err != nil {
		return err
	}
	node, msg := decodeYAML(src)
	if node == nil {
		return &ParseError{Line: ln.num, What: "invalid YAML: " + msg}
	}
	if node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		key := lookupKey(k.Value)
		if k.Kind != yaml.ScalarNode || key == "" {
			continue
		}
		e := newEntry(key, k.Value, false, line{num: ln.num + k.Line - 1, indent: ln.indent})
		if err := addNodeFields(e, val, ln.num); err != nil {
			return err
		}
		p.entries = append(p.entries, e)
	}
	return nil
}

// addNodeFields adds the scalars of a decoded YAML node to e. Sequences are
// flattened. A mapping is an error because it cannot hold record ids.
func addNodeFields(e *entry, n *yaml.Node, firstLine int) *ParseError {
	line := firstLine + n.Line - 1
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!null" || n.Style != 0 {
			e.fields = append(e.fields, field{text: n.Value, line: line})
		}
	case yaml.AliasNode:
		e.fields = append(e.fields, field{text: "*" + n.Value, line: line})
	case yaml.SequenceNode:
		e.flow = true
		for _, c := range n.Content {
			if err := addNodeFields(e, c, firstLine); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		return &ParseError{Line: line, What: fmt.Sprintf(
			"invalid YAML: value of %s is a mapping, expected record ids", keyLabel(e))}
	}
	return nil
}

// decodeYAML decodes one YAML value and returns its node, or nil and the
// decoder's message. A panic in the decoder is reported as an error.
func decodeYAML(src string) (node *yaml.Node, msg string) {
	defer func() {
		if r := recover(); r != nil {
			node, msg = nil, "YAML decoder failed"
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		msg = strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.HasPrefix(msg, "line ") {
			if _, after, ok := strings.Cut(msg, ": "); ok {
				msg = after
			}
		}
		return nil, msg
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, "empty value"
	}
	return doc.Content[0], ""
}

// closeScanner finds where a flow collection or a quoted scalar ends. It
// keeps its state across lines.
type closeScanner struct {
	depth   int
	quote   byte // the open quote character, or 0
	escaped bool
}

// scan reads one line and returns the index just past the bracket or quote
// that closes the value, and true, when the value closes on this line.
// Outside quotes, " #" starts a comment that runs to the end of the line. A
// quote opens a scalar only at the start of a value, as in YAML.
func (s *closeScanner) scan(t string) (int, bool) {
	s.escaped = false
	prev := byte(' ')
	for i := 0; i < len(t); i++ {
		c := t[i]
		if s.quote != 0 {
			switch {
			case s.escaped:
				s.escaped = false
			case s.quote == '"' && c == '\\':
				s.escaped = true
			case c == '\'' && s.quote == '\'' && i+1 < len(t) && t[i+1] == '\'':
				i++
			case c == s.quote:
				s.quote = 0
				if s.depth == 0 {
					return i + 1, true
				}
			}
			prev = c
			continue
		}
		switch c {
		case '"', '\'':
			if strings.IndexByte(" [{,:", prev) >= 0 {
				s.quote = c
			}
		case '[', '{':
			s.depth++
		case ']', '}':
			s.depth--
			if s.depth <= 0 {
				return i + 1, true
			}
		case '#':
			if prev == ' ' {
				return 0, false
			}
		}
		prev = c
	}
	return 0, false
}

// stripNodeProperties removes a leading YAML tag ("!!str") or anchor ("&a")
// from a value, keeping the value text.
func stripNodeProperties(v string) string {
	for len(v) > 0 && (v[0] == '!' || v[0] == '&') {
		i := strings.IndexByte(v, ' ')
		if i < 0 {
			return ""
		}
		v = strings.TrimLeft(v[i:], " ")
	}
	return v
}

// isBlockIndicator reports whether v is a block scalar header such as "|",
// ">-" or "|2", possibly followed by a comment.
func isBlockIndicator(v string) bool {
	v = stripComment(v)
	if v == "" || v[0] != '|' && v[0] != '>' {
		return false
	}
	return strings.Trim(v[1:], "+-123456789") == ""
}

// isNull reports whether a plain value is a YAML null.
func isNull(v string) bool {
	return v == "" || v == "~" || strings.EqualFold(v, "null")
}

// keyLabel names e in messages.
func keyLabel(e *entry) string {
	if e.orphan {
		return "id line"
	}
	return quoteValue(e.name)
}

// quoteValue quotes s for a message, cut to 40 bytes so that messages stay
// short and on one line.
func quoteValue(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(truncateUTF8(s, max)) + "..."
	}
	return strconv.Quote(s)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
