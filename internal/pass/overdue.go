package pass

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// overdueLetters returns the letter codes Koha's overdue rules send: the
// non-empty letter1..3 of overduerules and, on releases that keep these
// rules in circulation_rules, the overdue_N_notice values there.
func overdueLetters(ctx context.Context, db *sql.DB, schema *kohadb.Schema) (map[string]bool, error) {
	letters := map[string]bool{}
	var queries []string
	if schema.HasTable("overduerules") {
		queries = append(queries, `SELECT letter1 FROM overduerules UNION SELECT letter2 FROM overduerules UNION SELECT letter3 FROM overduerules`)
	}
	if schema.HasTable("circulation_rules") {
		queries = append(queries, `SELECT DISTINCT rule_value FROM circulation_rules WHERE rule_name LIKE 'overdue\_%\_notice'`)
	}
	for _, q := range queries {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read overdue rules: %w", err)
		}
		for rows.Next() {
			var code sql.NullString
			if err := rows.Scan(&code); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read overdue rules: %w", err)
			}
			if c := strings.TrimSpace(code.String); c != "" {
				letters[strings.ToUpper(c)] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read overdue rules: %w", err)
		}
	}
	return letters, nil
}
