package fakecuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestBuild(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range Libraries {
		if target, err := os.Readlink(filepath.Join(dir, name)); err != nil || target != "libfakecuda.so" {
			t.Errorf("%s -> %q, %v", name, target, err)
		}
	}
}
