package kohatest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// Server is a private MariaDB server in a temporary directory, for tests
// that stop and restart the database.
type Server struct {
	t       testing.TB
	dir     string
	port    int
	process *exec.Cmd
	exited  chan struct{}
}

// StartServer initialises a data directory with mariadb-install-db and
// starts mariadbd on a free loopback port. The test is skipped when the
// MariaDB server programs are not installed.
func StartServer(t testing.TB) *Server {
	t.Helper()
	for _, prog := range []string{"mariadb-install-db", "mariadbd"} {
		if _, err := exec.LookPath(prog); err != nil {
			if _, err := os.Stat("/usr/sbin/" + prog); err != nil {
				t.Skipf("%s not installed: %v", prog, err)
			}
		}
	}
	s := &Server{t: t, dir: t.TempDir()}
	install := exec.Command("mariadb-install-db", "--no-defaults", "--user=root", "--datadir="+s.dir+"/data",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts mariadbd and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.process = exec.Command("/usr/sbin/mariadbd", "--no-defaults", "--user=root", "--datadir="+s.dir+"/data",
		"--bind-address=127.0.0.1", fmt.Sprintf("--port=%d", s.port), "--socket="+filepath.Join(s.dir, "mysqld.sock"),
		"--pid-file="+filepath.Join(s.dir, "mysqld.pid"), "--log-error="+filepath.Join(s.dir, "error.log"),
		"--innodb-buffer-pool-size=32M", "--skip-name-resolve")
	if err := s.process.Start(); err != nil {
		s.t.Fatalf("start mariadbd: %v", err)
	}
	s.exited = make(chan struct{})
	go func(p *exec.Cmd, exited chan struct{}) { p.Wait(); close(exited) }(s.process, s.exited)

	db, err := sql.Open("mysql", s.Config("").FormatDSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for db.Ping() != nil {
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
			s.t.Fatalf("mariadbd exited at start:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatal("mariadbd did not accept connections within 60s")
		}
	}
}

// Stop shuts mariadbd down and waits for it to exit.
func (s *Server) Stop() {
	if s.process == nil || s.process.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.process.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		s.process.Process.Kill()
		<-s.exited
	}
}

// Config returns a driver configuration for database name on the server.
func (s *Server) Config(name string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", s.port)
	cfg.DBName = name
	return cfg
}

// NewDB creates a database with Koha's schema on the server.
func (s *Server) NewDB(ctx context.Context, name string) *Database {
	s.t.Helper()
	path, err := kohadb.SchemaPath()
	if err != nil {
		s.t.Fatal(err)
	}
	admin, err := sql.Open("mysql", s.Config("").FormatDSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		s.t.Fatal(err)
	}
	loader := s.Config(name)
	loader.MultiStatements = true
	loadDB, err := sql.Open("mysql", loader.FormatDSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer loadDB.Close()
	if err := kohadb.LoadSchemaFile(ctx, loadDB, path); err != nil {
		s.t.Fatal(err)
	}
	cfg := s.Config(name)
	kohadb.ApplyOptions(cfg)
	db, err := kohadb.Open(ctx, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return &Database{DB: db, Config: cfg, Name: name}
}
