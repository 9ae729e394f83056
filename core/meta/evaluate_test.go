package meta

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

func TestCombineMajorityMaxConfMean(t *testing.T) {
	// Three members, two items with three options.
	members := [][][]float64{
		{{0.6, 0.3, 0.1}, {0.2, 0.5, 0.3}},
		{{0.4, 0.5, 0.1}, {0.1, 0.1, 0.8}},
		{{0.5, 0.4, 0.1}, {0.45, 0.1, 0.45}},
	}
	maj := combine(members, "majority")
	// Item 0: votes A, B, A → A with share 2/3.
	if argmaxF(maj[0]) != 0 || math.Abs(maj[0][0]-2.0/3) > 1e-4 {
		t.Errorf("majority item 0 = %v, want A with share 2/3", maj[0])
	}
	// Item 1: votes B, C, A (member 3 ties A/C, first wins → A): a 1-1-1 tie broken by summed
	// probability, which is largest for C (0.3+0.8+0.45).
	if argmaxF(maj[1]) != 2 {
		t.Errorf("majority item 1 = %v, want the tie broken towards C", maj[1])
	}
	mc := combine(members, "maxconf")
	// Item 0: most confident member is #0 (0.6); item 1: member #1 (0.8).
	if mc[0][0] != 0.6 || mc[1][2] != 0.8 {
		t.Errorf("maxconf = %v", mc)
	}
	mean := combine(members, VoteMean)
	if math.Abs(mean[0][0]-0.5) > 1e-12 || math.Abs(mean[1][2]-(0.3+0.8+0.45)/3) > 1e-12 {
		t.Errorf("mean = %v", mean)
	}
	for _, p := range append(append(maj, mc...), mean...) {
		var s float64
		for _, v := range p {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("combined distribution %v does not sum to 1", p)
		}
	}
}

// TestEvaluateEnsembleOfIdenticalMembers scores real prompts with a toy model:
// probabilities are distributions over the options, accuracy matches their
// arg-max, and an ensemble of copies of one adapter ("mean" vote) reproduces
// the single adapter exactly.
func TestEvaluateEnsembleOfIdenticalMembers(t *testing.T) {
	env := toyEnv(t, 2)
	exs := toyPool(1, 0)[0].Splits.Test
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
	acc, ece, probs, err := Evaluate(context.Background(), env, &Adapted{Adapter: ad}, exs)
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
		if argmaxF(p) == exs[i].Answer {
			correct++
		}
	}
	if want := float64(correct) / float64(len(exs)); math.Abs(acc-want) > 1e-12 || ece < 0 || ece > 1 {
		t.Errorf("acc %v (want %v), ece %v", acc, want, ece)
	}
	acc2, _, probs2, err := Evaluate(context.Background(), env, &Adapted{Ensemble: []*models.Adapter{ad, ad.Clone()}, Vote: VoteMean}, exs)
	if err != nil {
		t.Fatal(err)
	}
	if acc2 != acc || math.Abs(probs2[0][0]-probs[0][0]) > 1e-12 {
		t.Errorf("ensemble of copies: acc %v vs %v, p %v vs %v", acc2, acc, probs2[0], probs[0])
	}
	// The base model (nil adapter) scores too and differs from the adapted one.
	_, _, pb, err := Evaluate(context.Background(), env, &Adapted{}, exs)
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
