package records

import (
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// assemble builds one notice's bundle from the batch's rows.
func (l *Loader) assemble(req Request, t *tables) *Bundle {
	n := req.Notice
	b := &Bundle{Message: req.Message, Notice: n}

	for _, id := range n.Checkouts {
		b.addCheckout(l, t, id, t.issues[id], t.oldIssues[id])
	}
	for _, id := range n.OldCheckouts {
		b.addCheckout(l, t, id, t.oldIssues[id], t.issues[id])
	}
	for _, id := range n.Holds {
		b.addHold(l, t, id, false, t.reserves[id], t.oldReserves[id])
	}
	for _, id := range n.OldHolds {
		b.addHold(l, t, id, true, t.oldReserves[id], t.reserves[id])
	}
	b.Item = firstFound(b, "item", n.Items, t.items)
	b.Biblio = firstFound(b, "biblio", n.Biblios, t.biblios)
	b.Biblioitem = firstFound(b, "biblioitem", n.Biblioitems, t.biblioitems)
	if len(n.Libraries) > 0 {
		b.Library = t.branches[strings.ToUpper(n.Libraries[0])]
		if b.Library == nil {
			b.Missing = append(b.Missing, "library "+n.Libraries[0])
		}
	}

	l.resolvePatron(b, t)
	b.dropForeignRecords(l)
	if b.Patron != nil {
		id, _ := b.Patron.Int("borrowernumber")
		b.AccountBalance = t.balances[id]
		if b.AccountBalance == nil {
			b.AccountBalance = []byte("0")
		}
	}
	if b.Library == nil && len(b.Checkouts) > 0 {
		b.Library = b.Checkouts[0].Library
	}
	b.NoData = noDataReason(b)
	return b
}

func (b *Bundle) addCheckout(l *Loader, t *tables, id int64, primary, fallback *kohadb.Row) {
	row := primary
	if row == nil {
		row = fallback
	}
	if row == nil {
		b.Missing = append(b.Missing, "checkout "+formatID(id))
		return
	}
	c := Checkout{Checkout: row, Library: t.branches[strings.ToUpper(row.String("branchcode"))]}
	if itemnumber, ok := row.Int("itemnumber"); ok {
		c.Item = t.items[itemnumber]
	}
	if c.Item != nil {
		c.Biblio = t.biblios[intValue(c.Item, "biblionumber")]
		c.Biblioitem = t.biblioitems[intValue(c.Item, "biblioitemnumber")]
		c.Itemtype = l.itemtype(t, c.Item, c.Biblioitem)
	}
	b.Checkouts = append(b.Checkouts, c)
}

func (b *Bundle) addHold(l *Loader, t *tables, id int64, old bool, primary, fallback *kohadb.Row) {
	row := primary
	if row == nil {
		row = fallback
	}
	if row == nil {
		b.Missing = append(b.Missing, "hold "+formatID(id))
		return
	}
	h := Hold{Hold: row, FromOldHold: old, PickupLibrary: t.branches[strings.ToUpper(row.String("branchcode"))]}
	biblionumber, ok := row.Int("biblionumber")
	if !ok {
		biblionumber, _ = row.Int("deleted_biblionumber")
	}
	h.Biblio = t.biblios[biblionumber]
	h.Biblioitem = t.biblioitemsByBiblio[biblionumber]
	if itemnumber, ok := row.Int("itemnumber"); ok {
		h.HasItem = true
		h.Item = t.items[itemnumber]
	}
	if h.Item != nil {
		h.Itemtype = l.itemtype(t, h.Item, t.biblioitems[intValue(h.Item, "biblioitemnumber")])
	} else if code := row.String("itemtype"); code != "" {
		h.Itemtype = t.itemtypes[strings.ToUpper(code)]
	} else if h.Biblioitem != nil {
		h.Itemtype = t.itemtypes[strings.ToUpper(h.Biblioitem.String("itemtype"))]
	}
	if reason := row.String("cancellation_reason"); reason != "" {
		h.CancellationReason = t.cancellationReasons[strings.ToUpper(reason)]
		if h.CancellationReason == nil {
			h.CancellationReason = []byte(reason)
		}
	}
	b.Holds = append(b.Holds, h)
}

// itemtype returns the item's effective item type row: items.itype when
// item-level item types are on and the item has one, else the biblioitem's.
func (l *Loader) itemtype(t *tables, item, biblioitem *kohadb.Row) *kohadb.Row {
	code := ""
	if l.ItemLevelItemTypes {
		code = item.String("itype")
	}
	if code == "" && biblioitem != nil {
		code = biblioitem.String("itemtype")
	}
	return t.itemtypes[strings.ToUpper(code)]
}

func firstFound(b *Bundle, kind string, ids []int64, rows map[int64]*kohadb.Row) *kohadb.Row {
	for _, id := range ids {
		if r := rows[id]; r != nil {
			return r
		}
		b.Missing = append(b.Missing, kind+" "+formatID(id))
	}
	return nil
}

func intValue(r *kohadb.Row, column string) int64 {
	v, _ := r.Int(column)
	return v
}
