package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// entries lists the names in dir, so a test sees a temporary file left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteFileContentAndMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	if err := WriteFile(path, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("second\n"), 0o640); err != nil { // replaces
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second\n" {
		t.Errorf("content %q, want %q", got, "second\n")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 (not the temporary file's 0600)", st.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only results.json", names)
	}
}

// A streamed write larger than the buffer, in small pieces, arrives whole.
func TestWriteStreamsLargeContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	const n = 600 << 10
	err := Write(path, 0o644, func(w io.Writer) error {
		for i := range n {
			if _, err := w.Write([]byte{byte(i % 251)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d bytes, want %d", len(got), n)
	}
	for i, b := range got {
		if b != byte(i%251) {
			t.Fatalf("byte %d is %d, want %d", i, b, i%251)
		}
	}
}

// A writer that fails, with or without an older file at the path, leaves
// the directory as it was: no partial file, no temporary.
func TestFailedWriteLeavesDirectoryAsItWas(t *testing.T) {
	for _, old := range []string{"", "old"} {
		t.Run(fmt.Sprintf("existing=%q", old), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "latest.json")
			if old != "" {
				if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			boom := errors.New("disk on fire")
			err := Write(path, 0o644, func(w io.Writer) error {
				w.Write(make([]byte, 1<<20)) // past the buffer: the temporary file has bytes on disk
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want the writer's", err)
			}
			got, err := os.ReadFile(path)
			switch {
			case old == "" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("a failed write left a file at the path (%d bytes, %v)", len(got), err)
			case old != "" && string(got) != old:
				t.Errorf("existing file became %d bytes, want it untouched (%v)", len(got), err)
			}
			want := 0
			if old != "" {
				want = 1
			}
			if names := entries(t, dir); len(names) != want {
				t.Errorf("directory holds %v, want %d entries", names, want)
			}
		})
	}
}

// A rename that fails (the path is a non-empty directory) removes the
// temporary file too.
func TestFailedRenameRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("x"), 0o644); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Errorf("directory holds %v, want only the directory", names)
	}
}

func TestMissingDirectoryIsAnError(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "f"), nil, 0o644); err == nil {
		t.Fatal("no error for a missing directory")
	}
}

// Whether a directory fsync reached the disk cannot be seen without a power
// cut; what can be seen is that a failure to sync is reported, not dropped.
func TestSyncDirReportsFailure(t *testing.T) {
	if err := SyncDir(filepath.Join(t.TempDir(), "gone")); err == nil {
		t.Fatal("no error syncing a directory that does not exist")
	}
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
