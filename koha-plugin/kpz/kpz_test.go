package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuildPacksKohaTree(t *testing.T) {
	t.Parallel()
	path, err := Build("..", t.TempDir(), "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "koha-webhooks-plugin-1.2.3.kpz" {
		t.Errorf("file name = %s", filepath.Base(path))
	}
	archive, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()

	contents := map[string]string{}
	var names []string
	for _, file := range archive.File {
		names = append(names, file.Name)
		r, err := file.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		contents[file.Name] = string(data)
	}
	want := []string{"Koha/Plugin/Org/KohaWebhooks.pm", "Koha/Plugin/Org/KohaWebhooks/configure.tt"}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("entries = %v, want %v (the Koha/ tree only, no tests)", names, want)
	}
	module := contents["Koha/Plugin/Org/KohaWebhooks.pm"]
	if !strings.Contains(module, "our $VERSION = '1.2.3';") || strings.Contains(module, "{VERSION}") {
		t.Error("the module's version placeholder was not replaced by 1.2.3")
	}
	if !strings.Contains(module, "sub before_send_messages") {
		t.Error("the module has no before_send_messages hook")
	}
}

func TestBuildIsReproducible(t *testing.T) {
	t.Parallel()
	first, err := Build("..", t.TempDir(), "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build("..", t.TempDir(), "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(first)
	b, errB := os.ReadFile(second)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !bytes.Equal(a, b) {
		t.Error("two builds of the same tree differ")
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Build("..", t.TempDir(), "../1.0"); err == nil {
		t.Error("a version with a slash was accepted")
	}
	if _, err := Build(t.TempDir(), t.TempDir(), "1.0"); err == nil || !strings.Contains(err.Error(), "no plugin tree") {
		t.Errorf("missing tree: error %v", err)
	}
}

// TestPackedModuleCompiles checks the packed module with perl -c against
// the test stand-ins of Koha's modules.
func TestPackedModuleCompiles(t *testing.T) {
	t.Parallel()
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("perl not installed")
	}
	dir := t.TempDir()
	path, err := Build("..", dir, "2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	unpacked := filepath.Join(dir, "unpacked")
	if out, err := exec.Command("unzip", "-q", path, "-d", unpacked).CombinedOutput(); err != nil {
		t.Skipf("unzip: %v %s", err, out)
	}
	out, err := exec.Command(perl, "-I", filepath.Join("..", "t", "lib"), "-I", unpacked, "-c",
		filepath.Join(unpacked, "Koha", "Plugin", "Org", "KohaWebhooks.pm")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "syntax OK") {
		t.Errorf("perl -c: %v\n%s", err, out)
	}
}
