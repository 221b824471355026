package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// DeliveriesTable is the project's claim and delivery table.
const DeliveriesTable = "koha_webhooks_deliveries"

// migrations are applied in order, each once; a migration is never edited
// after release, only followed by another.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS koha_webhooks_deliveries (
		message_id INT NOT NULL PRIMARY KEY COMMENT 'message_queue.message_id',
		state VARCHAR(16) NOT NULL COMMENT 'in_progress, retry, sent, failed or skipped',
		idempotency_key VARCHAR(64) NOT NULL COMMENT 'sent as Idempotency-Key on every attempt',
		claim_owner VARCHAR(255) NULL COMMENT 'host and process holding the claim',
		claim_token CHAR(32) NULL COMMENT 'fencing token of the current claim',
		lease_expires_at DATETIME(6) NULL COMMENT 'UTC; after it another pass may take the claim',
		attempts INT NOT NULL DEFAULT 0,
		next_attempt_at DATETIME(6) NULL COMMENT 'UTC time the next retry is due',
		last_http_status SMALLINT NULL,
		last_error TEXT NULL,
		first_attempt_at DATETIME(6) NULL,
		last_attempt_at DATETIME(6) NULL,
		delivered_at DATETIME(6) NULL,
		created_at DATETIME(6) NOT NULL,
		updated_at DATETIME(6) NOT NULL,
		KEY koha_webhooks_deliveries_due (state, next_attempt_at),
		KEY koha_webhooks_deliveries_lease (state, lease_expires_at),
		KEY koha_webhooks_deliveries_claim (claim_token)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
	  COMMENT='koha-webhooks: claims, leases and attempts per webhook notice'`,
}

// Migrate creates or upgrades the project's tables. It is idempotent and
// safe to run from several processes at once.
func Migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("create koha-webhooks tables: %w", err)
	}
	defer conn.Close()

	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK('koha_webhooks_migrate', 60)`).Scan(&got); err != nil || got.Int64 != 1 {
		return fmt.Errorf("create koha-webhooks tables: could not take the migration lock: %v", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK('koha_webhooks_migrate')`)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS koha_webhooks_migrations (
		version INT NOT NULL PRIMARY KEY,
		applied_at DATETIME(6) NOT NULL
	) ENGINE=InnoDB COMMENT='koha-webhooks: applied schema migrations'`); err != nil {
		return fmt.Errorf("create koha-webhooks tables: %w (the database user needs CREATE privilege)", err)
	}
	var applied int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM koha_webhooks_migrations`).Scan(&applied); err != nil {
		return fmt.Errorf("read koha-webhooks migrations: %w", err)
	}
	for v := applied + 1; v <= len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("apply koha-webhooks migration %d: %w", v, err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO koha_webhooks_migrations (version, applied_at) VALUES (?, UTC_TIMESTAMP(6))`, v); err != nil {
			return fmt.Errorf("record koha-webhooks migration %d: %w", v, err)
		}
	}
	return nil
}
