package mkcheckpoint

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/gomlx/compute"
)

// loadRandom writes a random checkpoint (seed 1) of the published shape name
// and loads it on the test backend.
func loadRandom(t *testing.T, name string) (*models.Model, compute.Backend) {
	t.Helper()
	s, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, s, Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	be := testref.Backend(t)
	m, err := models.LoadHFWith(dir, models.LoadOptions{Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	return m, be
}

// TestRealSize writes the published shapes at full size, loads each into the
// backend, generates and takes one LoRA train step (core/train). It needs minutes and up to
// ~7 GB of memory, so it runs only with WORKBENCH_REAL_SIZE set (to a shape
// name, or "all"); the numbers of BENCHMARKS.md come from `workbench models
// measure` on the same checkpoints.
func TestRealSize(t *testing.T) {
	which := os.Getenv("WORKBENCH_REAL_SIZE")
	if which == "" || testing.Short() {
		t.Skip("set WORKBENCH_REAL_SIZE=qwen2.5-0.5b (or all) to run the real-size test")
	}
	for _, name := range []string{"qwen2.5-0.5b", "qwen2.5-1.5b"} {
		if which != "all" && which != name {
			continue
		}
		t.Run(name, func(t *testing.T) {
			m, be := loadRandom(t, name)
			if m.Tokenizer.VocabSize() != m.Config.VocabSize {
				t.Fatalf("tokenizer %d, config %d", m.Tokenizer.VocabSize(), m.Config.VocabSize)
			}
			prompt := m.Tokenizer.Encode("The capital of France is")
			out, err := models.NewGenerator(be, m).Generate(context.Background(), prompt, models.GenerateOptions{MaxNew: 2, Greedy: true})
			if err != nil || len(out.IDs) != 2 {
				t.Fatalf("generate: %v %v", out, err)
			}
			lora := models.LoRAConfig{Rank: 8, Alpha: 16, Targets: []string{"q_proj", "v_proj"}}
			a := models.NewAdapter(m.Config, lora, 0)
			ids := [][]int32{make([]int32, 128), make([]int32, 128)}
			for b := range ids {
				for i := range ids[b] {
					ids[b][i] = int32((b*7919 + i*104729) % 10000)
				}
			}
			batch, err := train.MakeBatch(ids, nil, train.DefaultBucket, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The held-out loss (train.Loss) is taken over all [B,T,V] logits at once, before the step
			// changes the adapter; the step's loss is computed in chunks of rows (models.ChunkedLMLoss): at
			// the real vocabulary they must agree.
			lossOf, err := train.NewLoss(be, m.Config, lora)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := lossOf.Of(m.Params, a, nil, batch)
			if err != nil {
				t.Fatal(err)
			}
			step, err := train.NewLoRAStep(be, m.Config, lora, train.DefaultAdam())
			if err != nil {
				t.Fatal(err)
			}
			res, err := step.Run(m.Params, a.Params, train.NewAdamState(a.Params), batch, train.Hyper{LR: 1e-4})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Finite {
				t.Fatalf("the LoRA step is not finite: %+v", res)
			}
			if math.Abs(res.Loss-plain) > 1e-5*plain {
				t.Errorf("chunked loss %.7f, unchunked %.7f", res.Loss, plain)
			}
			// Random N(0, 0.02²) weights predict nearly uniformly: the loss is close to ln(vocab).
			if want := math.Log(float64(m.Config.VocabSize)); math.Abs(res.Loss-want) > 0.5 {
				t.Errorf("loss %.3f, want ≈ ln(%d) = %.3f", res.Loss, m.Config.VocabSize, want)
			}
			// A fresh adapter (B = 0) still has a gradient on B: a zero norm means no backward pass reached it.
			if res.GradNorm <= 0 {
				t.Errorf("gradient norm %g, want > 0", res.GradNorm)
			}
		})
	}
}
