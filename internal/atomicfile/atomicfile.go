// Package atomicfile writes files so that a reader, a crash or a power cut
// sees the old content or the new, never a part: the bytes go to a temporary
// file in the same directory, which is fsynced, renamed over the path, and
// the directory is fsynced so the rename itself survives.
//
// Own code rather than github.com/google/renameio/v2: renameio does not
// fsync the directory (the half of the job a crash test notices), may put
// its temporary file in os.TempDir, and does not build on Windows; adding
// the missing half around it would be as long as this file.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile writes data to path atomically with permissions perm (applied
// as given, not reduced by the umask).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content produced piece by piece: fill writes it to
// w (buffered, so small writes are cheap), and nothing but the buffer is
// held in memory. If fill or any later step fails, the temporary file is
// removed and an existing file at path is left as it was.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close after the one below only returns an error
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600, which would hide a shared result from
	// other users.
	if err := f.Chmod(perm); err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that a rename or a new file inside it
// survives a crash. On Windows a directory cannot be fsynced (and NTFS
// journals the rename), so it does nothing there.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
