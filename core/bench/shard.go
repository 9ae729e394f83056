package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/degaml/workbench/internal/atomicfile"
)

// Shard selects a deterministic slice of a plan's cells, so a paper-scale
// bench can run as N independent jobs (a Slurm job array, a Kubernetes
// Indexed Job): cell i of Plan.Cells' order belongs to shard i mod N.
// Round-robin over the seed-major order spreads every method and suite
// evenly, so the shards take about the same time. The zero Shard keeps
// every cell.
type Shard struct {
	Index, Count int // 0 ≤ Index < Count; Count 0 means unsharded
}

// ParseShard reads "I/N" (I counted from 0, as Kubernetes'
// JOB_COMPLETION_INDEX and a Slurm array 0-(N-1) number them); "" is the
// zero Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, errI := strconv.Atoi(strings.TrimSpace(a))
	n, errN := strconv.Atoi(strings.TrimSpace(b))
	if !ok || errI != nil || errN != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 0 ≤ I < N, e.g. 0/8 (I counts from 0)", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// slice keeps the shard's cells of the full, ordered list.
func (s Shard) slice(cells []Cell) []Cell {
	if s.Count <= 1 {
		return cells
	}
	var out []Cell
	for i, c := range cells {
		if i%s.Count == s.Index {
			out = append(out, c)
		}
	}
	return out
}

// StoreFile names the results file of a bench: results-<key>.jsonl, or
// results-<key>.shard-I-of-N.jsonl for a shard, so shards sharing a work
// directory never contend for one file (or its lock).
func StoreFile(key string, s Shard) string {
	if s.Count == 0 {
		return "results-" + key + ".jsonl"
	}
	return fmt.Sprintf("results-%s.shard-%d-of-%d.jsonl", key, s.Index, s.Count)
}

// Manifest describes what a results file holds: the config hash (Key), the
// plan and the shard. `bench merge` reads it to check that shard stores
// come from one bench and to rebuild the full plan's table.
type Manifest struct {
	Key     string   `json:"key"`
	Title   string   `json:"title"`
	Shard   int      `json:"shard"`
	Shards  int      `json:"shards"` // 0: unsharded
	Methods []string `json:"methods"`
	Layout  Layout   `json:"layout"`
	Seeds   []int64  `json:"seeds"`
}

// Plan is the full (unsharded) plan the manifest describes.
func (m Manifest) Plan() Plan {
	return Plan{Methods: m.Methods, Suites: append(slices.Clone(m.Layout.InDomain), m.Layout.OutOfDomain...), Seeds: m.Seeds}
}

// manifestPath is the manifest beside a results file.
func manifestPath(storePath string) string {
	return strings.TrimSuffix(storePath, ".jsonl") + ".plan.json"
}

// WriteManifest writes the manifest of the results file at storePath,
// atomically, before any cell runs (a shard that dies early still says
// what it was).
func WriteManifest(storePath, key, title string, plan Plan, layout Layout) error {
	m := Manifest{Key: key, Title: title, Shard: plan.Shard.Index, Shards: plan.Shard.Count,
		Methods: plan.Methods, Layout: layout, Seeds: plan.Seeds}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(manifestPath(storePath), append(b, '\n'), 0o644)
}

// ReadRecords reads a results file without locking or repairing it (merge
// may read the store of a shard that is still running): complete lines
// only, unreadable ones counted in skipped.
func ReadRecords(path string) (recs []Record, skipped int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1] // a torn last line is an append in progress
	}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Method == "" || r.Suite == "" {
			skipped++
			continue
		}
		recs = append(recs, r)
	}
	return recs, skipped, nil
}

// Merged is the union of shard stores.
type Merged struct {
	Manifest Manifest // Shard is meaningless here; Shards is the common count
	Records  []Record // one per cell, in shard order then file order
	Files    []string // the results files read
	// Missing lists the shard indexes no directory held: their cells are
	// absent from the table ("—").
	Missing []int
	// Duplicates counts cells found in more than one store (a shard re-run
	// with another N); the first is kept.
	Duplicates int
	Skipped    int // unreadable lines
}

// Merge finds the results files (results-*.plan.json beside them) in each
// of dirs — a work directory, its bench/ directory, or a results file — and
// unions them. Every store must carry the same config hash and plan; a
// mismatch is an error naming both files.
func Merge(dirs []string) (*Merged, error) {
	var manifests []string
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("bench merge: %w", err)
		}
		if !st.IsDir() { // a results file or its manifest
			if !strings.HasSuffix(d, ".plan.json") {
				if _, err := os.Stat(manifestPath(d)); err != nil {
					return nil, fmt.Errorf("bench merge: %s: not a bench results file (no %s beside it); give a shard's work directory or its results-*.jsonl", d, filepath.Base(manifestPath(d)))
				}
				d = manifestPath(d)
			}
			manifests = append(manifests, d)
			continue
		}
		var found []string
		for _, sub := range []string{d, filepath.Join(d, "bench")} {
			m, _ := filepath.Glob(filepath.Join(sub, "results-*.plan.json"))
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no results-*.plan.json here or in %s (was it written by a bench with this version?)", d, filepath.Join(d, "bench"))
		}
		manifests = append(manifests, found...)
	}
	sort.Strings(manifests)
	manifests = slices.Compact(manifests)
	var out *Merged
	var first string
	type store struct {
		m    Manifest
		path string
	}
	var stores []store
	for _, mp := range manifests {
		b, err := os.ReadFile(mp)
		if err != nil {
			return nil, fmt.Errorf("bench merge: %w", err)
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("bench merge: %s: not a bench plan: %w", mp, err)
		}
		if out == nil {
			out, first = &Merged{Manifest: m}, mp
		} else if err := sameBench(out.Manifest, first, m, mp); err != nil {
			return nil, err
		}
		stores = append(stores, store{m, strings.TrimSuffix(mp, ".plan.json") + ".jsonl"})
	}
	if out == nil {
		return nil, errors.New("bench merge: no results to merge")
	}
	sort.SliceStable(stores, func(i, j int) bool { return stores[i].m.Shard < stores[j].m.Shard })
	seen := map[Cell]bool{}
	have := map[int]bool{}
	for _, s := range stores {
		recs, skipped, err := ReadRecords(s.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		have[s.m.Shard] = true
		out.Files = append(out.Files, s.path)
		out.Skipped += skipped
		for _, r := range recs {
			if seen[r.Cell()] {
				out.Duplicates++
				continue
			}
			seen[r.Cell()] = true
			out.Records = append(out.Records, r)
		}
	}
	for i := range out.Manifest.Shards {
		if !have[i] {
			out.Missing = append(out.Missing, i)
		}
	}
	return out, nil
}

// sameBench checks that two manifests describe one bench.
func sameBench(a Manifest, aPath string, b Manifest, bPath string) error {
	switch {
	case a.Key != b.Key:
		return fmt.Errorf("bench merge: %s has config hash %s but %s has %s: they are different benches (model, budgets or preset differ)", aPath, a.Key, bPath, b.Key)
	case a.Shards != b.Shards:
		return fmt.Errorf("bench merge: %s is one of %d shards but %s one of %d: merge stores of one sharding", aPath, a.Shards, bPath, b.Shards)
	case !slices.Equal(a.Methods, b.Methods) || !slices.Equal(a.Seeds, b.Seeds) ||
		!slices.Equal(a.Layout.InDomain, b.Layout.InDomain) || !slices.Equal(a.Layout.OutOfDomain, b.Layout.OutOfDomain):
		return fmt.Errorf("bench merge: %s and %s cover different methods, suites or seeds", aPath, bPath)
	}
	return nil
}
