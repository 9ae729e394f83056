package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/pipeline"
)

// latest.json must decode as the api.BenchTable that LatestBench serves.
func TestWriteLatest(t *testing.T) {
	dir := t.TempDir()
	plan := Plan{Methods: []string{"base"}, Suites: []string{"boolq", "code"}, Seeds: Seeds(1)}
	layout, _ := SplitSuites(plan.Suites)
	tb := Build("t", plan, layout, []Record{{Method: "base", Suite: "boolq", Seed: 1, Accuracy: 0.5, N: 8}})
	if err := WriteLatest(dir, tb); err != nil {
		t.Fatal(err)
	}
	bt, err := pipeline.ReadLatestBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bt.Rows) != 1 || bt.Rows[0].Cells[0].Mean != 0.5 || bt.Rows[0].Cells[1].N != 0 || len(bt.Columns) != 4 {
		t.Errorf("%+v", bt)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "bench", "latest.md")); err != nil || !strings.Contains(string(md), "| Base | 50.0 |") {
		t.Errorf("latest.md: %v\n%s", err, md)
	}
}
