package inbound

import (
	"context"
	"database/sql"
	"fmt"
)

// Tables this package creates in the Koha database.
const (
	// AuditTable records every change made through the API.
	AuditTable  = "koha_webhooks_status_reports"
	tokensTable = "koha_webhooks_api_tokens"
)

var tableDefinitions = []string{
	`CREATE TABLE IF NOT EXISTS koha_webhooks_status_reports (
		id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		message_id INT NOT NULL COMMENT 'message_queue.message_id; no foreign key, so rows outlive the message',
		route VARCHAR(16) NOT NULL COMMENT 'status or content',
		old_status VARCHAR(16) NOT NULL COMMENT 'message_queue.status before the change',
		new_status VARCHAR(16) NOT NULL COMMENT 'message_queue.status after the change',
		failure_code TEXT NULL COMMENT 'failure_code written, NULL when it was left alone',
		subject_changed TINYINT(1) NOT NULL,
		content_changed TINYINT(1) NOT NULL,
		content_length INT NULL COMMENT 'bytes of the new content when it changed; the content is not copied',
		caller VARCHAR(255) NOT NULL COMMENT 'token:#n, api_key:<client_id> or staff:<login>',
		caller_borrowernumber INT NULL COMMENT 'patron whose permission allowed the change; NULL for static tokens',
		remote_addr VARCHAR(64) NOT NULL COMMENT 'address of the TCP peer, often the reverse proxy',
		forwarded_for VARCHAR(255) NULL COMMENT 'X-Forwarded-For as received, not verified',
		created_at DATETIME(6) NOT NULL COMMENT 'UTC',
		KEY koha_webhooks_status_reports_message (message_id, created_at)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
	  COMMENT='koha-webhooks: changes to notices reported by the notice service'`,
	`CREATE TABLE IF NOT EXISTS koha_webhooks_api_tokens (
		token_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY COMMENT 'hex SHA-256 of the access token, which is not stored',
		client_id VARCHAR(191) NOT NULL COMMENT 'api_keys.client_id',
		patron_id INT NOT NULL COMMENT 'api_keys.patron_id when issued',
		issued_at DATETIME(6) NOT NULL COMMENT 'UTC',
		expires_at DATETIME(6) NOT NULL COMMENT 'UTC',
		KEY koha_webhooks_api_tokens_expiry (expires_at)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
	  COMMENT='koha-webhooks: access tokens issued to Koha API keys'`,
}

// Migrate creates the audit and access token tables when they do not exist.
// It is idempotent and safe to run from several processes at once.
func Migrate(ctx context.Context, db *sql.DB) error {
	for _, definition := range tableDefinitions {
		if _, err := db.ExecContext(ctx, definition); err != nil {
			return fmt.Errorf("create koha-webhooks inbound API tables: %w (the database user needs the CREATE privilege)", err)
		}
	}
	return nil
}
