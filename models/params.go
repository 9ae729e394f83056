package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Params are named float32 tensors using Hugging Face names ("model.embed_tokens.weight",
// "model.layers.0.self_attn.q_proj.weight", ...). Adapters use the same type with LoRA names.
type Params map[string]*tensors.Tensor

// Weights are the graph-side view of Params: the same names bound to graph nodes.
type Weights map[string]*graph.Node

// Names returns the parameter names sorted: the canonical order of Exec inputs and outputs.
func (p Params) Names() []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensors returns the tensors in Names() order, ready to pass to an Exec.
func (p Params) Tensors() []*tensors.Tensor {
	names := p.Names()
	out := make([]*tensors.Tensor, len(names))
	for i, n := range names {
		out[i] = p[n]
	}
	return out
}

// Clone deep-copies every tensor into host memory (any dtype), so the copy can be mutated or finalized
// independently of the original. It panics if a tensor was already finalized.
func (p Params) Clone() Params {
	out := make(Params, len(p))
	for n, t := range p {
		c, err := t.LocalClone()
		if err != nil {
			panic(fmt.Sprintf("models: cloning %q: %v", n, err))
		}
		out[n] = c
	}
	return out
}

// Float32s returns a copy of the named tensor's values; it panics if the name is absent.
func (p Params) Float32s(name string) []float32 {
	t, ok := p[name]
	if !ok {
		panic(fmt.Sprintf("models: no parameter %q", name))
	}
	return tensors.MustCopyFlatData[float32](t)
}

// Bind maps nodes (in the order of names, typically Params.Names()) to Weights.
func Bind(names []string, nodes []*graph.Node) Weights {
	if len(names) != len(nodes) {
		panic(fmt.Sprintf("models.Bind: %d names for %d nodes", len(names), len(nodes)))
	}
	w := make(Weights, len(names))
	for i, n := range names {
		w[n] = nodes[i]
	}
	return w
}

// Nodes returns the nodes of w in the given name order.
func (w Weights) Nodes(names []string) []*graph.Node {
	out := make([]*graph.Node, len(names))
	for i, n := range names {
		out[i] = w[n]
	}
	return out
}

// need returns the named weight or panics (inside graph building, which GoMLX turns into an Exec error).
func (w Weights) need(name string) *graph.Node {
	n, ok := w[name]
	if !ok || n == nil {
		panic(fmt.Sprintf("models: missing weight %q", name))
	}
	return n
}

// ParamShapes returns the name → shape of every base-model weight for cfg, in HF layout (Linear weights are
// [out, in]). With tied embeddings there is no "lm_head.weight".
func ParamShapes(cfg Config) map[string][]int {
	h, q, kv := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	s := map[string][]int{
		"model.embed_tokens.weight": {cfg.VocabSize, h},
		"model.norm.weight":         {h},
	}
	if !cfg.TieEmbeddings {
		s["lm_head.weight"] = []int{cfg.VocabSize, h}
	}
	for i := range cfg.NumLayers {
		pre := fmt.Sprintf("model.layers.%d.", i)
		s[pre+"input_layernorm.weight"] = []int{h}
		s[pre+"post_attention_layernorm.weight"] = []int{h}
		s[pre+"self_attn.q_proj.weight"] = []int{q, h}
		s[pre+"self_attn.k_proj.weight"] = []int{kv, h}
		s[pre+"self_attn.v_proj.weight"] = []int{kv, h}
		s[pre+"self_attn.o_proj.weight"] = []int{h, q}
		if cfg.QKVBias {
			s[pre+"self_attn.q_proj.bias"] = []int{q}
			s[pre+"self_attn.k_proj.bias"] = []int{kv}
			s[pre+"self_attn.v_proj.bias"] = []int{kv}
		}
		s[pre+"mlp.gate_proj.weight"] = []int{cfg.IntermediateSize, h}
		s[pre+"mlp.up_proj.weight"] = []int{cfg.IntermediateSize, h}
		s[pre+"mlp.down_proj.weight"] = []int{h, cfg.IntermediateSize}
	}
	return s
}

// CheckShapes verifies that p holds exactly the tensors of want with the wanted shapes (float32). label prefixes
// error messages.
func CheckShapes(p Params, want map[string][]int, label string) error {
	for _, n := range sortedKeys(want) {
		t, ok := p[n]
		if !ok {
			return fmt.Errorf("%s: missing tensor %q (shape %v)", label, n, want[n])
		}
		if t.DType() != dtypes.Float32 {
			return fmt.Errorf("%s: tensor %q has dtype %s, want float32", label, n, t.DType())
		}
		if got := t.Shape().Dimensions; !slices.Equal(got, want[n]) {
			return fmt.Errorf("%s: tensor %q has shape %v, want %v", label, n, got, want[n])
		}
	}
	for _, n := range p.Names() {
		if _, ok := want[n]; !ok {
			return fmt.Errorf("%s: unexpected tensor %q", label, n)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NewRandom initializes base weights deterministically from seed: matrices ~ N(0, 0.02²) (HF's
// initializer_range default), norm weights 1, biases 0.
func NewRandom(cfg Config, seed int64) Params {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6f64656c73)) // fixed stream so seeds are reproducible across runs
	shapes := ParamShapes(cfg)
	p := make(Params, len(shapes))
	for _, n := range sortedKeys(shapes) { // sorted: the draw order must not depend on map iteration
		dims := shapes[n]
		size := 1
		for _, d := range dims {
			size *= d
		}
		data := make([]float32, size)
		switch {
		case len(dims) == 1 && isNormName(n):
			for i := range data {
				data[i] = 1
			}
		case len(dims) == 1: // bias
		default:
			for i := range data {
				data[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		p[n] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return p
}

func isNormName(n string) bool {
	for _, suffix := range []string{"layernorm.weight", "norm.weight"} {
		if len(n) >= len(suffix) && n[len(n)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}
