package testref

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	dir := Dir(t) // skips (or fails under CI=true) when the reference data is absent
	if !filepath.IsAbs(dir) {
		t.Errorf("Dir = %q, want an absolute path", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "reference.safetensors")); err != nil {
		t.Errorf("reference.safetensors not found in %s: %v", dir, err)
	}
}
