package notice

import "fmt"

// entry is one known key, or one orphan id line, with its values as text.
type entry struct {
	key    string  // canonical key name or keyWebhook, set for orphans once resolved
	name   string  // the key as written, for messages, or "" for orphans
	orphan bool    // an id line outside any key
	line   int     // line of the key or of the orphan id line
	indent int     // indentation of the key line
	fields []field // values, each a scalar or a comma-separated list
	flow   bool    // the value was a flow or block collection
	// first backs fields for the usual single value, saving an allocation.
	first [1]field
}

func newEntry(key, name string, orphan bool, ln line) *entry {
	e := &entry{key: key, name: name, orphan: orphan, line: ln.num, indent: ln.indent}
	e.fields = e.first[:0]
	return e
}

// field is one value text and the line it starts on.
type field struct {
	text string
	line int
}

// fragmentParser reads the lines between two dash lines. It reads line by
// line, so that content that is not valid YAML (bare id lines, duplicate
// keys, titles that wrap out of a comment) still yields its ids. The YAML
// decoder reads only flow collections and quoted scalars.
type fragmentParser struct {
	lines []line
	next  int // index of the next line to read
	// base is the indentation of the first known key, or -1 before it.
	// Known keys must all sit at this indentation, or the mapping is broken.
	// Unknown keys do not set it, so stray indented text cannot misplace
	// the known keys.
	base int
	// cur is the known key whose value further lines may continue, and
	// curInline reports whether it had a value on its own line.
	cur       *entry
	curInline bool
	// skipIndent is the indentation of an unknown key whose deeper lines
	// (nested mappings, multi-line values) are skipped, or -1.
	skipIndent int
	inComment  bool
	entries    []*entry
}

// parseFragment appends the entries of a fragment to entries. It stops at
// the first error and returns the entries read before it.
func parseFragment(entries []*entry, lines []line) ([]*entry, *ParseError) {
	p := fragmentParser{lines: lines, base: -1, skipIndent: -1, entries: entries}
	for p.next < len(p.lines) {
		ln := p.lines[p.next]
		p.next++
		if err := p.step(ln); err != nil {
			return p.entries, err
		}
	}
	return p.entries, nil
}

// step reads one line. A comment run (a full-line comment and the lines that
// continue its wrapped text) lasts until a blank or structural line.
func (p *fragmentParser) step(ln line) *ParseError {
	if ln.text == "" {
		p.inComment = false
		return nil
	}
	if p.inComment && !endsCommentRun(ln.text) {
		return nil
	}
	p.inComment = ln.text[0] == '#'
	if p.inComment {
		return nil
	}
	if p.skipIndent >= 0 {
		if ln.indent > p.skipIndent {
			return nil
		}
		p.skipIndent = -1
	}
	if name, value, ok := splitKey(ln.text); ok {
		return p.keyLine(ln, name, value)
	}
	return p.bareLine(ln)
}

func (p *fragmentParser) keyLine(ln line, name, value string) *ParseError {
	key := lookupKey(name)
	if key == "" {
		return p.unknownKey(ln)
	}
	if p.base < 0 {
		p.base = ln.indent
	}
	if ln.indent != p.base {
		return p.misplacedKey(ln, name)
	}
	e := newEntry(key, name, false, ln)
	p.entries = append(p.entries, e)
	p.cur = e
	inline, err := p.readValue(e, value, ln)
	p.curInline = inline
	return err
}

// unknownKey skips a key this package ignores, and the lines nested under
// it. Only a key nested under a known key without a value is an error,
// because it turns that value into a mapping.
func (p *fragmentParser) unknownKey(ln line) *ParseError {
	if p.cur != nil && !p.curInline && ln.indent > p.cur.indent {
		return &ParseError{Line: ln.num, What: fmt.Sprintf(
			"invalid YAML: value of %s is a mapping, expected record ids", quoteValue(p.cur.name))}
	}
	p.cur = nil
	p.skipIndent = ln.indent
	return nil
}

func (p *fragmentParser) misplacedKey(ln line, name string) *ParseError {
	var detail string
	switch {
	case p.cur != nil && ln.indent > p.cur.indent && p.curInline:
		detail = fmt.Sprintf("key %s is indented under %s, which already has a value",
			quoteValue(name), quoteValue(p.cur.name))
	case p.cur != nil && ln.indent > p.cur.indent:
		detail = fmt.Sprintf("value of %s is a mapping, expected record ids", quoteValue(p.cur.name))
	case ln.indent > p.base:
		detail = fmt.Sprintf("key %s is indented deeper than the keys before it", quoteValue(name))
	default:
		detail = fmt.Sprintf("key %s is indented less than the keys before it", quoteValue(name))
	}
	return &ParseError{Line: ln.num, What: "invalid YAML: " + detail}
}

// bareLine reads a line that is neither a key nor a comment. It continues
// the value of the current key when that key had no value on its own line,
// when the line is indented deeper (a multi-line YAML scalar), or, for list
// keys, when it reads as ids ("checkouts: 70085" then "70086"). Otherwise an
// id line is an orphan and any other text is ignored.
func (p *fragmentParser) bareLine(ln line) *ParseError {
	text, item := stripItemMarkers(ln.text)
	if e := p.cur; e != nil {
		switch {
		case !p.curInline || ln.indent > e.indent:
			_, err := p.readValue(e, text, ln)
			return err
		case isListKey(e.key) && looksLikeIDs(text):
			_, err := p.readValue(e, text, ln)
			return err
		case isListKey(e.key):
			p.cur = nil
			return nil
		}
	}
	if !item && len(text) > 0 && text[0] == '{' {
		return p.flowMapping(ln, text)
	}
	if !looksLikeIDs(text) {
		return nil
	}
	e := newEntry("", "", true, ln)
	p.entries = append(p.entries, e)
	_, err := p.readValue(e, text, ln)
	return err
}
