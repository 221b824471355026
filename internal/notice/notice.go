package notice

import (
	"errors"
	"strconv"
	"strings"
)

// Input is the part of a message_queue row that Parse reads.
type Input struct {
	Content     string // message_queue.content
	ContentType string // message_queue.content_type: "", `text/html; charset="UTF-8"`, ...
	LetterCode  string // message_queue.letter_code, used to infer the list key of orphan id segments
}

// Notice is the parsed content of a webhook notice. Every id is validated
// (ASCII digits only, fits int64, greater than 0) and appears once per key,
// at its first occurrence in document order.
type Notice struct {
	Patrons      []int64  // key patron, whose first id is the notice's patron
	Biblios      []int64  // key biblio
	Biblioitems  []int64  // key biblioitem
	Items        []int64  // key item
	Libraries    []string // key library: branchcodes, trimmed
	Checkouts    []int64  // keys checkout, checkouts
	OldCheckouts []int64  // keys old_checkout, old_checkouts
	Holds        []int64  // keys hold, holds
	OldHolds     []int64  // keys old_hold, old_holds
	// EmptyKeys lists the canonical names of record keys that were present
	// without any value (for example "checkouts:" with no ids below), in
	// order of first appearance, each once.
	EmptyKeys []string
	// Rejected lists the values that are not valid ids, in document order.
	Rejected []RejectedID
}

// RejectedID is a value given for a record key that is not a valid id.
type RejectedID struct {
	Key   string // canonical key name, for example "checkouts"
	Value string // the rejected text, cut to maxRejectedLen bytes
	Line  int    // 1-based line in the normalised content
}

// maxRejectedLen is the maximum length in bytes of RejectedID.Value.
const maxRejectedLen = 80

// ErrNotWebhook is returned for a row that is not a webhook notice. Such a
// row should be left pending for Koha's own sender.
var ErrNotWebhook = errors.New("not a webhook notice")

// ParseError describes a row that is meant as a webhook notice (it opens
// with "---" or a webhook key and has a trigger line) but cannot be parsed.
type ParseError struct {
	Line int    // 1-based line in the normalised content, 0 when not tied to a line
	What string // what is wrong, naming the offending value
}

// Error returns a one-line message such as
// `line 4: invalid YAML: unclosed flow sequence "[1, 2" in "checkouts"`.
func (e *ParseError) Error() string {
	message := strings.NewReplacer("\r", " ", "\n", " ").Replace(e.What)
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + message
	}
	return message
}

// Parse decides whether a message_queue row is a webhook notice and extracts
// the record ids its content names. It returns ErrNotWebhook for a row that
// is not a webhook notice, a *ParseError for one that is meant as a webhook
// notice but is broken, and the merged Notice otherwise. Parse does not log,
// and it turns a panic inside the YAML decoder into a ParseError.
func Parse(in Input) (*Notice, error) {
	text, isHTML := normalize(in.Content, in.ContentType)
	lines := splitLines(text, isHTML)
	if !opensAsWebhook(lines) || !hasTriggerLine(lines) {
		return nil, ErrNotWebhook
	}

	docs := parseDocuments(lines)
	entries, err := selectDocuments(docs)
	if err != nil {
		return nil, err
	}
	if perr := resolveOrphans(entries, in.LetterCode); perr != nil {
		return nil, perr
	}
	return buildNotice(entries)
}

// opensAsWebhook reports whether the first line with content is a "---"
// document marker (or a longer dash separator) or a webhook key. Leading
// comment runs (with their wrapped lines) and %YAML directives are skipped,
// as YAML allows them before the first document.
func opensAsWebhook(lines []line) bool {
	inComment := false
	for _, ln := range lines {
		t := ln.text
		switch {
		case t == "":
			inComment = false
			continue
		case t[0] == '#':
			inComment = true
			continue
		case inComment && !isDashLine(t) && !endsCommentRun(t), t[0] == '%':
			continue
		}
		if isDashLine(t) {
			return true
		}
		name, _, ok := splitKey(t)
		return ok && lookupKey(name) == keyWebhook
	}
	return false
}

// hasTriggerLine reports whether a line outside comments sets webhook to yes
// or true, in a block or a flow mapping. It only decides whether a broken row
// is reported as a ParseError. A notice still needs a document whose
// top-level webhook key is the trigger.
func hasTriggerLine(lines []line) bool {
	for _, ln := range lines {
		if ln.text != "" && ln.text[0] != '#' && containsTrigger(ln.text) {
			return true
		}
	}
	return false
}

// containsTrigger reports whether s contains `webhook: yes` or `webhook: true`
// in any letter case, with optional quotes around key and value.
func containsTrigger(s string) bool {
	for i := 0; i+len(keyWebhook) <= len(s); i++ {
		if !strings.EqualFold(s[i:i+len(keyWebhook)], keyWebhook) {
			continue
		}
		rest := strings.TrimLeft(s[i+len(keyWebhook):], `"' `)
		if !strings.HasPrefix(rest, ":") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], `"' `)
		for _, word := range [...]string{"yes", "true"} {
			if len(rest) >= len(word) && strings.EqualFold(rest[:len(word)], word) &&
				(len(rest) == len(word) || !isWordByte(rest[len(word)])) {
				return true
			}
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
