package pass

import (
	"context"
	"database/sql"
	"log/slog"
)

// actionLog writes the pass's rows to Koha's action_logs (module
// WEBHOOK_NOTIFICATIONS), which staff read in Koha's log viewer.
type actionLog struct {
	db       *sql.DB
	iface    string
	disabled bool // test mode writes nothing
	started  bool
	log      *slog.Logger
}

// start writes STARTED once per pass.
func (a *actionLog) start(ctx context.Context) {
	if a.started {
		return
	}
	a.started = true
	a.write(ctx, "STARTED", "")
}

// write adds one row. Failure policy: fail open, because a missing log row
// must not stop notices from being delivered; the error is logged.
func (a *actionLog) write(ctx context.Context, action, info string) {
	if a.disabled {
		return
	}
	var infoArg any
	if info != "" {
		infoArg = info
	}
	_, err := a.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO action_logs (timestamp, user, module, action, object, info, interface, script)
		VALUES (NOW(), 0, 'WEBHOOK_NOTIFICATIONS', ?, NULL, ?, ?, 'koha-webhooks')`, action, infoArg, a.iface)
	if err != nil && a.log != nil {
		a.log.Warn("cannot write action_logs row", "action", action, "error", err)
	}
}
