package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
	"github.com/koha-webhooks/koha-webhooks/internal/noticeservice"
	"github.com/koha-webhooks/koha-webhooks/internal/sample"
)

// demoCommand builds a throwaway Koha database with sample notices of every
// content shape, runs one pass against a notice service on loopback, and
// prints how each row ended.
func demoCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("koha-webhooks demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverDSN := fs.String("server-dsn", "root@tcp(127.0.0.1:3306)/", "MariaDB server to create the throwaway database on (a DSN without database name)")
	keep := fs.Bool("keep", false, "keep the demo database instead of dropping it")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: koha-webhooks demo [flags]\n\nCreates a throwaway database with Koha's schema (found through KOHA_SCHEMA_SQL), a sample library and\none notice per content shape, runs one pass against a token endpoint and receiver on loopback, prints\nhow each row ended, and drops the database.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parseArgs(fs, args, stderr); !ok {
		return code
	}
	ctx := context.Background()
	d, err := newDemo(ctx, *serverDSN)
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks demo:", err)
		return exitFailed
	}
	if *keep {
		fmt.Fprintf(stdout, "keeping demo database %s\n", d.name)
	} else {
		defer d.drop()
	}
	defer d.db.Close()

	if err := d.populate(ctx); err != nil {
		fmt.Fprintln(stderr, "koha-webhooks demo:", err)
		return exitFailed
	}
	svc := noticeservice.Start("demo-client", "demo-secret")
	defer svc.Close()

	archiveDir, err := os.MkdirTemp("", "koha-webhooks-demo-archive-")
	if err != nil {
		fmt.Fprintln(stderr, "koha-webhooks demo:", err)
		return exitFailed
	}
	env := map[string]string{
		"KOHA_DB_DSN": d.cfg.FormatDSN(), "WEBHOOK_AUTH_URL": svc.TokenURL(), "WEBHOOK_CLIENT_ID": "demo-client",
		"WEBHOOK_CLIENT_SECRET": "demo-secret", "WEBHOOK_NOTICE_URL": svc.NoticeURL(), "WEBHOOK_CUSTOMER_ID": "demo",
		"WEBHOOK_ARCHIVE_PATH": archiveDir, "WEBHOOK_SKIP_OVERDUE_CALLS": "1",
	}
	fmt.Fprintf(stdout, "Koha database %s: %d notices queued; notice service on %s\n\nkoha-webhooks run:\n", d.name, len(d.notices), svc.NoticeURL())
	code := runCommand(nil, stdout, stdout, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	})
	d.report(ctx, stdout, svc)
	fmt.Fprintf(stdout, "\narchive of the payloads: %s\n", archiveDir)
	return code
}

type demoNotice struct {
	id          int64
	shape       string
	message     sample.Message
	expectation string
}

type demo struct {
	name    string
	cfg     *mysql.Config
	server  *mysql.Config
	db      *sql.DB
	site    *sample.Site
	notices []*demoNotice
}

func newDemo(ctx context.Context, serverDSN string) (*demo, error) {
	server, err := mysql.ParseDSN(serverDSN)
	if err != nil {
		return nil, fmt.Errorf("--server-dsn: %w", err)
	}
	schemaPath, err := kohadb.SchemaPath()
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	d := &demo{name: "kwdemo_" + hex.EncodeToString(suffix), server: server}

	admin, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+d.name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return nil, fmt.Errorf("create demo database on %s (is MariaDB running?): %w", server.Addr, err)
	}
	loader := server.Clone()
	loader.DBName, loader.MultiStatements = d.name, true
	loadDB, err := sql.Open("mysql", loader.FormatDSN())
	if err == nil {
		err = kohadb.LoadSchemaFile(ctx, loadDB, schemaPath)
		loadDB.Close()
	}
	if err != nil {
		d.drop()
		return nil, err
	}
	d.cfg = server.Clone()
	d.cfg.DBName = d.name
	kohadb.ApplyOptions(d.cfg)
	if d.db, err = kohadb.Open(ctx, d.cfg); err != nil {
		d.drop()
		return nil, err
	}
	d.site = &sample.Site{DB: d.db}
	return d, nil
}

func (d *demo) drop() {
	admin, err := sql.Open("mysql", d.server.FormatDSN())
	if err != nil {
		return
	}
	defer admin.Close()
	admin.Exec("DROP DATABASE IF EXISTS `" + d.name + "`")
}

// report prints each notice's final row state and what the service got.
func (d *demo) report(ctx context.Context, w io.Writer, svc *noticeservice.Service) {
	posts := map[int64]int{}
	var firstPayload []byte
	for _, r := range svc.Received() {
		posts[r.MessageID]++
		if len(d.notices) > 0 && r.MessageID == d.notices[0].id && r.Status == 200 {
			firstPayload = r.Body
		}
	}
	fmt.Fprintf(w, "\nHow each message_queue row ended (%d POSTs accepted by the notice service):\n\n", svc.Accepted())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "message_id\tletter\tshape\tstatus\tPOSTs\tfailure_code")
	for _, n := range d.notices {
		var status string
		var code sql.NullString
		d.db.QueryRowContext(ctx, `SELECT status, failure_code FROM message_queue WHERE message_id = ?`, n.id).Scan(&status, &code)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", n.id, n.message.LetterCode, n.shape, status, posts[n.id], shorten(code.String, 90))
	}
	tw.Flush()
	if firstPayload != nil {
		var pretty map[string]any
		json.Unmarshal(firstPayload, &pretty)
		out, _ := json.MarshalIndent(pretty, "", "  ")
		lines := strings.Split(string(out), "\n")
		if len(lines) > 60 {
			lines = append(lines[:60], fmt.Sprintf("  … %d more lines", len(lines)-60))
		}
		fmt.Fprintf(w, "\nThe payload of message %d (keys sorted):\n%s\n", d.notices[0].id, strings.Join(lines, "\n"))
	}
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
