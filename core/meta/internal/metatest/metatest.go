// Package metatest holds the fixtures the method packages' tests share: a
// toy random model environment, a toy task family and an event recorder.
package metatest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/gomlx/compute"
)

// Backend is the test binary's shared go backend.
func Backend(t testing.TB) compute.Backend { return testref.Backend(t) }

// ToyEnv is a one-layer nano-shaped random model with the byte tokenizer.
func ToyEnv(t *testing.T, rank int) *meta.Env {
	t.Helper()
	cfg, err := models.PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumLayers = 1
	cfg.MaxPositions = 128
	tok := tokenizer.NewByte()
	return &meta.Env{Backend: Backend(t), Model: &models.Model{Config: cfg, Params: models.NewRandom(cfg, 3), Tokenizer: tok},
		LoRA:    models.LoRAConfig{Rank: rank, Alpha: float64(2 * rank), Targets: []string{"q_proj", "v_proj", "up_proj", "down_proj"}},
		Publish: meta.Discard}
}

// ToyPool builds n toy tasks (instances from..from+n-1): "n=d" with options
// even/odd, where a hidden per-task bit flips the labels, so a task is only
// solvable after adapting to its support set.
func ToyPool(n, from int) []*tasks.Task {
	var out []*tasks.Task
	for i := from; i < from+n; i++ {
		rng := kit.NewRNG(int64(i), 99)
		flip := i % 2
		mk := func(k int) []tasks.Example {
			exs := make([]tasks.Example, k)
			for j := range exs {
				d := rng.IntN(10)
				exs[j] = tasks.Example{Prompt: fmt.Sprintf("n=%d", d), Options: []string{"even", "odd"}, Answer: (d%2 + flip) % 2}
			}
			return exs
		}
		out = append(out, &tasks.Task{Name: fmt.Sprintf("toy#%d", i), Suite: "toy", Splits: tasks.Splits{Train: mk(8), Val: mk(8), Test: mk(8)}})
	}
	return out
}

// StepRecorder collects Step events by phase.
type StepRecorder struct {
	mu    sync.Mutex
	Steps map[string][]events.Event
}

func Deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func (r *StepRecorder) Publish(e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Kind == events.Step {
		if r.Steps == nil {
			r.Steps = map[string][]events.Event{}
		}
		r.Steps[e.Phase] = append(r.Steps[e.Phase], e)
	}
}
