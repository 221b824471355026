package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// moduleRoot returns the directory of the go.mod that declares this module,
// found by walking up from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/koha-webhooks/koha-webhooks\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the koha-webhooks module was not found above the working directory: run the benchmark from the repository")
		}
		dir = parent
	}
}

// buildProgram compiles cmd/koha-webhooks into dir and returns the binary's
// path.
func buildProgram(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "koha-webhooks")
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/koha-webhooks")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/koha-webhooks failed: %w\n%s", err, out)
	}
	return bin, nil
}

// describeSource returns `git describe --always --dirty` of the module, or
// "unknown" when git is unavailable or the tree is not a repository.
func describeSource(ctx context.Context) string {
	root, err := moduleRoot()
	if err != nil {
		return "unknown"
	}
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// childRun holds the measurements of one koha-webhooks pass, taken from
// outside the process.
type childRun struct {
	started  time.Time
	wall     time.Duration
	maxRSS   int64 // KiB, from wait4's rusage
	userCPU  time.Duration
	sysCPU   time.Duration
	summary  string // the "pass finished" log line
	logPath  string
	profiled bool
}

// childSettings are the environment of the measured pass.
type childSettings struct {
	binary, dsn                string
	tokenURL, noticeURL        string
	clientID, clientSecret     string
	archiveDir, format         string
	batch, concurrency         int
	perfData, logPath, workDir string
}

// env returns the child's environment: ours without any koha-webhooks
// setting, plus the benchmark's settings.
func (s childSettings) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEBHOOK_") || strings.HasPrefix(kv, "KOHA_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"KOHA_DB_DSN="+s.dsn,
		"WEBHOOK_AUTH_URL="+s.tokenURL,
		"WEBHOOK_NOTICE_URL="+s.noticeURL,
		"WEBHOOK_CLIENT_ID="+s.clientID,
		"WEBHOOK_CLIENT_SECRET="+s.clientSecret,
		"WEBHOOK_ARCHIVE_PATH="+s.archiveDir,
		"WEBHOOK_PAYLOAD_FORMAT="+s.format,
		fmt.Sprintf("WEBHOOK_BATCH_SIZE=%d", s.batch),
		fmt.Sprintf("WEBHOOK_CONCURRENCY=%d", s.concurrency),
	)
}

// runPass runs one `koha-webhooks run` and measures its wall time and the
// peak RSS the kernel reports for it. With perfData set the pass runs under
// `perf record`, and the rusage then covers perf as well.
func runPass(ctx context.Context, s childSettings) (*childRun, error) {
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	name, args := s.binary, []string{"run"}
	if s.perfData != "" {
		name = "perf"
		args = append([]string{"record", "-e", "cpu-clock", "-F", "999", "-g", "-o", s.perfData, "--", s.binary}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env()
	cmd.Dir = s.workDir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// On interrupt, ask the pass to stop the way cron or systemd would, so
	// that it returns its claims. It is killed if it has not exited a
	// minute later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute

	run := &childRun{logPath: s.logPath, profiled: s.perfData != ""}
	run.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	err = cmd.Wait()
	run.wall = time.Since(run.started)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			run.maxRSS = ru.Maxrss
			run.userCPU = time.Duration(ru.Utime.Nano())
			run.sysCPU = time.Duration(ru.Stime.Nano())
		}
	}
	run.summary = passSummary(s.logPath)
	if err != nil {
		return run, fmt.Errorf("koha-webhooks run failed: %w; the end of its log:\n%s", err, logTail(s.logPath, 20))
	}
	return run, nil
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

var summaryLine = regexp.MustCompile(`(?m)^.*msg="pass finished".*$`)

// passSummary returns the pass's "pass finished" log line, or "".
func passSummary(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	return summaryLine.FindString(string(data))
}
