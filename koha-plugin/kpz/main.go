// Command kpz packs the Koha plugin into a .kpz file, the zip archive of
// its Koha/ tree that Koha's plugin upload page installs. The placeholder
// {VERSION} in the plugin's files is replaced by the version given.
//
// Usage:
//
//	go run ./koha-plugin/kpz -version 1.2.0 -source koha-plugin -out dist
package main

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// versionPlaceholder is replaced by the release version in every file.
const versionPlaceholder = "{VERSION}"

func main() {
	version := flag.String("version", "dev", "plugin version written in place of {VERSION}")
	source := flag.String("source", "koha-plugin", "directory that contains the plugin's Koha/ tree")
	out := flag.String("out", "dist", "directory the .kpz file is written to")
	flag.Parse()

	path, err := Build(*source, *out, *version)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kpz:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// Build writes <out>/koha-webhooks-plugin-<version>.kpz from the Koha/ tree
// under source and returns its path.
func Build(source, out, version string) (string, error) {
	if version == "" || strings.ContainsAny(version, `/\`) {
		return "", fmt.Errorf("invalid version %q: use a release name such as 1.2.0", version)
	}
	root := filepath.Join(source, "Koha")
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return "", fmt.Errorf("no plugin tree at %s: point -source at the koha-plugin directory", root)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, "koha-webhooks-plugin-"+version+".kpz")

	var archive bytes.Buffer
	if err := writeZip(&archive, source, root, version); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, archive.Bytes(), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// writeZip adds every file under root, named relative to source, so that
// the archive starts with Koha/. Entries are sorted by the walk and carry
// a fixed time, so the same tree and version give the same bytes.
func writeZip(w *bytes.Buffer, source, root, version string) error {
	zw := zip.NewWriter(w)
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		name, err := filepath.Rel(source, path)
		if err != nil {
			return err
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		content = bytes.ReplaceAll(content, []byte(versionPlaceholder), []byte(version))
		header := &zip.FileHeader{Name: filepath.ToSlash(name), Method: zip.Deflate, Modified: modified}
		header.SetMode(0o644)
		file, err := zw.CreateHeader(header)
		if err != nil {
			return err
		}
		_, err = file.Write(content)
		return err
	})
	if err != nil {
		zw.Close()
		return fmt.Errorf("pack %s: %w", root, err)
	}
	return zw.Close()
}
