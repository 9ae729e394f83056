package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultWorkdir is where artifacts live when neither --workdir nor the
// config names a directory: the user cache directory.
func DefaultWorkdir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "degaml-workbench")
	}
	return filepath.Join(os.TempDir(), "degaml-workbench")
}

// key hashes everything a cached artifact depends on, so a changed budget
// or model never reuses a stale artifact: the hash names the directory.
func key(parts ...any) string {
	b, err := json.Marshal(parts)
	if err != nil {
		panic(fmt.Sprintf("pipeline: cache key: %v", err)) // only plain structs go in
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

// doneMarker marks a finished artifact directory; a directory without it is
// a crashed or interrupted run and is rebuilt.
const doneMarker = "DONE"

func isDone(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, doneMarker))
	return err == nil
}

// commitDir atomically publishes a fully written tmp directory as dir.
func commitDir(tmp, dir string) error {
	if err := os.WriteFile(filepath.Join(tmp, doneMarker), []byte("ok\n"), 0o644); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// removeCheckpoint deletes a checkpoint directory and its crash leftovers.
func removeCheckpoint(dir string) error {
	for _, d := range []string{dir, dir + ".tmp", dir + ".old"} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}
