package models

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// ProjectHook sees every linear module of every layer once per forward pass, with x [N,in] and y [N,out]
// flattened over the tokens, and what it returns is the module's output: adding W'·x for a module is the
// same forward as adding W' to that module's weight.
func TestProjectHookRewritesEveryModuleOutput(t *testing.T) {
	cfg, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	params := NewRandom(cfg, 5)
	names := params.Names()
	const B, T = 2, 6
	ids := make([][]int32, B)
	for b := range ids {
		ids[b] = make([]int32, T)
		for i := range ids[b] {
			ids[b][i] = int32((b*7 + i*3) % cfg.VocabSize)
		}
	}
	target := "model.layers.0.mlp.down_proj"
	seen := map[string]string{}
	e, err := graph.NewExec(hfrefBackend(t), func(in []*graph.Node) []*graph.Node {
		w := Bind(names, in[1:])
		extra := graph.MulScalar(w[target+".weight"], 0.3)
		hook := func(module string, x, y *graph.Node) *graph.Node {
			seen[module] = fmt.Sprint(x.Shape().Dimensions, y.Shape().Dimensions)
			if module == target {
				return graph.Add(y, graph.Dot(x, extra).General([]int{1}, nil, []int{1}, nil))
			}
			return y
		}
		hooked := Hidden(cfg, w, in[0], ForwardOptions{ProjectHook: hook})
		w2 := Weights{}
		for k, v := range w {
			w2[k] = v
		}
		w2[target+".weight"] = graph.Add(w[target+".weight"], extra)
		return []*graph.Node{hooked, Hidden(cfg, w2, in[0], ForwardOptions{})}
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{tensors.FromValue(ids)}
	for _, p := range params.Tensors() {
		args = append(args, p)
	}
	out, err := e.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	for i := range a {
		if d := a[i] - b[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("hidden[%d]: hook %g, weight %g", i, a[i], b[i])
		}
	}
	if want := 7 * cfg.NumLayers; len(seen) != want {
		t.Fatalf("hook saw %d modules, want %d: %v", len(seen), want, seen)
	}
	if got, want := seen[target], fmt.Sprint([]int{B * T, cfg.IntermediateSize}, []int{B * T, cfg.HiddenSize}); got != want {
		t.Fatalf("%s: x, y dims %s, want %s", target, got, want)
	}
}
