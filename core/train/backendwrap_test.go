package train

import (
	"context"
	"math"
	"testing"

	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
)

// The wrapped backend must compute exactly what the plain one does: same LoRA losses and updates over a few
// steps, and the same greedy generation.
func TestSkipIdentityTransposesSameResults(t *testing.T) {
	cfg, _ := models.PresetConfig("nano")
	run := func(wrap bool) ([]float64, []float32, []int) {
		be := testBackend(t)
		if wrap {
			be = engine.SkipIdentityTransposes(be)
		}
		// Fresh tensors per backend: GoMLX ties a tensor to the backend instance that first used it.
		m := &models.Model{Config: cfg, Params: models.NewRandom(cfg, 2), Tokenizer: tokenizer.NewByte()}
		ad := models.NewAdapter(cfg, BenchLoRA, 2)
		step, err := NewLoRAStep(be, cfg, BenchLoRA, DefaultAdam())
		if err != nil {
			t.Fatal(err)
		}
		st := NewAdamState(ad.Params)
		b := BenchBatch(4, 32, 3)
		var losses []float64
		for range 3 {
			r, err := step.Run(m.Params, ad.Params, st, b, Hyper{LR: 1e-2})
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, r.Loss)
		}
		g, err := models.NewGenerator(be, m).Generate(context.Background(), []int{'a', 'b'}, models.GenerateOptions{MaxNew: 5, Greedy: true})
		if err != nil {
			t.Fatal(err)
		}
		return losses, ad.Params.Float32s("model.layers.1.mlp.down_proj.lora_B"), g.IDs
	}
	l0, b0, g0 := run(false)
	l1, b1, g1 := run(true)
	for i := range l0 {
		if math.Abs(l0[i]-l1[i]) > 1e-6 {
			t.Errorf("step %d loss %v vs %v", i, l0[i], l1[i])
		}
	}
	if d := maxDiff(b0, b1); d > 1e-6 {
		t.Errorf("updated lora_B differs by %g", d)
	}
	if !equalInts(g0, g1) {
		t.Errorf("generation %v vs %v", g0, g1)
	}
	if engine.SkipIdentityTransposes(engine.SkipIdentityTransposes(testBackend(t))) == nil {
		t.Error("double wrap")
	}
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
