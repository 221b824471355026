// Package kohaplugin_test runs the Perl tests of the Koha plugin, so that
// `make test` covers them.
package kohaplugin_test

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func TestPerlPlugin(t *testing.T) {
	t.Parallel()
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("perl not installed")
	}
	scripts, err := filepath.Glob(filepath.Join("t", "*.t"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no Perl tests found in t/: %v", err)
	}
	for _, script := range scripts {
		t.Run(filepath.Base(script), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(perl, script).CombinedOutput()
			if err != nil {
				t.Errorf("perl %s: %v\n%s", script, err, out)
			}
		})
	}
}
