// Package archive writes, for each pass that handled notices, a JSON file
// of the payloads it built and a log of the pass beside it, and removes
// files older than the retention period.
package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Retention is how long archive files are kept.
const Retention = 30 * 24 * time.Hour

// StructureVersion is the archive file's json_structure_version.
const StructureVersion = "3"

// Writer streams one pass's archive file: the header, then each payload as
// it is added, so memory does not grow with the number of notices.
type Writer struct {
	path  string
	file  *os.File
	buf   *bufio.Writer
	count int
	err   error
}

// FileName returns the archive file name for a pass started at start:
// "<UTC timestamp>-Notices-<library name with spaces as _>.json".
func FileName(start time.Time, libraryName string) string {
	name := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '/', '\\', 0:
			return '_'
		}
		return r
	}, libraryName)
	if name == "" {
		name = "Koha"
	}
	return start.UTC().Format("2006-01-02T15-04-05Z") + "-Notices-" + name + ".json"
}

// Create opens a new archive file in dir and writes its header. When a
// file of that name exists (two passes started in the same second), it
// adds "-2", "-3", … before the extension.
func Create(dir, fileName, pluginVersion, payloadFormat string) (*Writer, error) {
	path := filepath.Join(dir, fileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	for n := 2; errors.Is(err, fs.ErrExist) && n < 1000; n++ {
		path = filepath.Join(dir, fmt.Sprintf("%s-%d.json", strings.TrimSuffix(fileName, ".json"), n))
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	}
	if err != nil {
		return nil, fmt.Errorf("create archive file: %w (check that WEBHOOK_ARCHIVE_PATH is a writable directory)", err)
	}
	w := &Writer{path: path, file: f, buf: bufio.NewWriterSize(f, 64<<10)}
	fmt.Fprintf(w.buf, `{"json_structure_version":%q,"webhook_plugin_version":%q,"payload_format":%q,"messages":[`,
		StructureVersion, pluginVersion, payloadFormat)
	return w, nil
}

// Path returns the archive file's path.
func (w *Writer) Path() string { return w.path }

// Add appends one payload (a complete JSON value).
func (w *Writer) Add(payload []byte) {
	if w.err != nil {
		return
	}
	if w.count > 0 {
		w.buf.WriteByte(',')
	}
	_, w.err = w.buf.Write(payload)
	w.count++
}

// Close finishes the JSON document and closes the file.
func (w *Writer) Close() error {
	if w.err == nil {
		_, w.err = io.WriteString(w.buf, "]}\n")
	}
	if w.err == nil {
		w.err = w.buf.Flush()
	}
	if err := w.file.Close(); w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return fmt.Errorf("write archive %s: %w", w.path, w.err)
	}
	return nil
}

// LogPath returns the path of the pass log that goes beside an archive file.
func LogPath(archivePath string) string {
	return strings.TrimSuffix(archivePath, ".json") + ".log"
}

// Prune removes archive and log files in dir older than Retention. Only
// files whose names contain "-Notices-" are considered.
func Prune(dir string, now time.Time, logger *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		logger.Warn("cannot list archive directory", "dir", dir, "error", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.Contains(name, "-Notices-") ||
			!(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".log")) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) <= Retention {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			logger.Warn("cannot remove old archive file", "file", name, "error", err)
		}
	}
}

// EnsureDir creates the archive directory if needed and checks that it is
// writable.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("archive directory %s cannot be created: %w (set WEBHOOK_ARCHIVE_PATH to a writable directory)", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("archive directory %s is not writable: %w (set WEBHOOK_ARCHIVE_PATH to a writable directory)", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
