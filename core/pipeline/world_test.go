package pipeline

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks/suites"
)

// World names the instance an Adapt with the same suite and seed runs on,
// with that instance's hidden parameters ("Which world?": the picker, the
// dashboard and `tasks show NAME#I` must agree).
func TestWorldIsTheAdaptedInstance(t *testing.T) {
	w, err := Open(tinyConfig(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := suites.ByName("math-mc")
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{0, 1, 7} {
		got, err := w.World("math-mc", seed)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := w.task("math-mc", seed)
		if got.Task != want.Name || !maps.Equal(got.Hidden, want.Hidden) || got.Seed != seed {
			t.Errorf("seed %d: world %+v, adapts on %s %v", seed, got, want.Name, want.Hidden)
		}
		// `tasks show NAME#I` (its default suite seed, 0) prints the same instance.
		_, num, _ := strings.Cut(got.Task, "#")
		i, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("task name %q", got.Task)
		}
		if inst := f.Instance(0, i, ""); !maps.Equal(inst.Hidden, got.Hidden) {
			t.Errorf("seed %d: tasks show would print %v, not %v", seed, inst.Hidden, got.Hidden)
		}
		if got.Options < 2 || got.Show != "workbench tasks show "+got.Task {
			t.Errorf("seed %d: options %d, show %q", seed, got.Options, got.Show)
		}
	}
	if _, err := w.World("no-such-suite", 1); err == nil {
		t.Error("unknown suite: no error")
	}
}

// TrainedBase finds the base the pipeline caches, without training one.
func TestTrainedBase(t *testing.T) {
	cfg, wd := tinyConfig(t), t.TempDir()
	dir, ok, err := TrainedBase(cfg, wd)
	if err != nil || ok || filepath.Dir(filepath.Dir(dir)) != wd {
		t.Fatalf("empty work dir: %s %v %v", dir, ok, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, models.CheckpointManifest), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := TrainedBase(cfg, wd); !ok {
		t.Fatal("a finished base was not found")
	}
}
