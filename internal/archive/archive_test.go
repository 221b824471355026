package archive

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriterStreamsValidJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := FileName(time.Date(2026, 12, 4, 20, 5, 6, 0, time.UTC), "Midway Public Library")
	if name != "2026-12-04T20-05-06Z-Notices-Midway_Public_Library.json" {
		t.Errorf("FileName = %s", name)
	}
	w, err := Create(dir, name, "1.2.3", "full")
	if err != nil {
		t.Fatal(err)
	}
	w.Add([]byte(`{"message":{"message_id":1}}`))
	w.Add([]byte(`{"message":{"message_id":2}}`))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Structure string            `json:"json_structure_version"`
		Version   string            `json:"webhook_plugin_version"`
		Format    string            `json:"payload_format"`
		Messages  []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("archive is not JSON: %v\n%s", err, raw)
	}
	if doc.Structure != "3" || doc.Version != "1.2.3" || doc.Format != "full" || len(doc.Messages) != 2 {
		t.Errorf("archive = %+v", doc)
	}
}

func TestPruneRemovesOldFilesOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	files := map[string]time.Duration{
		"old-Notices-X.json":   31 * 24 * time.Hour,
		"old-Notices-X.log":    31 * 24 * time.Hour,
		"new-Notices-X.json":   29 * 24 * time.Hour,
		"unrelated-backup.sql": 90 * 24 * time.Hour,
	}
	for name, age := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	Prune(dir, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		wantGone := name == "old-Notices-X.json" || name == "old-Notices-X.log"
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: removed = %v, want %v", name, gone, wantGone)
		}
	}
}

func TestEnsureDirReportsUnwritablePath(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	if err := EnsureDir(filepath.Join(file, "sub")); err == nil {
		t.Error("EnsureDir under a regular file succeeded")
	}
}

func TestCreateAvoidsNameCollision(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Create(dir, "x-Notices-Koha.json", "1", "full")
	if err != nil {
		t.Fatal(err)
	}
	second, err := Create(dir, "x-Notices-Koha.json", "1", "full")
	if err != nil {
		t.Fatalf("second pass in the same second: %v", err)
	}
	first.Close()
	second.Close()
	if filepath.Base(second.Path()) != "x-Notices-Koha-2.json" {
		t.Errorf("second archive = %s", second.Path())
	}
}
