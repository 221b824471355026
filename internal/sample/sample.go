// Package sample writes a small, realistic Koha library into a database that
// holds Koha's schema: libraries, patrons, biblios, items, loans, holds and
// queued webhook notices. The demo, the benchmark and the tests share it.
package sample

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// barcodes numbers sample items; barcodes are unique per database, and
// items.barcode holds 20 characters.
var barcodes atomic.Int64

// Execer is the part of *sql.DB and *sql.Tx the builders use.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Site writes sample records. Every method fails the whole call on the first
// database error and names the table.
type Site struct {
	DB Execer
}

// Reference rows every sample site has.
const (
	MainLibrary   = "MPL"
	BranchLibrary = "FPL"
	Category      = "PT"
	ItemType      = "BK"
	DVDItemType   = "DVD"
)

// Setup writes the reference rows notices depend on: two libraries, a patron
// category, item types, message transport types, hold cancellation reasons,
// overdue letter rules and the system preferences koha-webhooks reads.
func (s *Site) Setup(ctx context.Context) error {
	statements := []struct {
		query string
		args  []any
	}{
		{`INSERT INTO branches (branchcode, branchname, branchcity, branchemail) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
			[]any{MainLibrary, "Midway Public Library", "Midway", "circ@midway.example", BranchLibrary, "Fairview Branch Library", "Fairview", "fpl@midway.example"}},
		{`INSERT INTO categories (categorycode, description, enrolmentperiod, category_type) VALUES (?, 'Patron', 99, 'A')`, []any{Category}},
		{`INSERT INTO itemtypes (itemtype, description) VALUES (?, 'Books'), (?, 'DVDs')`, []any{ItemType, DVDItemType}},
		{`INSERT IGNORE INTO message_transport_types (message_transport_type) VALUES ('email'), ('sms'), ('phone'), ('print'), ('itiva')`, nil},
		{`INSERT IGNORE INTO authorised_value_categories (category_name) VALUES ('HOLD_CANCELLATION')`, nil},
		{`INSERT INTO authorised_values (category, authorised_value, lib, lib_opac) VALUES ('HOLD_CANCELLATION', 'NOT_FOUND', 'Item could not be located on shelves', 'Item could not be found')`, nil},
		{`INSERT INTO overduerules (branchcode, categorycode, delay1, letter1, debarred1, delay2, letter2, debarred2, delay3, letter3, debarred3) VALUES ('', ?, 7, 'ODUE', 0, 14, 'ODUE2', 0, 30, 'ODUE3', 1)`, []any{Category}},
		{`INSERT INTO systempreferences (variable, value) VALUES ('LibraryName', 'Midway Public Library'), ('item-level_itypes', '1'), ('AnonymousPatron', '0')
		  ON DUPLICATE KEY UPDATE value = VALUES(value)`, nil},
	}
	for _, st := range statements {
		if _, err := s.DB.ExecContext(ctx, st.query, st.args...); err != nil {
			return fmt.Errorf("sample setup: %w", err)
		}
	}
	return nil
}

// Patron describes a sample patron; empty fields stay NULL.
type Patron struct {
	Surname, Firstname string
	Email, SMS         string
	Phone              string
	Library            string // default MainLibrary
}

// AddPatron inserts a patron and returns its borrowernumber.
func (s *Site) AddPatron(ctx context.Context, p Patron) (int64, error) {
	library := p.Library
	if library == "" {
		library = MainLibrary
	}
	res, err := s.DB.ExecContext(ctx, `INSERT INTO borrowers
		(cardnumber, surname, firstname, email, smsalertnumber, phone, categorycode, branchcode, dateenrolled, dateexpiry, password, secret, borrowernotes, userid)
		VALUES (UUID_SHORT(), ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), ?, ?, CURDATE(), CURDATE() + INTERVAL 1 YEAR,
		        '$2a$08$not.a.real.hash.just.sample.data.0000000000000000', 'TOTPSECRET', 'staff-only note', NULL)`,
		p.Surname, p.Firstname, p.Email, p.SMS, p.Phone, Category, library)
	if err != nil {
		return 0, fmt.Errorf("insert borrowers: %w", err)
	}
	return res.LastInsertId()
}

// AddFine adds an account line with the given outstanding amount (negative
// for a credit).
func (s *Site) AddFine(ctx context.Context, borrowernumber int64, amount string) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO accountlines (borrowernumber, amount, amountoutstanding, interface, debit_type_code, date)
		VALUES (?, ?, ?, 'intranet', NULL, NOW())`, borrowernumber, amount, amount)
	if err != nil {
		return fmt.Errorf("insert accountlines: %w", err)
	}
	return nil
}

// Title is a sample bibliographic record with one item.
type Title struct {
	Biblionumber     int64
	Biblioitemnumber int64
	Itemnumber       int64
}

// AddTitle inserts a biblio, its biblioitem and one item of itemType held
// at MainLibrary.
func (s *Site) AddTitle(ctx context.Context, title, author, itemType string) (Title, error) {
	var t Title
	res, err := s.DB.ExecContext(ctx, `INSERT INTO biblio (frameworkcode, author, title, abstract, datecreated) VALUES ('', ?, ?, 'An abstract that must never be sent.', CURDATE())`, author, title)
	if err != nil {
		return t, fmt.Errorf("insert biblio: %w", err)
	}
	if t.Biblionumber, err = res.LastInsertId(); err != nil {
		return t, err
	}
	res, err = s.DB.ExecContext(ctx, `INSERT INTO biblioitems (biblionumber, itemtype, isbn, publishercode) VALUES (?, ?, '9780261102217', 'Sample Press')`, t.Biblionumber, itemType)
	if err != nil {
		return t, fmt.Errorf("insert biblioitems: %w", err)
	}
	if t.Biblioitemnumber, err = res.LastInsertId(); err != nil {
		return t, err
	}
	res, err = s.DB.ExecContext(ctx, `INSERT INTO items (biblionumber, biblioitemnumber, barcode, homebranch, holdingbranch, itype, price, replacementprice, dateaccessioned)
		VALUES (?, ?, ?, ?, ?, ?, 12.50, 25.00, CURDATE())`,
		t.Biblionumber, t.Biblioitemnumber, fmt.Sprintf("39%012d", barcodes.Add(1)), MainLibrary, MainLibrary, itemType)
	if err != nil {
		return t, fmt.Errorf("insert items: %w", err)
	}
	t.Itemnumber, err = res.LastInsertId()
	return t, err
}

// AddCheckout lends itemnumber to borrowernumber at MainLibrary and returns
// the issue_id.
func (s *Site) AddCheckout(ctx context.Context, borrowernumber, itemnumber int64) (int64, error) {
	res, err := s.DB.ExecContext(ctx, `INSERT INTO issues (borrowernumber, itemnumber, date_due, branchcode, issuedate, renewals_count)
		VALUES (?, ?, CURDATE() + INTERVAL 14 DAY, ?, NOW(), 0)`, borrowernumber, itemnumber, MainLibrary)
	if err != nil {
		return 0, fmt.Errorf("insert issues: %w", err)
	}
	return res.LastInsertId()
}

// ReturnCheckout moves a loan to old_issues, as Koha does at check-in; the
// issue_id is kept.
func (s *Site) ReturnCheckout(ctx context.Context, issueID int64) error {
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO old_issues SELECT * FROM issues WHERE issue_id = ?`, issueID); err != nil {
		return fmt.Errorf("insert old_issues: %w", err)
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE old_issues SET returndate = NOW() WHERE issue_id = ?`, issueID); err != nil {
		return fmt.Errorf("update old_issues: %w", err)
	}
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM issues WHERE issue_id = ?`, issueID); err != nil {
		return fmt.Errorf("delete issues: %w", err)
	}
	return nil
}

// AddHold places a hold on biblionumber (and itemnumber when non-zero) for
// pickup at library and returns the reserve_id.
func (s *Site) AddHold(ctx context.Context, borrowernumber, biblionumber, itemnumber int64, library string) (int64, error) {
	var item any
	if itemnumber != 0 {
		item = itemnumber
	}
	res, err := s.DB.ExecContext(ctx, `INSERT INTO reserves (borrowernumber, reservedate, biblionumber, branchcode, itemnumber, priority, found, waitingdate, expirationdate)
		VALUES (?, CURDATE(), ?, ?, ?, 0, 'W', CURDATE(), CURDATE() + INTERVAL 7 DAY)`, borrowernumber, biblionumber, library, item)
	if err != nil {
		return 0, fmt.Errorf("insert reserves: %w", err)
	}
	return res.LastInsertId()
}

// CancelHold moves a hold to old_reserves with a cancellation reason code
// (empty for none), as Koha does when a hold is cancelled.
func (s *Site) CancelHold(ctx context.Context, reserveID int64, reason string) error {
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO old_reserves SELECT * FROM reserves WHERE reserve_id = ?`, reserveID); err != nil {
		return fmt.Errorf("insert old_reserves: %w", err)
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE old_reserves SET cancellationdate = NOW(), cancellation_reason = NULLIF(?, '') WHERE reserve_id = ?`, reason, reserveID); err != nil {
		return fmt.Errorf("update old_reserves: %w", err)
	}
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM reserves WHERE reserve_id = ?`, reserveID); err != nil {
		return fmt.Errorf("delete reserves: %w", err)
	}
	return nil
}

// Message is a notice to queue.
type Message struct {
	Borrowernumber int64 // 0 for none
	LetterCode     string
	Transport      string // default email
	Content        string
	ContentType    string // empty for NULL
	Subject        string
}

// Enqueue inserts a pending message_queue row, as Koha's EnqueueLetter does,
// and returns its message_id.
func (s *Site) Enqueue(ctx context.Context, m Message) (int64, error) {
	transport := m.Transport
	if transport == "" {
		transport = "email"
	}
	var borrower any
	if m.Borrowernumber != 0 {
		borrower = m.Borrowernumber
	}
	res, err := s.DB.ExecContext(ctx, `INSERT INTO message_queue
		(borrowernumber, subject, content, metadata, letter_code, message_transport_type, status, time_queued, content_type, failure_code)
		VALUES (?, ?, ?, '', ?, ?, 'pending', NOW(), NULLIF(?, ''), '')`,
		borrower, m.Subject, m.Content, m.LetterCode, transport, m.ContentType)
	if err != nil {
		return 0, fmt.Errorf("insert message_queue: %w", err)
	}
	return res.LastInsertId()
}
