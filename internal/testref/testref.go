// Package testref locates the shared Hugging Face reference data (../shared/hf-reference) for tests.
package testref

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// Dir returns the absolute path of ../shared/hf-reference relative to the repository root (the first directory
// containing go.mod when walking up from the test's working directory).
//
// When the directory is absent the test is skipped, except under CI=true where a missing reference must fail
// loudly instead of silently reducing coverage.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testref: getwd: %v", err)
	}
	root := ""
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	missing := func(msg string, args ...any) string {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testref (CI=true): "+msg, args...)
		}
		t.Skipf("testref: "+msg+" (skipping; set CI=true to make this fatal)", args...)
		return ""
	}
	if root == "" {
		return missing("no go.mod found above %s", wd)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "hf-reference")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return missing("reference data %s not found", dir)
	}
	return dir
}

var (
	backendOnce sync.Once
	backend     compute.Backend
	backendErr  error
)

// Backend returns one go backend shared by a test binary's tests (creating a
// backend per test costs time and memory), configured with parallelism -1
// because GoMLX's default configuration can deadlock (GOMLX-NOTES.md).
func Backend(t testing.TB) compute.Backend {
	t.Helper()
	backendOnce.Do(func() { backend, backendErr = compute.NewWithConfig("go:parallelism=-1") })
	if backendErr != nil {
		t.Fatal(backendErr)
	}
	return backend
}
