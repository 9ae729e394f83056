package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// FirstOrderOnly changes how the backward pass is built, not what is computed: the hidden states are
// bit-identical and the LoRA and δ gradients equal those of the graph differentiated as written.
func TestFirstOrderOnlyGradients(t *testing.T) {
	cfg, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	params := NewRandom(cfg, 9)
	lora := LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"}}
	ad := NewAdapter(cfg, lora, 2)
	for _, n := range ad.Params.Names() {
		d := tensors.MustCopyFlatData[float32](ad.Params[n])
		for i := range d {
			d[i] += float32(rng.NormFloat64() * 0.05) // B non-zero: every factor gets a gradient
		}
		ad.Params[n] = tensors.FromFlatDataAndDimensions(d, ad.Params[n].Shape().Dimensions...)
	}
	ids := [][]int32{make([]int32, 24), make([]int32, 24)}
	for _, row := range ids {
		for i := range row {
			row[i] = int32(rng.IntN(cfg.VocabSize))
		}
	}
	targets, weights := ShiftTargets(ids, nil)
	names, aNames := params.Names(), ad.Params.Names()
	e, err := graph.NewExec(hfrefBackend(t), func(in []*graph.Node) []*graph.Node {
		w := Bind(names, in[3:3+len(names)])
		aN := in[3+len(names) : 3+len(names)+len(aNames)]
		dN := in[len(in)-1]
		wrt := append(append([]*graph.Node{}, aN...), dN)
		var out []*graph.Node
		for _, firstOrder := range []bool{false, true} {
			h := Hidden(cfg, w, in[0], ForwardOptions{LoRA: &lora, Adapter: Bind(aNames, aN), HiddenDelta: dN, FirstOrderOnly: firstOrder})
			loss := CausalLMLoss(Logits(cfg, w, h), in[1], in[2])
			out = append(append(out, h), graph.Gradient(loss, wrt...)...)
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{tensors.FromValue(ids), tensors.FromValue(targets), tensors.FromValue(weights)}
	for _, p := range params.Tensors() {
		args = append(args, p)
	}
	for _, p := range ad.Params.Tensors() {
		args = append(args, p)
	}
	delta := make([]float32, cfg.HiddenSize)
	for i := range delta {
		delta[i] = float32(rng.NormFloat64() * 0.1)
	}
	out, err := e.Call(append(args, tensors.FromFlatDataAndDimensions(delta, cfg.HiddenSize))...)
	if err != nil {
		t.Fatal(err)
	}
	k := len(out) / 2
	a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[k])
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("hidden[%d] = %g with FirstOrderOnly, %g without: the value must not change", i, b[i], a[i])
		}
	}
	worst := 0.0
	for i := 1; i < k; i++ {
		want, got := tensors.MustCopyFlatData[float32](out[i]), tensors.MustCopyFlatData[float32](out[k+i])
		if relErr(want, make([]float32, len(want))) == 0 {
			t.Fatalf("gradient %d is zero: the comparison would prove nothing", i)
		}
		worst = math.Max(worst, relErr(got, want))
	}
	if worst > 1e-5 {
		t.Errorf("worst gradient rel.err %.3g > 1e-5", worst)
	}
	t.Logf("worst gradient rel.err %.3g over %d tensors", worst, k-1)
}
