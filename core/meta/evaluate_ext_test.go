package meta_test

import (
	"context"
	"math"
	"testing"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/metatest"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestEvaluateEnsembleOfIdenticalMembers scores real prompts with a toy model:
// probabilities are distributions over the options, accuracy matches their
// arg-max, and an ensemble of copies of one adapter ("mean" vote) reproduces
// the single adapter exactly.
func TestEvaluateEnsembleOfIdenticalMembers(t *testing.T) {
	env := metatest.ToyEnv(t, 2)
	exs := metatest.ToyPool(1, 0)[0].Splits.Test
	exs = append(exs, tasks.Example{Prompt: "no options"}) // scored as wrong with nil probabilities
	ad := models.NewAdapter(env.Model.Config, env.LoRA, 5)
	for n, p := range ad.Params { // non-zero B so the adapter matters
		if n[len(n)-1] == 'B' {
			d := p.Value().([][]float32)
			for i := range d {
				for j := range d[i] {
					d[i][j] = 0.05 * float32((i+j)%3-1)
				}
			}
			ad.Params[n] = tensorsFrom2D(d)
		}
	}
	acc, ece, probs, err := meta.Evaluate(context.Background(), env, &meta.Adapted{Adapter: ad}, exs)
	if err != nil {
		t.Fatal(err)
	}
	if probs[len(probs)-1] != nil {
		t.Errorf("an item without options got probabilities %v", probs[len(probs)-1])
	}
	correct := 0
	for i, p := range probs[:len(exs)-1] {
		if len(p) != 2 || math.Abs(p[0]+p[1]-1) > 1e-9 {
			t.Fatalf("item %d: probabilities %v", i, p)
		}
		if meta.ArgMax(p) == exs[i].Answer {
			correct++
		}
	}
	if want := float64(correct) / float64(len(exs)); math.Abs(acc-want) > 1e-12 || ece < 0 || ece > 1 {
		t.Errorf("acc %v (want %v), ece %v", acc, want, ece)
	}
	acc2, _, probs2, err := meta.Evaluate(context.Background(), env, &meta.Adapted{Ensemble: []*models.Adapter{ad, ad.Clone()}, Vote: meta.VoteMean}, exs)
	if err != nil {
		t.Fatal(err)
	}
	if acc2 != acc || math.Abs(probs2[0][0]-probs[0][0]) > 1e-12 {
		t.Errorf("ensemble of copies: acc %v vs %v, p %v vs %v", acc2, acc, probs2[0], probs[0])
	}
	// The base model (nil adapter) scores too and differs from the adapted one.
	_, _, pb, err := meta.Evaluate(context.Background(), env, &meta.Adapted{}, exs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pb[0][0]-probs[0][0]) < 1e-7 {
		t.Errorf("adapter had no effect on the option probabilities (%v vs %v)", pb[0], probs[0])
	}
}

func tensorsFrom2D(d [][]float32) *tensors.Tensor {
	flat := make([]float32, 0, len(d)*len(d[0]))
	for _, r := range d {
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(d), len(d[0]))
}
