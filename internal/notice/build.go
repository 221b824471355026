package notice

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxBranchcodeLen is the length of branches.branchcode, varchar(10) in the
// Koha 23.05 and 24.05 schemas.
const maxBranchcodeLen = 10

// builder collects validated ids per key, deduplicated in document order.
type builder struct {
	n        Notice
	seenIDs  [len(recordKeys)]map[int64]struct{} // per key, built once its list is long
	seenLibs map[string]struct{}
	order    []int                 // indexes of the keys present, in order of first appearance
	present  [len(recordKeys)]bool // the key occurs in the notice
	valued   [len(recordKeys)]bool // the key has at least one value
	valid    int                   // number of valid values, duplicates included
}

// recordKeys lists the canonical record keys. Builder arrays are indexed in
// this order.
var recordKeys = [...]string{
	KeyPatron, KeyBiblio, KeyBiblioitem, KeyItem, KeyLibrary,
	KeyCheckouts, KeyOldCheckouts, KeyHolds, KeyOldHolds,
}

// linearDedupMax is the list length up to which duplicates are found by
// scanning the list; longer lists also use a map.
const linearDedupMax = 32

// buildNotice validates the values of the merged entries. It returns a
// ParseError when values were given but none of them is valid.
func buildNotice(entries []*entry) (*Notice, error) {
	var b builder
	for _, e := range entries {
		k := recordKeyIndex(e.key)
		if k < 0 {
			continue
		}
		if !b.present[k] {
			b.present[k] = true
			b.order = append(b.order, k)
		}
		for _, f := range e.fields {
			eachValue(f.text, func(v string) { b.add(k, v, f.line) })
		}
	}
	for _, k := range b.order {
		if !b.valued[k] {
			b.n.EmptyKeys = append(b.n.EmptyKeys, recordKeys[k])
		}
	}
	if b.valid == 0 && len(b.n.Rejected) > 0 {
		return nil, noValidIDError(b.n.Rejected)
	}
	return &b.n, nil
}

// recordKeyIndex returns the index of key in recordKeys, or -1 for the
// webhook key and unresolved orphans.
func recordKeyIndex(key string) int {
	for i, k := range recordKeys {
		if k == key {
			return i
		}
	}
	return -1
}

func (b *builder) add(k int, v string, line int) {
	b.valued[k] = true
	key := recordKeys[k]
	if key == KeyLibrary {
		b.addLibrary(v, line)
		return
	}
	id, ok := parseID(v)
	if !ok {
		b.reject(key, v, line)
		return
	}
	b.valid++
	list := b.list(key)
	if b.isDuplicate(k, *list, id) {
		return
	}
	*list = append(*list, id)
}

// isDuplicate reports whether id is already in list, the ids of key index
// k, and records it when it is not.
func (b *builder) isDuplicate(k int, list []int64, id int64) bool {
	if len(list) < linearDedupMax {
		for _, seen := range list {
			if seen == id {
				return true
			}
		}
		return false
	}
	seen := b.seenIDs[k]
	if seen == nil {
		seen = make(map[int64]struct{}, 2*len(list))
		for _, old := range list {
			seen[old] = struct{}{}
		}
		b.seenIDs[k] = seen
	}
	if _, dup := seen[id]; dup {
		return true
	}
	seen[id] = struct{}{}
	return false
}

func (b *builder) addLibrary(v string, line int) {
	if !isBranchcode(v) {
		b.reject(KeyLibrary, v, line)
		return
	}
	b.valid++
	if b.seenLibs == nil {
		b.seenLibs = make(map[string]struct{})
	}
	if _, dup := b.seenLibs[v]; dup {
		return
	}
	b.seenLibs[v] = struct{}{}
	b.n.Libraries = append(b.n.Libraries, v)
}

func (b *builder) reject(key, v string, line int) {
	b.n.Rejected = append(b.n.Rejected, RejectedID{Key: key, Value: truncateUTF8(v, maxRejectedLen), Line: line})
}

func (b *builder) list(key string) *[]int64 {
	switch key {
	case KeyPatron:
		return &b.n.Patrons
	case KeyBiblio:
		return &b.n.Biblios
	case KeyBiblioitem:
		return &b.n.Biblioitems
	case KeyItem:
		return &b.n.Items
	case KeyCheckouts:
		return &b.n.Checkouts
	case KeyOldCheckouts:
		return &b.n.OldCheckouts
	case KeyHolds:
		return &b.n.Holds
	default:
		return &b.n.OldHolds
	}
}

// eachValue calls fn with each value of a comma-separated list, trimmed and
// unquoted, skipping empty fields. A field of several space-separated
// numbers (a folded YAML scalar such as "70085 70086") gives each number;
// any other field with spaces is one value.
func eachValue(text string, fn func(string)) {
	for text != "" {
		var part string
		part, text, _ = strings.Cut(text, ",")
		part = unquote(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if !strings.ContainsAny(part, " \t\n") {
			fn(part)
			continue
		}
		words := strings.Fields(part)
		if !allDigits(words) {
			fn(part)
			continue
		}
		for _, w := range words {
			fn(w)
		}
	}
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

func allDigits(words []string) bool {
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if !isASCIIDigit(w[i]) {
				return false
			}
		}
	}
	return true
}

// parseID returns the id written in v. An id is ASCII decimal digits, read
// as base 10 even with leading zeros, greater than 0 and within int64.
func parseID(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if !isASCIIDigit(v[i]) {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// isBranchcode reports whether v can be a Koha branchcode: at most
// maxBranchcodeLen characters, no spaces or control characters, and not a
// Perl object reference.
func isBranchcode(v string) bool {
	if v == "" || utf8.RuneCountInString(v) > maxBranchcodeLen || isPerlReference(v) {
		return false
	}
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// noValidIDError names the first rejected values of a notice without any
// valid id.
func noValidIDError(rejected []RejectedID) *ParseError {
	const maxShown = 2
	var b strings.Builder
	b.WriteString("no valid record id, rejected ")
	for i, r := range rejected {
		if i == maxShown {
			fmt.Fprintf(&b, " and %d more", len(rejected)-maxShown)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", r.Key, quoteValue(r.Value))
		if i > 0 {
			fmt.Fprintf(&b, " (line %d)", r.Line)
		}
	}
	return &ParseError{Line: rejected[0].Line, What: b.String()}
}
