package records

import (
	"fmt"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// resolvePatron picks the notice's recipient: the patron key, then
// message_queue.borrowernumber, then the owner of the first checkout or
// hold. The anonymous patron is never picked.
func (l *Loader) resolvePatron(b *Bundle, t *tables) {
	var candidates []int64
	candidates = append(candidates, b.Notice.Patrons...)
	if id, ok := b.Message.Int("borrowernumber"); ok {
		candidates = append(candidates, id)
	}
	for _, c := range b.Checkouts {
		candidates = append(candidates, intValue(c.Checkout, "borrowernumber"))
	}
	for _, h := range b.Holds {
		candidates = append(candidates, intValue(h.Hold, "borrowernumber"))
	}
	for _, id := range candidates {
		if id <= 0 || id == l.AnonymousPatron {
			continue
		}
		if p := t.borrowers[id]; p != nil {
			b.Patron = p
			return
		}
	}
	for _, id := range b.Notice.Patrons {
		if t.borrowers[id] == nil {
			b.Missing = append(b.Missing, fmt.Sprintf("patron %d", id))
		}
	}
}

// dropForeignRecords removes checkouts and holds that belong to a patron
// other than the recipient. Anonymised records (owner NULL or the anonymous
// patron) stay.
func (b *Bundle) dropForeignRecords(l *Loader) {
	if b.Patron == nil {
		return
	}
	patron := intValue(b.Patron, "borrowernumber")
	foreign := func(r *kohadb.Row) bool {
		owner, ok := r.Int("borrowernumber")
		return ok && owner != patron && owner != l.AnonymousPatron
	}

	checkouts := b.Checkouts[:0]
	for _, c := range b.Checkouts {
		if foreign(c.Checkout) {
			b.Foreign = append(b.Foreign, "checkout "+c.Checkout.String("issue_id"))
			continue
		}
		checkouts = append(checkouts, c)
	}
	b.Checkouts = checkouts

	holds := b.Holds[:0]
	for _, h := range b.Holds {
		if foreign(h.Hold) {
			b.Foreign = append(b.Foreign, "hold "+h.Hold.String("reserve_id"))
			continue
		}
		holds = append(holds, h)
	}
	b.Holds = holds
}

// itemLetterCodes are notices about items: an empty list on them means
// there is nothing to tell the patron.
var itemLetterCodes = map[string]bool{
	"DUE": true, "DUEDGST": true, "PREDUE": true, "PREDUEDGST": true,
	"HOLDDGST": true, "HOLD_REMINDER": true, "CHECKOUT": true, "CHECKIN": true, "RENEWAL": true,
}

// IsItemLetter reports whether code is a notice about items (due and
// overdue notices, digests, hold reminders, circulation receipts).
func IsItemLetter(code string) bool {
	code = strings.ToUpper(code)
	return itemLetterCodes[code] || strings.HasPrefix(code, "ODUE") || strings.HasPrefix(code, "AUTO_RENEWALS")
}

// noDataReason returns why the bundle has nothing to send, or "".
func noDataReason(b *Bundle) string {
	n := b.Notice
	named := len(n.Checkouts) + len(n.OldCheckouts) + len(n.Holds) + len(n.OldHolds) +
		len(n.Items) + len(n.Biblios) + len(n.Biblioitems) + len(n.Libraries)
	found := len(b.Checkouts) + len(b.Holds)
	for _, r := range []*kohadb.Row{b.Item, b.Biblio, b.Biblioitem} {
		if r != nil {
			found++
		}
	}
	if len(n.Libraries) > 0 && b.Library != nil {
		found++
	}

	switch {
	case named > 0 && found == 0:
		return describeMissing(b)
	case named == 0 && len(n.EmptyKeys) > 0 && IsItemLetter(b.Message.String("letter_code")):
		return "empty " + strings.Join(n.EmptyKeys, ", ") + " on a " + b.Message.String("letter_code") + " notice"
	case named == 0 && b.Patron == nil:
		if len(n.Patrons) > 0 || b.Message.String("borrowernumber") != "" {
			return describeMissing(b) + "; no patron found"
		}
		return "the notice names no patron and no records"
	}
	return ""
}

func describeMissing(b *Bundle) string {
	var parts []string
	if len(b.Missing) > 0 {
		parts = append(parts, "not found: "+strings.Join(limit(b.Missing, 20), ", "))
	}
	if len(b.Foreign) > 0 {
		parts = append(parts, "belong to another patron: "+strings.Join(limit(b.Foreign, 20), ", "))
	}
	if len(parts) == 0 {
		return "no records found"
	}
	return strings.Join(parts, "; ")
}

func limit(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	out := append([]string{}, list[:n]...)
	return append(out, fmt.Sprintf("and %d more", len(list)-n))
}
