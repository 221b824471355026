package pass_test

import (
	"fmt"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/pass"
)

func TestRunFallsBackToDeletedRecords(t *testing.T) {
	f := setup(t)
	must(t, f.site.ReturnCheckout(f.ctx, f.adaLoan))
	// Koha moves a deleted item and biblio to deleteditems, deletedbiblio
	// and deletedbiblioitems.
	for _, q := range []string{
		`INSERT INTO deleteditems SELECT * FROM items WHERE itemnumber = ?`,
		`DELETE FROM items WHERE itemnumber = ?`,
	} {
		_, err := f.db.DB.ExecContext(f.ctx, q, f.hobbit.Itemnumber)
		must(t, err)
	}
	for _, q := range []string{
		`INSERT INTO deletedbiblioitems SELECT * FROM biblioitems WHERE biblionumber = ?`,
		`INSERT INTO deletedbiblio SELECT * FROM biblio WHERE biblionumber = ?`,
		`DELETE FROM biblioitems WHERE biblionumber = ?`,
		`DELETE FROM biblio WHERE biblionumber = ?`,
	} {
		_, err := f.db.DB.ExecContext(f.ctx, q, f.hobbit.Biblionumber)
		must(t, err)
	}
	id := f.enqueue(f.ada, "CHECKIN", "email", fmt.Sprintf("webhook: yes\nold_checkouts: %d\nitem: %d\nbiblio: %d\nbiblioitem: %d\n",
		f.adaLoan, f.hobbit.Itemnumber, f.hobbit.Biblionumber, f.hobbit.Biblioitemnumber))

	f.run(pass.Options{})

	got := f.received(id)
	if len(got) != 1 {
		t.Fatalf("POSTs = %d", len(got))
	}
	p := decode(t, got[0])
	if item, _ := p["item"].(map[string]any); item == nil || item["itemnumber"] != float64(f.hobbit.Itemnumber) {
		t.Errorf("item = %v, want the deleteditems row", p["item"])
	}
	if biblio, _ := p["biblio"].(map[string]any); biblio == nil || biblio["title"] != "The Hobbit" {
		t.Errorf("biblio = %v, want the deletedbiblio row", p["biblio"])
	}
	if bi, _ := p["biblioitem"].(map[string]any); bi == nil || bi["biblioitemnumber"] != float64(f.hobbit.Biblioitemnumber) {
		t.Errorf("biblioitem = %v, want the deletedbiblioitems row", p["biblioitem"])
	}
	// Deleting the item cleared old_issues.itemnumber (ON DELETE SET NULL),
	// so the returned loan's entry has no item.
	co := p["checkouts"].([]any)[0].(map[string]any)
	if co["item"] != nil {
		t.Errorf("checkout item = %v, want null", co["item"])
	}
}

func TestRunMissingItemIsNull(t *testing.T) {
	f := setup(t)
	must(t, f.site.ReturnCheckout(f.ctx, f.adaLoan))
	_, err := f.db.DB.ExecContext(f.ctx, `DELETE FROM items WHERE itemnumber = ?`, f.hobbit.Itemnumber)
	must(t, err)
	id := f.enqueue(f.ada, "CHECKIN", "email", fmt.Sprintf("webhook: yes\nold_checkouts: %d\n", f.adaLoan))

	f.run(pass.Options{})

	if status, _ := f.status(id); status != "sent" {
		t.Fatalf("status = %s: one missing row must not fail the notice", status)
	}
	co := decode(t, f.received(id)[0])["checkouts"].([]any)[0].(map[string]any)
	if v, present := co["item"]; !present || v != nil {
		t.Errorf("item = %v (present %v), want null", v, present)
	}
}

func TestRunItemTypeFromBiblioitem(t *testing.T) {
	f := setup(t)
	_, err := f.db.DB.ExecContext(f.ctx, `UPDATE systempreferences SET value = '0' WHERE variable = 'item-level_itypes'`)
	must(t, err)
	_, err = f.db.DB.ExecContext(f.ctx, `UPDATE biblioitems SET itemtype = 'DVD' WHERE biblionumber = ?`, f.hobbit.Biblionumber)
	must(t, err)
	id := f.enqueue(f.ada, "CHECKOUT", "email", fmt.Sprintf("webhook: yes\ncheckout: %d\n", f.adaLoan))

	f.run(pass.Options{})

	co := decode(t, f.received(id)[0])["checkouts"].([]any)[0].(map[string]any)
	if it := co["itemtype"].(map[string]any)["itemtype"]; it != "DVD" {
		t.Errorf("itemtype = %v, want DVD from biblioitems when item-level_itypes is 0", it)
	}
}

func TestRunHoldOfDeletedBiblio(t *testing.T) {
	f := setup(t)
	must(t, f.site.CancelHold(f.ctx, f.adaHold, "UNKNOWN_CODE"))
	for _, q := range []string{
		`INSERT INTO deletedbiblioitems SELECT * FROM biblioitems WHERE biblionumber = ?`,
		`INSERT INTO deletedbiblio SELECT * FROM biblio WHERE biblionumber = ?`,
		`UPDATE old_reserves SET biblionumber = NULL, deleted_biblionumber = ? WHERE biblionumber = ?`,
	} {
		args := []any{f.dune.Biblionumber}
		if len(q) > 0 && q[0] == 'U' {
			args = append(args, f.dune.Biblionumber)
		}
		_, err := f.db.DB.ExecContext(f.ctx, q, args...)
		must(t, err)
	}
	id := f.enqueue(f.ada, "HOLD_CANCELLATION", "email", fmt.Sprintf("webhook: yes\nold_hold: %d\n", f.adaHold))

	f.run(pass.Options{})

	hold := decode(t, f.received(id)[0])["holds"].([]any)[0].(map[string]any)
	if b, _ := hold["biblio"].(map[string]any); b == nil || b["title"] != "Dune" {
		t.Errorf("biblio = %v, want the deletedbiblio row via deleted_biblionumber", hold["biblio"])
	}
	if d := hold["hold"].(map[string]any)["cancellation_reason_description"]; d != "UNKNOWN_CODE" {
		t.Errorf("cancellation_reason_description = %v, want the raw code", d)
	}
}
