package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models"
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
// a crashed or interrupted run and is rebuilt. It holds the manifest: the
// SHA-256 and size of every file, verified before the artifact is trusted.
const doneMarker = "DONE"

const manifestHeader = "workbench artifact manifest v1"

// errNotDone: the directory holds no finished artifact (never built, or
// interrupted before commitDir). Not corruption: nothing to warn about.
var errNotDone = errors.New("no finished artifact")

// commitDir atomically publishes a fully written tmp directory as dir, with
// the manifest of its files.
func commitDir(tmp, dir string) error {
	man, err := manifest(tmp)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, doneMarker), []byte(man), 0o644); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dir))
}

// manifest lists "sha256 size path" for every regular file under dir
// (except the marker), sorted by path.
func manifest(dir string) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == doneMarker {
			return err
		}
		sum, size, err := models.FileSHA256(path)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %d %s", sum, size, filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.Sort(lines)
	return manifestHeader + "\n" + strings.Join(lines, "\n") + "\n", nil
}

// verifyDir checks a cached artifact against its manifest: errNotDone when
// there is none, a description of the damage when a file is missing,
// truncated, changed or added. A marker from before manifests ("ok") cannot
// be verified and is trusted, as it was when written.
func verifyDir(dir string) error {
	want, err := os.ReadFile(filepath.Join(dir, doneMarker))
	if errors.Is(err, os.ErrNotExist) {
		return errNotDone
	}
	if err != nil {
		return err
	}
	if string(want) == "ok\n" {
		return nil
	}
	if !strings.HasPrefix(string(want), manifestHeader+"\n") {
		return fmt.Errorf("%s: damaged manifest", filepath.Join(dir, doneMarker))
	}
	got, err := manifest(dir)
	if err != nil {
		return err
	}
	if got == string(want) {
		return nil
	}
	// Name the first file that differs, for the warning.
	wantBy := manifestEntries(string(want))
	gotBy := manifestEntries(got)
	for _, path := range slices.Sorted(maps.Keys(wantBy)) {
		g, ok := gotBy[path]
		switch {
		case !ok:
			return fmt.Errorf("%s is missing", path)
		case g[1] != wantBy[path][1]:
			return fmt.Errorf("%s is %s bytes, the manifest says %s (truncated?)", path, g[1], wantBy[path][1])
		case g[0] != wantBy[path][0]:
			return fmt.Errorf("%s does not match its SHA-256 checksum", path)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(gotBy)) {
		if _, ok := wantBy[path]; !ok {
			return fmt.Errorf("%s is not in the manifest", path)
		}
	}
	return fmt.Errorf("%s: manifest mismatch", dir)
}

func manifestEntries(man string) map[string][2]string {
	out := map[string][2]string{}
	for _, line := range strings.Split(man, "\n")[1:] {
		f := strings.SplitN(line, " ", 3)
		if len(f) == 3 {
			out[f[2]] = [2]string{f[0], f[1]}
		}
	}
	return out
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
