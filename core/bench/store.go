package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"

	"github.com/degaml/workbench/internal/atomicfile"
)

// Store is the resumable results file: one Record per line, appended and
// synced as each cell finishes, so an interrupted bench loses at most the
// cell that was running.
type Store struct {
	mu   sync.Mutex
	path string
	f    *os.File
	lock *flock.Flock
	recs map[Cell]Record
	// order keeps first-seen order so Records is deterministic.
	order []Cell
	// Skipped counts unreadable lines found on open (a torn last line is
	// truncated away instead and does not count).
	Skipped int
}

// OpenStore reads path (if it exists) and opens it for appending.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	// Two benches appending to one file would run every cell twice.
	lk := flock.New(path + ".lock")
	if ok, err := lk.TryLock(); err != nil || !ok {
		if err == nil {
			err = errors.New("another `workbench bench` is running on this work directory with the same budgets")
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, err := openLocked(path)
	if err != nil {
		lk.Unlock()
		return nil, err
	}
	s.lock = lk
	return s, nil
}

func openLocked(path string) (*Store, error) {
	s := &Store{path: path, recs: map[Cell]Record{}}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	// A crash mid-append leaves a last line without its newline: drop it,
	// so the next append does not glue a good record onto garbage.
	good := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		good = i + 1
	}
	for _, line := range bytes.Split(data[:good], []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Method == "" || r.Suite == "" {
			s.Skipped++
			continue
		}
		s.put(r)
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("%s: truncating a torn last line: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if data == nil { // a new file: its name must survive a crash like the records Append syncs
		if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	s.f = f
	return s, nil
}

func (s *Store) put(r Record) {
	c := r.Cell()
	if _, ok := s.recs[c]; !ok {
		s.order = append(s.order, c)
	}
	s.recs[c] = r // a re-run cell (e.g. --force) replaces the older line
}

// Path is the results file.
func (s *Store) Path() string { return s.path }

// Done returns the finished record of a cell.
func (s *Store) Done(c Cell) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[c]
	return r, ok
}

// Append writes one finished cell and syncs it to disk.
func (s *Store) Append(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.put(r)
	return nil
}

// Records returns every finished cell in the order first written.
func (s *Store) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, 0, len(s.order))
	for _, c := range s.order {
		out = append(out, s.recs[c])
	}
	return out
}

// Close closes the file and releases the lock.
func (s *Store) Close() error {
	err := s.f.Close()
	if s.lock != nil {
		_ = s.lock.Unlock()
	}
	return err
}
