package records

import (
	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/notice"
)

// Request is one notice to load records for.
type Request struct {
	Message *kohadb.Row    // the message_queue row
	Notice  *notice.Notice // the parsed content
}

// Bundle holds every record one notice needs for its payload. A record that
// was named but cannot be found is nil.
type Bundle struct {
	Message *kohadb.Row
	Notice  *notice.Notice

	Patron         *kohadb.Row
	AccountBalance []byte // SUM(accountlines.amountoutstanding) as decimal text; nil without a patron
	Library        *kohadb.Row
	Checkouts      []Checkout
	Holds          []Hold
	Item           *kohadb.Row
	Biblio         *kohadb.Row
	Biblioitem     *kohadb.Row

	// Missing lists the named records that exist in no table, e.g.
	// "checkout 70083".
	Missing []string
	// Foreign lists records dropped because they belong to another patron.
	Foreign []string
	// NoData is non-empty when the notice has nothing to send; it is the
	// reason for WEBHOOK_NO_DATA.
	NoData string
}

// Checkout is one loan, current (issues) or returned (old_issues).
type Checkout struct {
	Checkout   *kohadb.Row
	Item       *kohadb.Row
	Biblio     *kohadb.Row
	Biblioitem *kohadb.Row
	Itemtype   *kohadb.Row
	Library    *kohadb.Row // the library the loan was made at
}

// Hold is one hold, current (reserves) or finished (old_reserves).
type Hold struct {
	Hold          *kohadb.Row
	PickupLibrary *kohadb.Row
	Biblio        *kohadb.Row
	Biblioitem    *kohadb.Row
	Item          *kohadb.Row // nil for a biblio-level hold
	Itemtype      *kohadb.Row
	// HasItem is true when the hold names an item (so a nil Item means the
	// item was not found).
	HasItem bool
	// CancellationReason is the description of the hold's
	// cancellation_reason: authorised_values.lib of category
	// HOLD_CANCELLATION, or the raw code when there is no such value; nil
	// when the hold has no reason.
	CancellationReason []byte
	// FromOldHold is true for holds named by the old_hold key.
	FromOldHold bool
}
