package pipeline

import (
	"context"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// TestFewLoRAStepsLiftAccuracyAboveChance is the built-in world end to end:
// a briefly pretrained word model (its pretraining worlds only), then a
// No-Meta LoRA with a small budget on a held-out task world it has never
// seen: the support set's facts must lift test accuracy well above chance
// and above the base model (the world's answers are not in the base).
func TestFewLoRAStepsLiftAccuracyAboveChance(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains a small model")
	}
	cfg := defaultConfig(t, "[pipeline]\npretrain_steps = 300\npretrain_batch = 32\n")
	w, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	f, err := suites.ByName("medical")
	if err != nil {
		t.Fatal(err)
	}
	// A tiny instance: the base model pretrains on this one suite's worlds.
	defer func(fs []tasks.Family) { pretrainFamilies = fs }(pretrainFamilies)
	pretrainFamilies = []tasks.Family{f}
	task := EvalTask(f, 1)
	run := func(method string) float64 {
		_, res, err := w.RunTask(ctx, method, task, 1, api.Knobs{}, func(events.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		return res.Accuracy
	}
	base, lora := run(meta.Base), run(meta.NoMetaLoRA)
	t.Logf("%s: base %.3f, No-Meta LoRA (16 support items, 10 steps) %.3f; chance 0.25", task.Name, base, lora)
	if lora < 0.5 || lora < base+0.2 {
		t.Errorf("a few LoRA steps did not lift accuracy: base %.3f → %.3f (chance 0.25)", base, lora)
	}
}
