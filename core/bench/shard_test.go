package bench

import (
	"bytes"
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/events"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"": {}, "0/1": {0, 1}, "3/8": {3, 8}, " 7 / 8 ": {7, 8}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"8/8", "-1/4", "1/0", "1", "a/b", "1/2/3"} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), "0 ≤ I < N") {
			t.Errorf("ParseShard(%q): err = %v", in, err)
		}
	}
}

// The shards of a plan partition its cells, evenly, each in plan order.
func TestShardsPartitionTheCells(t *testing.T) {
	plan := Plan{Methods: []string{"a", "b", "c"}, Suites: []string{"s1", "s2", "s3", "s4"}, Seeds: Seeds(5)}
	all := plan.Cells()
	for _, n := range []int{1, 2, 7, 60, 61} {
		var union []Cell
		for i := range n {
			p := plan
			p.Shard = Shard{i, n}
			got := p.Cells()
			if want := len(all) / n; len(got) != want && len(got) != want+1 {
				t.Errorf("shard %d/%d has %d of %d cells", i, n, len(got), len(all))
			}
			union = append(union, got...)
		}
		if len(union) != len(all) {
			t.Fatalf("%d shards hold %d cells, the plan %d", n, len(union), len(all))
		}
		for _, c := range all {
			if !slices.Contains(union, c) {
				t.Fatalf("%d shards miss %v", n, c)
			}
		}
	}
}

// fakeCell is a deterministic result per cell: what a bench run would give
// on any machine (the real runs are seeded the same way).
func fakeCell(_ context.Context, c Cell, _ func(events.Event)) (*events.ResultInfo, error) {
	h := fnv.New32a()
	h.Write([]byte(c.Method + "|" + c.Suite))
	acc := float64((h.Sum32()+uint32(c.Seed)*37)%1000) / 1000
	return &events.ResultInfo{Accuracy: acc, N: 40, WallS: 1 + float64(c.Seed), ECE: events.F(acc / 10)}, nil
}

// runInto runs plan's cells into a fresh store under dir, as `bench` does.
func runInto(t *testing.T, dir, key, title string, plan Plan, layout Layout) {
	t.Helper()
	st, err := OpenStore(filepath.Join(dir, "bench", StoreFile(key, plan.Shard)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := WriteManifest(st.Path(), key, title, plan, layout); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), plan, fakeCell, st, nil); err != nil {
		t.Fatal(err)
	}
}

func markdown(t *testing.T, tb *Table) string {
	t.Helper()
	var b bytes.Buffer
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Three shards run into three work directories and merged give exactly the
// table of one process running everything.
func TestMergedShardsEqualOneRun(t *testing.T) {
	layout := Layout{InDomain: []string{"arc-easy", "boolq"}, OutOfDomain: []string{"gsm-mc"}}
	plan := Plan{Methods: []string{"m1", "m2"}, Suites: []string{"arc-easy", "boolq", "gsm-mc"}, Seeds: Seeds(3)}
	const key, title = "quick-0123456789ab", "t"

	single := t.TempDir()
	runInto(t, single, key, title, plan, layout)
	recs, _, err := ReadRecords(filepath.Join(single, "bench", StoreFile(key, Shard{})))
	if err != nil || len(recs) != len(plan.Cells()) {
		t.Fatalf("single run: %d records, %v", len(recs), err)
	}
	want := markdown(t, Build(title, plan, layout, recs))

	var dirs []string
	for i := range 3 {
		d := t.TempDir()
		p := plan
		p.Shard = Shard{i, 3}
		runInto(t, d, key, title, p, layout)
		dirs = append(dirs, d)
	}
	m, err := Merge(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Missing) != 0 || m.Duplicates != 0 || m.Manifest.Shards != 3 || len(m.Records) != len(plan.Cells()) {
		t.Fatalf("merged %+v", m)
	}
	if got := markdown(t, Build(m.Manifest.Title, m.Manifest.Plan(), m.Manifest.Layout, m.Records)); got != want {
		t.Errorf("merged table differs from the single run:\n%s\nwant:\n%s", got, want)
	}

	// Results files (or their manifests) may be named instead of directories.
	var files []string
	for i, d := range dirs {
		f := filepath.Join(d, "bench", StoreFile(key, Shard{i, 3}))
		if i == 1 {
			f = manifestPath(f)
		}
		files = append(files, f)
	}
	if m, err := Merge(files); err != nil || len(m.Records) != len(plan.Cells()) {
		t.Errorf("merge by file names: %v", err)
	}

	// A missing shard is reported and its cells are absent.
	last := plan
	last.Shard = Shard{2, 3}
	m, err = Merge(dirs[:2])
	if err != nil || !slices.Equal(m.Missing, []int{2}) || len(m.Records) != len(plan.Cells())-len(last.Cells()) {
		t.Errorf("two of three shards: missing %v, %d records, %v", m.Missing, len(m.Records), err)
	}

	// A store of another config (another hash) is refused, naming both files.
	other := t.TempDir()
	p := plan
	p.Shard = Shard{0, 3}
	runInto(t, other, "quick-ffffffffffff", title, p, layout)
	if _, err := Merge(append(dirs, other)); err == nil || !strings.Contains(err.Error(), "config hash") ||
		!strings.Contains(err.Error(), "quick-ffffffffffff") {
		t.Errorf("different config hashes: %v", err)
	}
	// So is a different sharding of the same bench.
	p.Shard = Shard{0, 2}
	runInto(t, other, key, title, p, layout)
	os.Remove(filepath.Join(other, "bench", "results-quick-ffffffffffff.shard-0-of-3.plan.json"))
	if _, err := Merge(append(dirs, other)); err == nil || !strings.Contains(err.Error(), "shards") {
		t.Errorf("3 and 2 shards mixed: %v", err)
	}
	// A directory without results says so.
	if _, err := Merge([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Errorf("empty directory: %v", err)
	}
	// So does a file that is no results file (was "open X.plan.json: no such file").
	stray := filepath.Join(t.TempDir(), "notes.json")
	os.WriteFile(stray, []byte("{}"), 0o644)
	if _, err := Merge([]string{stray}); err == nil || !strings.Contains(err.Error(), stray+": not a bench results file") {
		t.Errorf("a stray file: %v", err)
	}
	garbled := filepath.Join(t.TempDir(), "results-x.plan.json")
	os.WriteFile(garbled, []byte("{oops"), 0o644)
	if _, err := Merge([]string{garbled}); err == nil || !strings.Contains(err.Error(), garbled+": not a bench plan") {
		t.Errorf("a garbled plan: %v", err)
	}
}

// Merge reads a shard that is still appending: a torn last line is ignored,
// not an error, and the file is left untouched.
func TestReadRecordsIgnoresTornTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	data := `{"method":"m","suite":"boolq","seed":1,"accuracy":0.5,"n":4,"wall_s":1}` + "\n" + `{"method":"m","su`
	os.WriteFile(p, []byte(data), 0o644)
	recs, skipped, err := ReadRecords(p)
	if err != nil || len(recs) != 1 || skipped != 0 {
		t.Fatalf("%v %d %v", recs, skipped, err)
	}
	if b, _ := os.ReadFile(p); string(b) != data {
		t.Error("ReadRecords modified the file")
	}
}
