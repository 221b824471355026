package payload

import (
	"fmt"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/records"
)

// Format is the payload shape.
type Format string

const (
	// Full sends the notice's rows.
	Full Format = "full"
	// Minimal sends ids only.
	Minimal Format = "minimal"
)

// ParseFormat validates a payload format setting.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "", Full:
		return Full, nil
	case Minimal:
		return Minimal, nil
	}
	return "", fmt.Errorf("payload format %q is invalid: use full or minimal", s)
}

// Options set how payloads are built.
type Options struct {
	// Format is the payload shape; the zero value means Full.
	Format Format
	// StringValues sends every non-null column value as a JSON string, the
	// way the Perl plugin's payloads looked on the wire.
	StringValues bool
}

// Columns never sent, per table.
var (
	omitMessage = map[string]bool{"content": true, "metadata": true}
	// overdrive_auth_token is a patron's OverDrive credential; the notice
	// service has no use for it.
	omitPatron = map[string]bool{"password": true, "secret": true, "borrowernotes": true, "overdrive_auth_token": true}
	omitBiblio = map[string]bool{"abstract": true}
)

// Build returns the JSON payload for one bundle, appended to dst.
func Build(dst []byte, b *records.Bundle, opt Options) []byte {
	w := &writer{buf: dst, strings: opt.StringValues}
	if opt.Format == Minimal {
		w.minimal(b)
	} else {
		w.full(b)
	}
	return w.buf
}

func (w *writer) full(b *records.Bundle) {
	w.openObject()
	w.key("message")
	w.row(b.Message, omitMessage, nil)
	if b.Patron != nil {
		w.key("patron")
		w.row(b.Patron, omitPatron, func() {
			w.key("account_balance")
			w.value(b.AccountBalance, kohadb.Number)
		})
	}
	if b.Library != nil {
		w.key("library")
		w.row(b.Library, nil, nil)
	}
	if len(b.Checkouts) > 0 {
		w.key("checkouts")
		w.openArray()
		for _, c := range b.Checkouts {
			w.comma()
			w.checkout(c)
		}
		w.closeArray()
	}
	if len(b.Holds) > 0 {
		w.key("holds")
		w.openArray()
		for _, h := range b.Holds {
			w.comma()
			w.hold(h)
		}
		w.closeArray()
	}
	w.optionalRow("item", b.Item, nil)
	w.optionalRow("biblio", b.Biblio, omitBiblio)
	w.optionalRow("biblioitem", b.Biblioitem, nil)
	w.closeObject()
}

func (w *writer) optionalRow(key string, r *kohadb.Row, omit map[string]bool) {
	if r == nil {
		return
	}
	w.key(key)
	w.row(r, omit, nil)
}

func (w *writer) checkout(c records.Checkout) {
	w.openObject()
	w.key("checkout")
	w.row(c.Checkout, nil, nil)
	w.key("item")
	w.row(c.Item, nil, nil)
	w.key("biblio")
	w.row(c.Biblio, omitBiblio, nil)
	w.key("biblioitem")
	w.row(c.Biblioitem, nil, nil)
	w.key("itemtype")
	w.row(c.Itemtype, nil, nil)
	w.key("library")
	w.row(c.Library, nil, nil)
	w.closeObject()
}

func (w *writer) hold(h records.Hold) {
	holdRow := func() {
		w.row(h.Hold, nil, func() {
			w.key("cancellation_reason_description")
			w.value(h.CancellationReason, kohadb.Text)
		})
	}
	w.openObject()
	w.key("hold")
	holdRow()
	if h.FromOldHold {
		// Receivers written against the Perl plugin read a cancelled hold
		// from a one-element "holds" list inside the entry.
		w.key("holds")
		w.openArray()
		w.comma()
		holdRow()
		w.closeArray()
	}
	w.key("pickup_library")
	w.row(h.PickupLibrary, nil, nil)
	w.key("biblio")
	w.row(h.Biblio, omitBiblio, nil)
	w.key("biblioitem")
	w.row(h.Biblioitem, nil, nil)
	if h.HasItem {
		w.key("item")
		w.row(h.Item, nil, nil)
	}
	if h.HasItem || h.Itemtype != nil {
		w.key("itemtype")
		w.row(h.Itemtype, nil, nil)
	}
	w.closeObject()
}

func (w *writer) minimal(b *records.Bundle) {
	w.openObject()
	w.key("notice_type")
	w.value(valueOf(b.Message, "letter_code"), kohadb.Text)
	w.key("transport_type")
	w.value(valueOf(b.Message, "message_transport_type"), kohadb.Text)
	w.key("message_id")
	w.value(valueOf(b.Message, "message_id"), kohadb.Number)
	if b.Patron != nil {
		w.key("patron_id")
		w.value(valueOf(b.Patron, "borrowernumber"), kohadb.Number)
	}
	if b.Library != nil {
		w.key("library_id")
		w.value(valueOf(b.Library, "branchcode"), kohadb.Text)
	}
	holdIDs := make([][]byte, len(b.Holds))
	for i, h := range b.Holds {
		holdIDs[i] = valueOf(h.Hold, "reserve_id")
	}
	w.idList("hold_id", "hold_ids", holdIDs)
	checkoutIDs := make([][]byte, len(b.Checkouts))
	for i, c := range b.Checkouts {
		checkoutIDs[i] = valueOf(c.Checkout, "issue_id")
	}
	w.idList("checkout_id", "checkout_ids", checkoutIDs)
	if b.Item != nil {
		w.key("item_id")
		w.value(valueOf(b.Item, "itemnumber"), kohadb.Number)
	}
	if b.Biblio != nil {
		w.key("biblio_id")
		w.value(valueOf(b.Biblio, "biblionumber"), kohadb.Number)
	}
	w.closeObject()
}

// idList writes one id under the singular key or several under the plural.
func (w *writer) idList(single, plural string, ids [][]byte) {
	switch len(ids) {
	case 0:
		return
	case 1:
		w.key(single)
		w.value(ids[0], kohadb.Number)
	default:
		w.key(plural)
		w.openArray()
		for _, id := range ids {
			w.comma()
			w.value(id, kohadb.Number)
		}
		w.closeArray()
	}
}

func valueOf(r *kohadb.Row, column string) []byte {
	v, _ := r.Value(column)
	return v
}
