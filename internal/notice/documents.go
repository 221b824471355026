package notice

import (
	"fmt"
	"strings"
)

// document is one YAML document of a row: the lines between "---" markers.
// Digest separators (four or more dashes) split it into fragments that stay
// in the same document, because Koha renders one template around them.
type document struct {
	entries []*entry
	err     *ParseError // the first error, with the entries before it kept
}

// webhookState reports whether the document has a top-level webhook key, and
// whether one of its values is the trigger. Duplicate webhook keys
// trigger when any of them does.
func (d *document) webhookState() (hasWebhook, triggered bool) {
	for _, e := range d.entries {
		if e.key != keyWebhook {
			continue
		}
		hasWebhook = true
		if isTrigger(e) {
			triggered = true
		}
	}
	return hasWebhook, triggered
}

// isTrigger reports whether a webhook entry has the value yes or true, in any
// letter case, quoted or not, written on the key's line.
func isTrigger(e *entry) bool {
	if e.flow || len(e.fields) != 1 || e.fields[0].line != e.line {
		return false
	}
	v := strings.TrimSpace(e.fields[0].text)
	return strings.EqualFold(v, "yes") || strings.EqualFold(v, "true")
}

// parseDocuments splits lines at document markers ("---", and "..." which
// ends a document) and at digest separators, and parses each fragment.
func parseDocuments(lines []line) []*document {
	doc := &document{}
	docs := []*document{doc}
	start := 0
	flush := func(end int) {
		var err *ParseError
		doc.entries, err = parseFragment(doc.entries, lines[start:end])
		if doc.err == nil {
			doc.err = err
		}
		start = end + 1
	}
	for i, ln := range lines {
		switch {
		case ln.text == "---" || ln.text == "...":
			flush(i)
			doc = &document{}
			docs = append(docs, doc)
		case isDashLine(ln.text):
			flush(i)
		}
	}
	flush(len(lines))
	return docs
}

// selectDocuments returns the entries of the documents that make up the
// notice, in order. A row may hold several documents because Koha appends
// one rendered template per event to a pending incremental notice. Every
// document whose webhook key is the trigger is merged. A document without a
// webhook key is merged too, when some other document triggers: it is a
// fragment of the same notice, such as a bare id segment or the tail of a
// template that contains "---". A document whose webhook key holds anything
// else ("no", "yesterday", an empty value) is left out with its ids and
// errors.
func selectDocuments(docs []*document) ([]*entry, error) {
	anyTriggered := false
	for _, d := range docs {
		if _, triggered := d.webhookState(); triggered {
			anyTriggered = true
			break
		}
	}
	var entries []*entry
	for _, d := range docs {
		hasWebhook, triggered := d.webhookState()
		if hasWebhook && !triggered {
			continue
		}
		if d.err != nil {
			// A trigger line is present, so a broken document that might
			// have held it makes the row a parse error.
			return nil, d.err
		}
		if anyTriggered {
			entries = append(entries, d.entries...)
		}
	}
	if !anyTriggered {
		return nil, ErrNotWebhook
	}
	return entries, nil
}

// resolveOrphans gives each orphan id line a list key: the last list key
// declared before it in the notice, else the first declared after it, else
// the key the letter code implies. An orphan with none of these is an error.
func resolveOrphans(entries []*entry, letterCode string) *ParseError {
	last := ""
	var pending []*entry
	for _, e := range entries {
		switch {
		case e.orphan && last != "":
			e.key = last
		case e.orphan:
			pending = append(pending, e)
		case isListKey(e.key):
			last = e.key
			for _, o := range pending {
				o.key = last
			}
			pending = pending[:0]
		}
	}
	if len(pending) == 0 {
		return nil
	}
	key := listKeyForLetterCode(letterCode)
	if key == "" {
		return &ParseError{Line: pending[0].line, What: fmt.Sprintf(
			"orphan id segment %s and no list key declared or inferable from letter code %s",
			quoteValue(joinFields(pending[0])), quoteValue(letterCode))}
	}
	for _, o := range pending {
		o.key = key
	}
	return nil
}

func joinFields(e *entry) string {
	texts := make([]string, len(e.fields))
	for i, f := range e.fields {
		texts[i] = f.text
	}
	return strings.Join(texts, ", ")
}
