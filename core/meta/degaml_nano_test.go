package meta

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// TestDeGAMLNanoBudget measures DeGAML's default meta-training budget on the
// nano preset with the built-in suites (24 instances per in-domain suite, as
// the pipeline). It is a measurement, not a unit test: set DEGAML_NANO=1 (and
// optionally DEGAML_NANO_BASE=<checkpoint dir> for a pretrained base).
func TestDeGAMLNanoBudget(t *testing.T) {
	if os.Getenv("DEGAML_NANO") == "" {
		t.Skip("set DEGAML_NANO=1 to measure the nano budget")
	}
	dgInitBackend(t)
	cfg, err := models.PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	model := &models.Model{Config: cfg, Params: models.NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()}
	if dir := os.Getenv("DEGAML_NANO_BASE"); dir != "" {
		ck, err := models.LoadCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		model.Config, model.Params = ck.Config, ck.Weights
	}
	phase := map[string]time.Duration{}
	last := time.Now()
	var lastPhase string
	env := &Env{Backend: dgBackend, Model: model,
		LoRA: models.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
		Publish: func(e events.Event) {
			if e.Stage != "" && e.Stage != lastPhase {
				now := time.Now()
				phase[lastPhase] += now.Sub(last)
				last, lastPhase = now, e.Stage
			}
			if e.Kind == events.Log || (e.Kind == events.Step && e.Phase == "generator-eval") {
				t.Logf("%s %s %s acc=%v", e.Stage, e.Task, e.Message, fv(e.Accuracy))
			}
		}}
	var pool []*tasks.Task
	var evalTasks []*tasks.Task
	for _, f := range suites.All() {
		if f.Role() != tasks.InDomain {
			continue
		}
		for i := range 24 {
			pool = append(pool, f.Instance(0, i, ""))
		}
		evalTasks = append(evalTasks, f.Instance(0, 501, ""))
	}
	m := NewDeGAML(DeGAMLOptions{}, true)
	start := time.Now()
	art, err := m.MetaTrain(context.Background(), env, pool)
	if err != nil {
		t.Fatal(err)
	}
	phase[lastPhase] += time.Since(last)
	t.Logf("meta-training %.1fs, phases %v", time.Since(start).Seconds(), phase)
	gen := NewDeGAML(DeGAMLOptions{}, false)
	for _, task := range evalTasks[:2] {
		for _, mm := range []Method{gen, m} {
			s := time.Now()
			ad, err := mm.Adapt(context.Background(), env, art, task, 1)
			if err != nil {
				t.Fatal(err)
			}
			acc, _, _, err := Evaluate(context.Background(), env, ad, task.Splits.Test)
			if err != nil {
				t.Fatal(err)
			}
			base, _, _, _ := Evaluate(context.Background(), env, &Adapted{}, task.Splits.Test)
			why := ""
			if ad.Chosen != nil {
				why = ad.Chosen.Family + " " + ad.Chosen.Why
			}
			t.Logf("%s %s: test acc %.3f (base %.3f) adapt %.1fs %s", mm.Name(), task.Name, acc, base, time.Since(s).Seconds(), why)
		}
	}
}

func fv(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
