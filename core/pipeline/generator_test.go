package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/degaml"
)

// TestGeneratorStageServesBothDeGAMLModes: the generator stage collects and
// fits G once; degaml-gen's artifact is that stage's, and degaml's policy
// training starts from the very same generator. The stage's artifact is
// cached with a manifest, so a second workbench on the work directory loads
// it (stages "cached") without collecting again.
func TestGeneratorStageServesBothDeGAMLModes(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-trains a tiny model")
	}
	d, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tiny.toml")
	body := "[pipeline]\npretrain_steps = 6\npretrain_batch = 4\ntrain_instances = 1\n" +
		"[methods.degaml]\ncollect_tasks = 2\ncollect_pre_steps = 2\ncollect_fine_steps = 1\npolicy_iterations = 1\npolicy_hypotheses = 4\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(d, p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	collectSteps := func(sub *events.Subscription) int {
		n := 0
		for _, e := range sub.Drain() {
			if e.Kind == events.Step && e.Phase == "collect" {
				n++
			}
		}
		return n
	}
	ctx := context.Background()

	w, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	sub := w.Bus().Subscribe(events.Lossless)
	genArt, err := w.Artifact(ctx, meta.DeGAMLGen)
	if err != nil {
		t.Fatal(err)
	}
	fullArt, err := w.Artifact(ctx, meta.DeGAML)
	if err != nil {
		t.Fatal(err)
	}
	gen, full := genArt.(*degaml.DeGAMLArtifact), fullArt.(*degaml.DeGAMLArtifact)
	if gen.Policy != nil || full.Policy == nil {
		t.Fatalf("degaml-gen has a policy (%v) or degaml lacks one (%v)", gen.Policy != nil, full.Policy == nil)
	}
	if gen.Gen != full.Gen {
		t.Error("degaml trained its own generator instead of the stage's")
	}
	if n := collectSteps(sub); n != 2*3 {
		t.Errorf("%d collection steps, want one collection of 2 tasks × 3 steps", n)
	}
	for _, s := range []string{StageCollect, StageGenerator, StagePolicy} {
		if st := w.stageState(s); st != "done" {
			t.Errorf("stage %s is %q, want done", s, st)
		}
	}
	w.Close()

	matches, _ := filepath.Glob(filepath.Join(dir, "meta", "generator-*"))
	if len(matches) != 1 || verifyDir(matches[0]) != nil {
		t.Fatalf("generator stage directories %v: want one, verified", matches)
	}
	w2, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	sub2 := w2.Bus().Subscribe(events.Lossless)
	again, err := w2.Generator(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := collectSteps(sub2); n != 0 {
		t.Errorf("the cached generator collected again (%d steps)", n)
	}
	for _, s := range generatorStages {
		if st := w2.stageState(s); st != "cached" {
			t.Errorf("stage %s is %q, want cached", s, st)
		}
	}
	if !slices.Equal(again.Gen.OutMean, gen.Gen.OutMean) || !slices.Equal(again.Gen.Names, gen.Gen.Names) {
		t.Error("the cached generator differs from the trained one")
	}
}
