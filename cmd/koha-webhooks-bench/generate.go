package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// rowsPerInsert is the number of rows in one multi-row INSERT written from Go.
const rowsPerInsert = 1000

// historyChunk is the number of history rows per INSERT … SELECT, so that no
// single transaction grows with -history.
const historyChunk = 100_000

// generator writes a plan into the bench database over one connection.
type generator struct {
	conn *sql.Conn
	plan *plan
	log  *slog.Logger
	// sequence returns a table expression with one column, seq, holding
	// 1..n: MariaDB's SEQUENCE engine table seq_1_to_n, or a helper table
	// when the engine is not installed.
	sequence func(n int) string
	// firstPending is the message_id of the first pending notice.
	firstPending int64
}

// generate writes the reference rows, the library, the sent history and the
// pending webhook notices, and returns the first pending message_id.
func generate(ctx context.Context, db *sql.DB, p *plan, log *slog.Logger) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Every reference the generator writes points at a row it wrote before,
	// so foreign key checks only slow the bulk load down, as in a
	// mysqldump restore.
	if _, err := conn.ExecContext(ctx, "SET SESSION foreign_key_checks = 0, unique_checks = 0"); err != nil {
		return 0, err
	}
	g := &generator{conn: conn, plan: p, log: log}
	if err := g.chooseSequence(ctx); err != nil {
		return 0, err
	}

	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"reference rows", func(ctx context.Context) error { return (&sample.Site{DB: conn}).Setup(ctx) }},
		{"patrons and account lines", g.patrons},
		{"biblios and items", g.catalogue},
		{"loans", g.loans},
		{"holds", g.holds},
		{"sent history", g.history},
		{"pending notices", g.pending},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.run(ctx); err != nil {
			return 0, fmt.Errorf("generate %s: %w", s.name, err)
		}
		log.Info("generated", "step", s.name, "duration", time.Since(start).Round(time.Millisecond).String())
	}
	return g.firstPending, nil
}

// chooseSequence uses the SEQUENCE engine when it is installed and otherwise
// fills a helper table with 1..n from Go.
func (g *generator) chooseSequence(ctx context.Context) error {
	var rows int
	if err := g.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM seq_1_to_1").Scan(&rows); err == nil && rows == 1 {
		g.sequence = func(n int) string { return "seq_1_to_" + strconv.Itoa(n) }
		return nil
	}
	g.log.Info("the SEQUENCE engine is not available: filling a helper table instead")
	largest := max(g.plan.patrons, g.plan.items, g.plan.biblios, g.plan.returned, g.plan.holds, g.plan.cancels, historyChunk)
	if _, err := g.conn.ExecContext(ctx, "CREATE TABLE kwbench_seq (seq INT NOT NULL PRIMARY KEY) ENGINE=InnoDB"); err != nil {
		return fmt.Errorf("create helper table kwbench_seq: %w", err)
	}
	err := insertRows(ctx, g.conn, "INSERT INTO kwbench_seq (seq) VALUES ", "(?)", largest, func(i int, args []any) []any {
		return append(args, i+1)
	})
	if err != nil {
		return fmt.Errorf("fill helper table kwbench_seq: %w", err)
	}
	g.sequence = func(n int) string { return "(SELECT seq FROM kwbench_seq WHERE seq <= " + strconv.Itoa(n) + ")" }
	return nil
}

// insertRows runs multi-row INSERTs of rowsPerInsert rows: head is the
// statement up to VALUES, row the placeholder tuple, and add appends row
// i's arguments.
func insertRows(ctx context.Context, conn *sql.Conn, head, row string, n int, add func(i int, args []any) []any) error {
	for start := 0; start < n; start += rowsPerInsert {
		end := min(start+rowsPerInsert, n)
		var sb strings.Builder
		sb.WriteString(head)
		var args []any
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
			args = add(i, args)
		}
		if _, err := conn.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) exec(ctx context.Context, query string, args ...any) error {
	_, err := g.conn.ExecContext(ctx, query, args...)
	return err
}

// patrons writes borrowers 1..patrons (a third without email, some with an
// SMS number) and account lines for every third patron.
func (g *generator) patrons(ctx context.Context) error {
	p := g.plan
	err := g.exec(ctx, `INSERT INTO borrowers (borrowernumber, cardnumber, surname, firstname, email, smsalertnumber, phone,
		address, city, zipcode, categorycode, branchcode, dateofbirth, dateenrolled, dateexpiry, password, secret, borrowernotes, lang)
		SELECT seq, CONCAT('2305', LPAD(seq, 10, '0')),
			ELT(1 + seq % 8, 'Hopper', 'Lovelace', 'Turing', 'Liskov', 'Knuth', 'Hamilton', 'Ritchie', 'Dijkstra'),
			ELT(1 + seq % 6, 'Grace', 'Ada', 'Alan', 'Barbara', 'Donald', 'Margaret'),
			IF(seq % 3 = 0, NULL, CONCAT('patron', seq, '@example.org')),
			IF(seq % 4 = 0, CONCAT('+1555', LPAD(seq, 7, '0')), NULL),
			CONCAT('555-', LPAD(seq % 10000, 4, '0')),
			CONCAT(seq % 900 + 1, ' Library Lane'), 'Midway', LPAD(seq % 99999, 5, '0'),
			?, IF(seq % 5 = 0, ?, ?), '1980-01-01' + INTERVAL (seq % 15000) DAY,
			CURDATE() - INTERVAL (seq % 2000) DAY, CURDATE() + INTERVAL 1 YEAR,
			'$2a$08$not.a.real.hash.just.sample.data.0000000000000000', 'TOTPSECRET', 'staff-only note', 'default'
		FROM `+g.sequence(p.patrons), sample.Category, sample.BranchLibrary, sample.MainLibrary)
	if err != nil {
		return fmt.Errorf("insert borrowers: %w", err)
	}
	err = g.exec(ctx, `INSERT INTO accountlines (borrowernumber, amount, amountoutstanding, description, interface, date, timestamp)
		SELECT seq, 0.50 * (1 + seq % 7), IF(seq % 9 = 0, 0, 0.50 * (1 + seq % 7)), 'Overdue fine', 'cron', NOW(), NOW()
		FROM `+g.sequence(p.patrons)+` WHERE seq % 3 = 0`)
	if err != nil {
		return fmt.Errorf("insert accountlines: %w", err)
	}
	return nil
}

// catalogue writes biblios (with an abstract the payload must leave out),
// one biblioitem per biblio with the same number, and items whose biblio is
// ((itemnumber-1) mod biblios)+1; every tenth item is a DVD.
func (g *generator) catalogue(ctx context.Context) error {
	p := g.plan
	err := g.exec(ctx, `INSERT INTO biblio (biblionumber, frameworkcode, author, title, subtitle, copyrightdate, abstract, datecreated)
		SELECT seq, '', CONCAT(ELT(1 + seq % 5, 'Aho', 'Kernighan', 'Sedgewick', 'Tanenbaum', 'Wirth'), ', ', CHAR(65 + seq % 26), '.'),
			CONCAT('Collected works, volume ', seq), 'a sample title', 1950 + seq % 70,
			'An abstract that must never be sent.', CURDATE() - INTERVAL (seq % 3000) DAY
		FROM `+g.sequence(p.biblios))
	if err != nil {
		return fmt.Errorf("insert biblio: %w", err)
	}
	err = g.exec(ctx, `INSERT INTO biblioitems (biblioitemnumber, biblionumber, itemtype, isbn, publishercode, pages, place)
		SELECT seq, seq, IF(seq % 10 = 0, ?, ?), CONCAT('978', LPAD(seq, 10, '0')), 'Sample Press', CONCAT(100 + seq % 700, ' p.'), 'Midway'
		FROM `+g.sequence(p.biblios), sample.DVDItemType, sample.ItemType)
	if err != nil {
		return fmt.Errorf("insert biblioitems: %w", err)
	}
	err = g.exec(ctx, `INSERT INTO items (itemnumber, biblionumber, biblioitemnumber, barcode, homebranch, holdingbranch, itype,
		itemcallnumber, price, replacementprice, dateaccessioned, datelastborrowed, issues)
		SELECT seq, 1 + (seq - 1) % ?, 1 + (seq - 1) % ?, CONCAT('39', LPAD(seq, 12, '0')), ?, IF(seq % 5 = 0, ?, ?),
			IF(seq % 10 = 0, ?, ?), CONCAT('QA76.', seq % 1000, ' .S', seq % 97), 12.50, 25.00,
			CURDATE() - INTERVAL (seq % 3000) DAY, CURDATE() - INTERVAL (seq % 30) DAY, seq % 40
		FROM `+g.sequence(p.items), p.biblios, p.biblios, sample.MainLibrary, sample.BranchLibrary, sample.MainLibrary,
		sample.DVDItemType, sample.ItemType)
	if err != nil {
		return fmt.Errorf("insert items: %w", err)
	}
	return nil
}

// loans writes the current loans (issue_id = itemnumber, owners from the
// plan) and the returned ones in old_issues.
func (g *generator) loans(ctx context.Context) error {
	p := g.plan
	err := insertRows(ctx, g.conn, `INSERT INTO issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, issuedate, renewals_count, lastreneweddate, auto_renew) VALUES `,
		"(?, ?, ?, CURDATE() + INTERVAL ? DAY, ?, NOW() - INTERVAL ? DAY, ?, NULL, 0)", p.loans,
		func(i int, args []any) []any {
			return append(args, i+1, p.loanOwner[i], i+1, i%21-7, sample.MainLibrary, 14-i%21+7, i%3)
		})
	if err != nil {
		return fmt.Errorf("insert issues: %w", err)
	}
	err = g.exec(ctx, `INSERT INTO old_issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, returndate, issuedate, renewals_count, auto_renew)
		SELECT ? + seq, 1 + (seq - 1) % ?, 1 + ((seq - 1) * 13) % ?, CURDATE() - INTERVAL 1 DAY, IF(seq % 4 = 0, ?, ?),
			NOW() - INTERVAL (seq % 60) MINUTE, NOW() - INTERVAL 15 DAY, seq % 2, 0
		FROM `+g.sequence(p.returned), p.loans, p.patrons, p.items, sample.BranchLibrary, sample.MainLibrary)
	if err != nil {
		return fmt.Errorf("insert old_issues: %w", err)
	}
	return nil
}

// holds writes the current holds (odd reserve_ids are item-level and
// waiting, even ones biblio-level) and the cancelled holds with reason
// NOT_FOUND in old_reserves.
func (g *generator) holds(ctx context.Context) error {
	p := g.plan
	err := g.exec(ctx, `INSERT INTO reserves (reserve_id, borrowernumber, reservedate, biblionumber, branchcode, itemnumber,
		priority, found, waitingdate, expirationdate, timestamp)
		SELECT seq, 1 + ((seq - 1) * 3) % ?, CURDATE() - INTERVAL (seq % 20) DAY, 1 + (seq - 1) % ?, IF(seq % 2 = 0, ?, ?),
			IF(seq % 2 = 1, 1 + (seq - 1) % ?, NULL), IF(seq % 2 = 1, 0, 1), IF(seq % 2 = 1, 'W', NULL),
			IF(seq % 2 = 1, CURDATE(), NULL), CURDATE() + INTERVAL 7 DAY, NOW()
		FROM `+g.sequence(p.holds), p.patrons, p.biblios, sample.BranchLibrary, sample.MainLibrary, p.biblios)
	if err != nil {
		return fmt.Errorf("insert reserves: %w", err)
	}
	err = g.exec(ctx, `INSERT INTO old_reserves (reserve_id, borrowernumber, reservedate, biblionumber, branchcode, itemnumber,
		priority, found, cancellationdate, cancellation_reason, expirationdate, timestamp)
		SELECT ? + seq, 1 + ((seq - 1) * 7) % ?, CURDATE() - INTERVAL (seq % 20) DAY, 1 + (seq - 1) % ?, ?,
			IF(seq % 2 = 1, 1 + (seq - 1) % ?, NULL), 0, NULL, NOW() - INTERVAL (seq % 60) MINUTE, 'NOT_FOUND',
			CURDATE() + INTERVAL 7 DAY, NOW()
		FROM `+g.sequence(p.cancels), p.holds, p.patrons, p.biblios, sample.MainLibrary, p.biblios)
	if err != nil {
		return fmt.Errorf("insert old_reserves: %w", err)
	}
	return nil
}

// historyBody is the fixed part of a sent email notice, so that history rows
// are about 500 bytes like Koha's plain-text due and hold notices. It must
// not contain the word "webhook".
const historyBody = `Please return or renew them as soon as possible. You can renew online ` +
	`through the library catalogue or by calling your branch during opening hours. ` +
	`Items that are more than 30 days overdue are billed as lost. ` +
	`Thank you for using the Midway Public Library.\n\nMidway Public Library\n` +
	`1 Library Lane, Midway\nOpening hours: Mon-Fri 9-20, Sat 10-16`

// history writes the already-sent email notices that precede the pending
// ones, in chunks, with message_id 1..history.
func (g *generator) history(ctx context.Context) error {
	p := g.plan
	for offset := 0; offset < p.history; offset += historyChunk {
		n := min(historyChunk, p.history-offset)
		err := g.exec(ctx, `INSERT INTO message_queue (message_id, borrowernumber, subject, content, metadata, letter_code,
			message_transport_type, status, time_queued, to_address, from_address, content_type, failure_code)
			SELECT ? + seq, 1 + (? + seq) % ?, ELT(1 + seq % 4, 'Item due', 'Overdue notice', 'Hold available for pickup', 'Advance notice'),
				CONCAT('Dear ', ELT(1 + seq % 6, 'Grace', 'Ada', 'Alan', 'Barbara', 'Donald', 'Margaret'), ' ',
					ELT(1 + seq % 8, 'Hopper', 'Lovelace', 'Turing', 'Liskov', 'Knuth', 'Hamilton', 'Ritchie', 'Dijkstra'),
					',\n\nThe following items are due on ', DATE_FORMAT(CURDATE() - INTERVAL (seq % 365) DAY, '%d/%m/%Y'), ':\n\n',
					'Collected works, volume ', seq % 50000, ' / barcode 39', LPAD(seq, 12, '0'), '\n\n', ?),
				'', ELT(1 + seq % 5, 'CHECKOUT', 'DUE', 'HOLD', 'ODUE', 'PREDUE'), 'email', 'sent',
				NOW() - INTERVAL (? - seq - ?) MINUTE, CONCAT('patron', seq, '@example.org'), 'circ@midway.example',
				'text/plain; charset="UTF-8"', NULL
			FROM `+g.sequence(n), offset, offset, p.patrons, historyBody, p.history, offset)
		if err != nil {
			return fmt.Errorf("insert message_queue history rows %d to %d: %w", offset+1, offset+n, err)
		}
	}
	return nil
}

// pending writes the webhook notices, after the history, on email and sms.
func (g *generator) pending(ctx context.Context) error {
	p := g.plan
	g.firstPending = int64(p.history + 1)
	err := insertRows(ctx, g.conn, `INSERT INTO message_queue (message_id, borrowernumber, subject, content, metadata, letter_code,
		message_transport_type, status, time_queued, content_type, failure_code) VALUES `,
		"(?, ?, ?, ?, '', ?, ?, 'pending', NOW(), NULL, '')", len(p.queue),
		func(i int, args []any) []any {
			n := p.queue[i]
			transport := "email"
			if i%4 == 3 {
				transport = "sms"
			}
			return append(args, g.firstPending+int64(i), n.borrower, "Library notice", n.content(), shapeLetters[n.shape], transport)
		})
	if err != nil {
		return fmt.Errorf("insert message_queue: %w", err)
	}
	return nil
}
