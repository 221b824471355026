// Package packaging_test checks the Debian package that "make package"
// builds and the files it installs.
package packaging_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
)

// TestEnvFileListsEverySetting checks that the example settings file
// documents every environment variable the program reads.
func TestEnvFileListsEverySetting(t *testing.T) {
	t.Parallel()
	content, err := os.ReadFile("koha-webhooks.env")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{config.SitesDirEnv, "KOHA_WEBHOOKS_ARGS"}
	for _, spec := range config.Specs {
		names = append(names, spec.Env)
	}
	for _, name := range names {
		if !regexp.MustCompile(`(?m)^#?` + name + `=`).Match(content) {
			t.Errorf("koha-webhooks.env has no line for %s", name)
		}
	}
}

func TestDebContainsFiles(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	requireNfpm(ctx, t)

	dist := t.TempDir()
	run(ctx, t, "make", "-C", "..", "package", "DIST="+dist)
	debs, err := filepath.Glob(filepath.Join(dist, "koha-webhooks_*.deb"))
	if err != nil || len(debs) != 1 {
		t.Fatalf("make package built %v (%v), want one .deb in %s", debs, err, dist)
	}
	deb := debs[0]

	listing := run(ctx, t, "dpkg-deb", "-c", deb)
	files := map[string]string{
		"./usr/bin/koha-webhooks":                        "-rwxr-xr-x",
		"./usr/lib/systemd/system/koha-webhooks.service": "-rw-r--r--",
		"./etc/koha-webhooks/koha-webhooks.env":          "-rw-r-----",
	}
	for path, mode := range files {
		found := false
		for _, line := range strings.Split(listing, "\n") {
			fields := strings.Fields(line)
			if len(fields) >= 6 && fields[len(fields)-1] == path {
				found = true
				if fields[0] != mode {
					t.Errorf("%s has mode %s, want %s", path, fields[0], mode)
				}
			}
		}
		if !found {
			t.Errorf("the package lacks %s:\n%s", path, listing)
		}
	}

	if got := strings.TrimSpace(run(ctx, t, "dpkg-deb", "-f", deb, "Package")); got != "koha-webhooks" {
		t.Errorf("Package field = %q", got)
	}
	if got := run(ctx, t, "dpkg-deb", "-I", deb, "conffiles"); !strings.Contains(got, "/etc/koha-webhooks/koha-webhooks.env") {
		t.Errorf("conffiles = %q, want the settings file", got)
	}

	root := t.TempDir()
	run(ctx, t, "dpkg-deb", "-x", deb, root)
	if got := run(ctx, t, filepath.Join(root, "usr/bin/koha-webhooks"), "version"); !strings.HasPrefix(got, "koha-webhooks ") {
		t.Errorf("packaged binary printed %q for version", got)
	}
}

// TestUnitVerifies runs systemd-analyze verify on the unit. The copy it
// checks starts a freshly built binary in place of /usr/bin/koha-webhooks,
// which verify requires to exist.
func TestUnitVerifies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	binary := filepath.Join(dir, "koha-webhooks")
	run(ctx, t, "go", "build", "-o", binary, "../cmd/koha-webhooks")
	unit, err := os.ReadFile("koha-webhooks.service")
	must(t, err)
	if !strings.Contains(string(unit), "ExecStart=/usr/bin/koha-webhooks serve") {
		t.Fatal("the unit does not start /usr/bin/koha-webhooks serve")
	}
	unitPath := filepath.Join(dir, "koha-webhooks.service")
	must(t, os.WriteFile(unitPath, []byte(strings.ReplaceAll(string(unit), "/usr/bin/koha-webhooks", binary)), 0o644))

	out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", unitPath).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// requireNfpm skips the test when nfpm, at the version the Makefile pins,
// cannot be run (no module cache and no module proxy).
func requireNfpm(ctx context.Context, t *testing.T) {
	t.Helper()
	makefile, err := os.ReadFile("../Makefile")
	must(t, err)
	m := regexp.MustCompile(`github\.com/goreleaser/nfpm/v2/cmd/nfpm@v[0-9.]+`).Find(makefile)
	if m == nil {
		t.Fatal("the Makefile pins no nfpm version")
	}
	if out, err := exec.CommandContext(ctx, "go", "run", string(m), "--version").CombinedOutput(); err != nil {
		t.Skipf("nfpm is unavailable: %v\n%s", err, out)
	}
}

// run runs a command and returns its standard output; it fails the test
// when the command fails.
func run(ctx context.Context, t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
