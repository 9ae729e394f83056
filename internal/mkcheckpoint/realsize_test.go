package mkcheckpoint

import (
	"context"
	"math"
	"os"
	"testing"

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
// backend, generates and takes one LoRA gradient. It needs minutes and up to
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
			a := models.NewAdapter(m.Config, models.LoRAConfig{Rank: 8, Alpha: 16, Targets: []string{"q_proj", "v_proj"}}, 0)
			ids := [][]int32{make([]int32, 128), make([]int32, 128)}
			for b := range ids {
				for i := range ids[b] {
					ids[b][i] = int32((b*7919 + i*104729) % 10000)
				}
			}
			runner := models.NewRunner(be, m.Config)
			loss, grads, err := runner.LossAndGrad(m.Params, a, ids, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The gradient graph computes the loss in chunks of rows (models.ChunkedLMLoss), the loss-only
			// graph over all [B,T,V] logits at once: at the real vocabulary they must agree.
			plain, err := runner.Loss(m.Params, a, ids, nil)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(loss-plain)) > 1e-5*float64(plain) {
				t.Errorf("chunked loss %.7f, unchunked %.7f", loss, plain)
			}
			// Random N(0, 0.02²) weights predict nearly uniformly: the loss is close to ln(vocab).
			if want := math.Log(float64(m.Config.VocabSize)); math.Abs(float64(loss)-want) > 0.5 {
				t.Errorf("loss %.3f, want ≈ ln(%d) = %.3f", loss, m.Config.VocabSize, want)
			}
			if len(grads) != len(a.Params) {
				t.Errorf("%d gradients for %d adapter tensors", len(grads), len(a.Params))
			}
		})
	}
}
