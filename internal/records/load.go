package records

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// Loader reads the records of a batch of notices.
type Loader struct {
	DB     kohadb.Querier
	Schema *kohadb.Schema
	Logger *slog.Logger

	// ItemLevelItemTypes mirrors system preference item-level_itypes: true
	// (the default) takes the item type from items.itype, false from
	// biblioitems.itemtype.
	ItemLevelItemTypes bool
	// AnonymousPatron is the borrowernumber of system preference
	// AnonymousPatron, 0 when unset. It is never a notice's recipient.
	AnonymousPatron int64
}

// tables holds the rows of one batch, keyed by primary key.
type tables struct {
	issues, oldIssues     map[int64]*kohadb.Row
	reserves, oldReserves map[int64]*kohadb.Row
	items                 map[int64]*kohadb.Row
	biblios               map[int64]*kohadb.Row
	biblioitems           map[int64]*kohadb.Row
	biblioitemsByBiblio   map[int64]*kohadb.Row
	borrowers             map[int64]*kohadb.Row
	balances              map[int64][]byte
	branches              map[string]*kohadb.Row
	itemtypes             map[string]*kohadb.Row
	cancellationReasons   map[string][]byte
}

// Load returns one Bundle per request, in order. It fails only when the
// database fails; records that are missing are reported in the bundles.
func (l *Loader) Load(ctx context.Context, reqs []Request) ([]*Bundle, error) {
	t, err := l.loadTables(ctx, reqs)
	if err != nil {
		return nil, err
	}
	bundles := make([]*Bundle, len(reqs))
	for i, req := range reqs {
		bundles[i] = l.assemble(req, t)
	}
	return bundles, nil
}

func (l *Loader) loadTables(ctx context.Context, reqs []Request) (*tables, error) {
	ids := collectNoticeIDs(reqs)
	t := &tables{}
	var err error

	// Stage 1: the rows the notices name directly. Koha keeps the id when
	// it moves a returned loan to old_issues or a filled or cancelled hold
	// to old_reserves, so an id is in exactly one of the two tables. The
	// second table is read only for the ids the first lacks.
	if t.issues, err = l.byInt(ctx, "issues", "issue_id", ids.checkouts); err != nil {
		return nil, err
	}
	if t.oldIssues, err = l.byInt(ctx, "old_issues", "issue_id", ids.checkouts.rest(t.issues)); err != nil {
		return nil, err
	}
	if t.reserves, err = l.byInt(ctx, "reserves", "reserve_id", ids.holds); err != nil {
		return nil, err
	}
	if t.oldReserves, err = l.byInt(ctx, "old_reserves", "reserve_id", ids.holds.rest(t.reserves)); err != nil {
		return nil, err
	}

	// Stage 2: what those rows point at.
	for _, m := range []map[int64]*kohadb.Row{t.issues, t.oldIssues, t.reserves, t.oldReserves} {
		for _, r := range m {
			ids.items.addRow(r, "itemnumber")
			ids.biblios.addRow(r, "biblionumber")
			ids.biblios.addRow(r, "deleted_biblionumber")
			ids.borrowers.addRow(r, "borrowernumber")
			ids.branches.add(r.String("branchcode"))
		}
	}
	if t.items, err = l.withFallback(ctx, "items", "deleteditems", "itemnumber", ids.items); err != nil {
		return nil, err
	}
	for _, r := range t.items {
		ids.biblios.addRow(r, "biblionumber")
		ids.biblioitems.addRow(r, "biblioitemnumber")
	}
	if t.biblios, err = l.withFallback(ctx, "biblio", "deletedbiblio", "biblionumber", ids.biblios); err != nil {
		return nil, err
	}
	if err := l.loadBiblioitems(ctx, t, ids); err != nil {
		return nil, err
	}

	// Stage 3: patrons, balances, libraries, item types and reasons.
	return t, l.loadReferences(ctx, t, ids)
}

// loadBiblioitems reads biblioitems by biblioitemnumber (for items) and by
// biblionumber (for holds and biblio keys), falling back to
// deletedbiblioitems. The two lookups are separate statements because an OR
// of two IN lists makes MariaDB scan the table instead of using both
// indexes.
func (l *Loader) loadBiblioitems(ctx context.Context, t *tables, ids *batchIDs) error {
	t.biblioitems = map[int64]*kohadb.Row{}
	t.biblioitemsByBiblio = map[int64]*kohadb.Row{}
	for _, table := range []string{"biblioitems", "deletedbiblioitems"} {
		for _, column := range []string{"biblioitemnumber", "biblionumber"} {
			// The biblionumber list is computed after the biblioitemnumber
			// lookup, so it names only biblios still without a biblioitem
			// (holds on titles whose item the notice does not name).
			want := ids.biblioitems.missing(t.biblioitems)
			if column == "biblionumber" {
				want = ids.biblios.missing(t.biblioitemsByBiblio)
			}
			if len(want) == 0 {
				continue
			}
			rows, err := kohadb.QueryRows(ctx, l.DB, "SELECT * FROM "+table+" WHERE "+column+" IN ("+
				kohadb.Placeholders(len(want))+")", appendInts(nil, want)...)
			if err != nil {
				return &Error{Table: table, Err: err}
			}
			for _, r := range rows {
				if id, ok := r.Int("biblioitemnumber"); ok {
					t.biblioitems[id] = r
				}
				if id, ok := r.Int("biblionumber"); ok && t.biblioitemsByBiblio[id] == nil {
					t.biblioitemsByBiblio[id] = r
				}
			}
		}
	}
	return nil
}

func (l *Loader) loadReferences(ctx context.Context, t *tables, ids *batchIDs) error {
	var err error
	if t.borrowers, err = l.byInt(ctx, "borrowers", "borrowernumber", ids.borrowers); err != nil {
		return err
	}
	if t.balances, err = l.balances(ctx, ids.borrowers); err != nil {
		return err
	}
	for _, r := range t.items {
		ids.itemtypes.add(r.String("itype"))
		ids.branches.add(r.String("homebranch"))
	}
	for _, r := range t.biblioitems {
		ids.itemtypes.add(r.String("itemtype"))
	}
	for _, m := range []map[int64]*kohadb.Row{t.reserves, t.oldReserves} {
		for _, r := range m {
			ids.itemtypes.add(r.String("itemtype"))
			ids.reasons.add(r.String("cancellation_reason"))
		}
	}
	if t.branches, err = l.byText(ctx, "branches", "branchcode", ids.branches); err != nil {
		return err
	}
	if t.itemtypes, err = l.byText(ctx, "itemtypes", "itemtype", ids.itemtypes); err != nil {
		return err
	}
	t.cancellationReasons, err = l.reasons(ctx, ids.reasons)
	return err
}

// Error reports a failed read of one table.
type Error struct {
	Table string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("load %s: %v", e.Table, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// byInt reads table rows whose integer key column is in ids.
func (l *Loader) byInt(ctx context.Context, table, key string, ids *intSet) (map[int64]*kohadb.Row, error) {
	out := map[int64]*kohadb.Row{}
	if ids.len() == 0 || !l.Schema.HasTable(table) {
		return out, nil
	}
	rows, err := kohadb.QueryRows(ctx, l.DB,
		"SELECT * FROM "+table+" WHERE "+key+" IN ("+kohadb.Placeholders(ids.len())+")", appendInts(nil, ids.list)...)
	if err != nil {
		return nil, &Error{Table: table, Err: err}
	}
	for _, r := range rows {
		if id, ok := r.Int(key); ok {
			out[id] = r
		}
	}
	return out, nil
}

// withFallback reads rows from table and, for the ids it lacks, from the
// table Koha moves deleted rows to.
func (l *Loader) withFallback(ctx context.Context, table, deleted, key string, ids *intSet) (map[int64]*kohadb.Row, error) {
	out, err := l.byInt(ctx, table, key, ids)
	if err != nil {
		return nil, err
	}
	more, err := l.byInt(ctx, deleted, key, ids.rest(out))
	if err != nil {
		return nil, err
	}
	for id, r := range more {
		out[id] = r
	}
	return out, nil
}

func (l *Loader) byText(ctx context.Context, table, key string, ids *textSet) (map[string]*kohadb.Row, error) {
	out := map[string]*kohadb.Row{}
	if len(ids.list) == 0 {
		return out, nil
	}
	args := make([]any, len(ids.list))
	for i, v := range ids.list {
		args[i] = v
	}
	rows, err := kohadb.QueryRows(ctx, l.DB,
		"SELECT * FROM "+table+" WHERE "+key+" IN ("+kohadb.Placeholders(len(args))+")", args...)
	if err != nil {
		return nil, &Error{Table: table, Err: err}
	}
	for _, r := range rows {
		// Keys compare case-insensitively, as under Koha's collation.
		out[strings.ToUpper(r.String(key))] = r
	}
	return out, nil
}

func (l *Loader) balances(ctx context.Context, ids *intSet) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	if ids.len() == 0 {
		return out, nil
	}
	rows, err := kohadb.QueryRows(ctx, l.DB,
		"SELECT borrowernumber, SUM(amountoutstanding) AS balance FROM accountlines WHERE borrowernumber IN ("+
			kohadb.Placeholders(ids.len())+") GROUP BY borrowernumber", appendInts(nil, ids.list)...)
	if err != nil {
		return nil, &Error{Table: "accountlines", Err: err}
	}
	for _, r := range rows {
		if id, ok := r.Int("borrowernumber"); ok {
			v, _ := r.Value("balance")
			out[id] = v
		}
	}
	return out, nil
}

func (l *Loader) reasons(ctx context.Context, codes *textSet) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(codes.list) == 0 {
		return out, nil
	}
	args := []any{"HOLD_CANCELLATION"}
	for _, c := range codes.list {
		args = append(args, c)
	}
	rows, err := kohadb.QueryRows(ctx, l.DB,
		"SELECT authorised_value, lib FROM authorised_values WHERE category = ? AND authorised_value IN ("+
			kohadb.Placeholders(len(codes.list))+")", args...)
	if err != nil {
		return nil, &Error{Table: "authorised_values", Err: err}
	}
	for _, r := range rows {
		if lib, ok := r.Value("lib"); ok {
			out[strings.ToUpper(r.String("authorised_value"))] = lib
		}
	}
	return out, nil
}

func appendInts(args []any, ids []int64) []any {
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
