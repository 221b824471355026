package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// populate writes a small library and one notice per content shape.
func (d *demo) populate(ctx context.Context) error {
	s := d.site
	if err := s.Setup(ctx); err != nil {
		return err
	}
	ada, err := s.AddPatron(ctx, sample.Patron{Surname: "Lovelace", Firstname: "Ada", Email: "ada@example.org", SMS: "+15550100"})
	if err != nil {
		return err
	}
	bob, err := s.AddPatron(ctx, sample.Patron{Surname: "Babbage", Firstname: "Charles", Phone: "+15550101"})
	if err != nil {
		return err
	}
	if err := s.AddFine(ctx, ada, "1.50"); err != nil {
		return err
	}
	var loans, holds []int64
	titles := []string{"The Hobbit", "Small country houses: their repair and enlargement", "Dune", "Ворона и лисица", "كتاب الطبخ", "The Naked Gun"}
	for i, title := range titles {
		t, err := s.AddTitle(ctx, title, "Sample author", []string{sample.ItemType, sample.DVDItemType}[i%2])
		if err != nil {
			return err
		}
		loan, err := s.AddCheckout(ctx, ada, t.Itemnumber)
		if err != nil {
			return err
		}
		loans = append(loans, loan)
		hold, err := s.AddHold(ctx, ada, t.Biblionumber, 0, sample.BranchLibrary)
		if err != nil {
			return err
		}
		holds = append(holds, hold)
	}
	bobTitle, err := s.AddTitle(ctx, "Analytical Engine notes", "Menabrea", sample.ItemType)
	if err != nil {
		return err
	}
	bobLoan, err := s.AddCheckout(ctx, bob, bobTitle.Itemnumber)
	if err != nil {
		return err
	}
	if err := s.ReturnCheckout(ctx, loans[5]); err != nil {
		return err
	}
	if err := s.CancelHold(ctx, holds[5], "NOT_FOUND"); err != nil {
		return err
	}
	d.notices = demoNotices(ada, bob, loans, holds, bobLoan)
	for _, n := range d.notices {
		if n.id, err = s.Enqueue(ctx, n.message); err != nil {
			return err
		}
	}
	return nil
}

// demoNotices returns one notice per content shape real templates produce.
func demoNotices(ada, bob int64, loans, holds []int64, bobLoan int64) []*demoNotice {
	l, h := loans, holds
	msg := func(patron int64, letter, transport, content string) sample.Message {
		return sample.Message{Borrowernumber: patron, LetterCode: letter, Transport: transport, Content: content}
	}
	html := msg(ada, "HOLD", "email", fmt.Sprintf("<p>webhook: yes<br>patron: %d<br>hold: %d</p>", ada, h[0]))
	html.ContentType = `text/html; charset="UTF-8"`
	return []*demoNotice{
		{shape: "CRLF line endings", message: msg(ada, "HOLD", "sms", fmt.Sprintf("webhook: yes\r\npatron: %d\r\nhold: %d\r\n", ada, h[0]))},
		{shape: "HTML-wrapped YAML", message: html},
		{shape: "three appended fragments, BOM", message: msg(ada, "CHECKOUT", "email",
			fmt.Sprintf("---\nwebhook: yes\ncheckout: %d\n\uFEFF---\nwebhook: yes\ncheckout: %d\n---\nwebhook: yes\ncheckout: %d\n", l[0], l[1], l[2]))},
		{shape: "digest ---- segments, glued", message: msg(ada, "DUEDGST", "email",
			fmt.Sprintf("webhook: yes\npatron: %d\ncheckouts:\n----\n%d, # The Hobbit\n----\n%d----\n%d,\n", ada, l[0], l[1], l[2]))},
		{shape: "bare id lines", message: msg(ada, "PREDUEDGST", "email", fmt.Sprintf("webhook: yes\ncheckouts:\n%d,\n%d,\n", l[3], l[4]))},
		{shape: "inline first id + bare lines", message: msg(ada, "RENEWAL", "sms", fmt.Sprintf("webhook: yes\ncheckouts: %d\n%d\n", l[0], l[1]))},
		{shape: "orphan segment, key inferred", message: msg(ada, "HOLDDGST", "email", fmt.Sprintf("webhook: yes\npatron: %d\n----\n%d, %d\n----\n", ada, h[1], h[2]))},
		{shape: "# comments with wrapped titles", message: msg(ada, "HOLDDGST", "sms",
			fmt.Sprintf("webhook: yes\nholds:\n#Title Small country houses: their repair and\nenlargement; forty examples chosen: five centuries\n%d, #Title Dune: a novel\n%d,\n", h[1], h[2]))},
		{shape: "YAML flow sequence", message: msg(ada, "DUE", "email", fmt.Sprintf("webhook: yes\ncheckouts: [%d, %d]\n", l[3], l[4]))},
		{shape: "duplicate keys", message: msg(ada, "CHECKOUT", "sms", fmt.Sprintf("webhook: yes\ncheckout: %d\ncheckout: %d\n", l[3], l[4]))},
		{shape: "NBSP, tabs, non-ASCII", message: msg(ada, "DUE", "email", fmt.Sprintf("webhook:\u00a0YES\ncheckouts:\t%d\n# Título: ¿Dónde está? 📚 كتاب\n", l[4]))},
		{shape: "invalid ids rejected", message: msg(ada, "DUE", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d, 70115abc, Koha::Old::Checkout=HASH(0x55d0)\n", l[0]))},
		{shape: "returned loan (check-in)", message: msg(ada, "CHECKIN", "email", fmt.Sprintf("webhook: yes\nold_checkouts: %d\n", l[5]))},
		{shape: "cancelled hold with reason", message: msg(ada, "HOLD_CANCELLATION", "sms", fmt.Sprintf("webhook: yes\nold_hold: %d\n", h[5]))},
		{shape: "patron only", message: msg(ada, "WELCOME", "email", "webhook: yes\n")},
		{shape: "another patron's loan dropped", message: msg(ada, "DUEDGST", "email", fmt.Sprintf("webhook: yes\ncheckouts: %d, %d\n", l[0], bobLoan))},
		{shape: "overdue call, patron has email", message: msg(ada, "ODUE", "phone", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", l[0]))},
		{shape: "overdue call, phone only", message: msg(bob, "ODUE", "phone", fmt.Sprintf("webhook: yes\ncheckouts: %d\n", bobLoan))},
		{shape: "broken YAML", message: msg(ada, "DUE", "email", "---\nwebhook: yes\ncheckouts: [1, 2\n")},
		{shape: "ids that do not exist", message: msg(ada, "DUE", "email", "webhook: yes\ncheckouts: 990001, 990002\n")},
		{shape: "HTML newsletter (not a notice)", message: msg(ada, "NEWSLETTER", "email", "<html><p>Try our new webhook integration!</p></html>")},
		{shape: "webhook: yesterday (not one)", message: msg(ada, "MEMO", "email", "webhook: yesterday\n"+strings.Repeat("x", 10))},
	}
}
