package kohadb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// ValueType is the JSON type a column's values are written as.
type ValueType uint8

const (
	// Text columns are JSON strings.
	Text ValueType = iota
	// Number columns (integer, decimal, float) are JSON numbers.
	Number
	// Date columns are "YYYY-MM-DD" strings.
	Date
	// DateTime columns (DATETIME, TIMESTAMP) are "YYYY-MM-DD HH:MM:SS" strings.
	DateTime
)

// Columns describes the columns of one result set, in select order.
type Columns struct {
	Names []string
	Types []ValueType
	index map[string]int
}

// Index returns the position of column name, or -1.
func (c *Columns) Index(name string) int {
	if i, ok := c.index[name]; ok {
		return i
	}
	return -1
}

func newColumns(types []*sql.ColumnType) *Columns {
	c := &Columns{Names: make([]string, len(types)), Types: make([]ValueType, len(types)), index: make(map[string]int, len(types))}
	for i, ct := range types {
		c.Names[i] = ct.Name()
		c.Types[i] = valueType(ct.DatabaseTypeName())
		c.index[ct.Name()] = i
	}
	return c
}

// valueType maps the driver's type names (e.g. "INT", "UNSIGNED BIGINT",
// "DECIMAL", "DATETIME") to a ValueType.
func valueType(name string) ValueType {
	switch {
	case strings.Contains(name, "INT"), name == "DECIMAL", name == "FLOAT", name == "DOUBLE", name == "YEAR":
		return Number
	case name == "DATE":
		return Date
	case name == "DATETIME", name == "TIMESTAMP":
		return DateTime
	}
	return Text
}

// Row is one row of a Koha table with every value kept as the text MariaDB
// sent; a nil value is SQL NULL. Columns a newer Koha release adds are kept
// like any other.
type Row struct {
	Columns *Columns
	Values  [][]byte
}

// Value returns the text of column name and whether it is non-NULL. A column
// the table lacks reads as NULL.
func (r *Row) Value(name string) ([]byte, bool) {
	if r == nil {
		return nil, false
	}
	i := r.Columns.Index(name)
	if i < 0 || r.Values[i] == nil {
		return nil, false
	}
	return r.Values[i], true
}

// Set replaces the value of column name (nil for NULL); a column the row
// lacks is ignored.
func (r *Row) Set(name string, v []byte) {
	if i := r.Columns.Index(name); i >= 0 {
		r.Values[i] = v
	}
}

// String returns column name as a string; "" for NULL.
func (r *Row) String(name string) string {
	v, _ := r.Value(name)
	return string(v)
}

// Int returns column name as an integer; ok is false for NULL, a missing
// column or a non-integer value.
func (r *Row) Int(name string) (int64, bool) {
	v, ok := r.Value(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

// Querier is the part of *sql.DB, *sql.Tx and *sql.Conn that QueryRows uses.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryRows runs query and returns every row with its column metadata. The
// values of one row share one allocation.
func QueryRows(ctx context.Context, q Querier, query string, args ...any) ([]*Row, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := newColumns(types)
	raw := make([]sql.RawBytes, len(types))
	dest := make([]any, len(types))
	for i := range raw {
		dest[i] = &raw[i]
	}

	var out []*Row
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, copyRow(cols, raw))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func copyRow(cols *Columns, raw []sql.RawBytes) *Row {
	size := 0
	for _, v := range raw {
		size += len(v)
	}
	arena := make([]byte, 0, size)
	values := make([][]byte, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		start := len(arena)
		arena = append(arena, v...)
		values[i] = arena[start:len(arena):len(arena)]
	}
	return &Row{Columns: cols, Values: values}
}

// Placeholders returns "?, ?, ?" for n parameters (n > 0).
func Placeholders(n int) string {
	if n <= 0 {
		panic(fmt.Sprintf("kohadb: Placeholders(%d)", n))
	}
	return strings.Repeat("?, ", n-1) + "?"
}
