package kohadb_test

import (
	"context"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/kohatest"
)

func TestQueryRowsKeepsTextAndTypes(t *testing.T) {
	t.Parallel()
	db := kohatest.NewDB(t)
	ctx := context.Background()
	if _, err := db.DB.ExecContext(ctx, `INSERT INTO branches (branchcode, branchname, branchaddress1, branchnotes) VALUES ('CPL', 'Centerville', '', NULL)`); err != nil {
		t.Fatal(err)
	}
	rows, err := kohadb.QueryRows(ctx, db.DB, `SELECT b.*, CAST('2024-02-29' AS DATE) AS d, CAST('2024-02-29 13:05:09' AS DATETIME) AS dt, 12.50 AS price FROM branches b`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("rows = %d", len(rows))
	}
	r := rows[0]
	if v, ok := r.Value("branchaddress1"); !ok || len(v) != 0 {
		t.Errorf("empty string read as NULL: %q %v", v, ok)
	}
	if _, ok := r.Value("branchnotes"); ok {
		t.Error("NULL read as a value")
	}
	if _, ok := r.Value("no_such_column"); ok {
		t.Error("missing column read as a value")
	}
	if r.String("d") != "2024-02-29" || r.String("dt") != "2024-02-29 13:05:09" {
		t.Errorf("dates = %q %q, want the text MariaDB stores", r.String("d"), r.String("dt"))
	}
	want := map[string]kohadb.ValueType{"branchcode": kohadb.Text, "d": kohadb.Date, "dt": kohadb.DateTime, "price": kohadb.Number, "pickup_location": kohadb.Number}
	for name, typ := range want {
		if got := r.Columns.Types[r.Columns.Index(name)]; got != typ {
			t.Errorf("%s type = %v, want %v", name, got, typ)
		}
	}
}
