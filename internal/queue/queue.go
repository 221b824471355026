package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// Config configures a Queue.
type Config struct {
	// DB is the Koha database.
	DB *sql.DB
	// Lease is how long a claim is held before another pass may take it
	// over. It must outlast the slowest batch; a running pass extends its
	// leases while it works. Default 5 minutes.
	Lease time.Duration
	// Owner names the claiming process in koha_webhooks_deliveries.
	// Default "<hostname>:<pid>".
	Owner string
	// Now returns the current time; default time.Now. Tests replace it.
	Now func() time.Time
}

// Queue reads and writes message_queue and koha_webhooks_deliveries.
type Queue struct {
	db    *sql.DB
	lease time.Duration
	owner string
	now   func() time.Time
}

// New applies defaults to cfg and returns a Queue.
func New(cfg Config) (*Queue, error) {
	if cfg.DB == nil {
		return nil, errors.New("queue: DB is nil")
	}
	if cfg.Lease == 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.Lease < time.Second {
		return nil, fmt.Errorf("lease %s is too short: use at least 1s (WEBHOOK_LEASE)", cfg.Lease)
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Queue{db: cfg.DB, lease: cfg.Lease, owner: cfg.Owner, now: cfg.Now}, nil
}

// Lease returns the configured lease duration.
func (q *Queue) Lease() time.Duration { return q.lease }

// Filter narrows which notices a pass handles. Zero fields match all.
type Filter struct {
	Types          []string // message_transport_type values
	LetterCodes    []string
	MessageID      int64
	Borrowernumber int64
}

func (f Filter) where(alias string) (string, []any) {
	var parts []string
	var args []any
	if len(f.Types) > 0 {
		parts = append(parts, alias+"message_transport_type IN ("+kohadb.Placeholders(len(f.Types))+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	if len(f.LetterCodes) > 0 {
		parts = append(parts, alias+"letter_code IN ("+kohadb.Placeholders(len(f.LetterCodes))+")")
		for _, c := range f.LetterCodes {
			args = append(args, c)
		}
	}
	if f.MessageID > 0 {
		parts = append(parts, alias+"message_id = ?")
		args = append(args, f.MessageID)
	}
	if f.Borrowernumber > 0 {
		parts = append(parts, alias+"borrowernumber = ?")
		args = append(args, f.Borrowernumber)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(parts, " AND "), args
}

// Candidate is a pending row whose content mentions "webhook".
type Candidate struct {
	MessageID   int64
	Content     string
	ContentType string
	LetterCode  string
}

// Scan returns up to limit pending rows after message_id after whose content
// contains "webhook" in any letter case, in message_id order. It locks
// nothing; Claim decides.
func (q *Queue) Scan(ctx context.Context, f Filter, after int64, limit int) ([]Candidate, error) {
	where, args := f.where("")
	query := `SELECT message_id, COALESCE(content, ''), COALESCE(content_type, ''), COALESCE(letter_code, '')
		FROM message_queue WHERE message_id > ? AND status = 'pending' AND content LIKE '%webhook%'` + where +
		` ORDER BY message_id LIMIT ?`
	args = append([]any{after}, args...)
	args = append(args, limit)
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, &DBError{Op: "select pending notices", Err: err}
	}
	defer rows.Close()
	var out []Candidate
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.MessageID, &c.Content, &c.ContentType, &c.LetterCode); err != nil {
			return nil, &DBError{Op: "select pending notices", Err: err}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, &DBError{Op: "select pending notices", Err: err}
	}
	return out, nil
}

// DBError reports a failed database operation of the queue.
type DBError struct {
	Op  string
	Err error
}

func (e *DBError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *DBError) Unwrap() error { return e.Err }

// Claimed is one notice a pass holds.
type Claimed struct {
	// Message is the message_queue row as read under the claim's lock.
	Message *kohadb.Row
	// IdempotencyKey is the notice's key, the same on every attempt.
	IdempotencyKey string
	// Attempts is the number of delivery attempts made before this claim.
	Attempts int
	// FirstAttemptAt is the time of the first attempt; zero if none.
	FirstAttemptAt time.Time
}

// MessageID returns the claimed notice's message_id.
func (c *Claimed) MessageID() int64 {
	id, _ := c.Message.Int("message_id")
	return id
}

// Claim is a set of notices claimed together under one fencing token.
type Claim struct {
	Token    string
	Messages []*Claimed
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const timeLayout = "2006-01-02 15:04:05.000000"

func dbTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseDBTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

// isRetryableTxError reports deadlocks and lock wait timeouts, after which
// the whole transaction can be run again.
func isRetryableTxError(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// inTx runs fn in a transaction, again up to three times after a deadlock.
func (q *Queue) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	var err error
	for try := 0; try < 4; try++ {
		err = q.tryTx(ctx, fn)
		if err == nil || !isRetryableTxError(err) {
			break
		}
	}
	if err != nil {
		return &DBError{Op: op, Err: err}
	}
	return nil
}

func (q *Queue) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	// READ COMMITTED takes no gap locks, so passes claiming and recording
	// different notices do not block each other.
	tx, err := q.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
