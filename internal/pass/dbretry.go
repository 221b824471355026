package pass

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
)

// retryDB runs fn again after a lost or refused database connection,
// waiting 0.5s, 1s, 2s, 4s and 8s between tries. Other errors return at once.
func retryDB(ctx context.Context, log *slog.Logger, op string, fn func() error) error {
	delay := 500 * time.Millisecond
	for try := 1; ; try++ {
		err := fn()
		if err == nil || !isConnectionError(err) || try == 6 {
			return err
		}
		log.Warn("database connection lost; retrying", "operation", op, "try", try, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func isConnectionError(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// 1053 server shutdown, 1927 connection killed, 2006 gone away,
		// 2013 lost connection.
		switch me.Number {
		case 1053, 1927, 2006, 2013:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.As(err, &ne)
}
