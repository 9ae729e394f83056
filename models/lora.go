package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
)

// LoRAConfig describes a PEFT LoRA adapter. Targets are module types among q_proj k_proj v_proj o_proj
// gate_proj up_proj down_proj, applied on every layer.
type LoRAConfig struct {
	Rank    int
	Alpha   float64
	RSLoRA  bool
	Targets []string
}

// Scale is the multiplier of the low-rank update: alpha/r, or alpha/√r with rsLoRA (as PEFT).
func (l LoRAConfig) Scale() float64 {
	if l.Rank <= 0 {
		return 0
	}
	if l.RSLoRA {
		return l.Alpha / math.Sqrt(float64(l.Rank))
	}
	return l.Alpha / float64(l.Rank)
}

// Validate checks the rank and that every target is a known module type.
func (l LoRAConfig) Validate() error {
	if l.Rank <= 0 || l.Rank > maxDim {
		return fmt.Errorf("lora rank %d out of range", l.Rank)
	}
	if math.IsNaN(l.Alpha) || math.IsInf(l.Alpha, 0) {
		return fmt.Errorf("lora alpha %v is not finite", l.Alpha)
	}
	if len(l.Targets) == 0 {
		return fmt.Errorf("lora has no target modules")
	}
	for _, t := range l.Targets {
		if !slices.Contains(loraTargets, t) {
			return fmt.Errorf("unsupported lora target module %q (want one of %v)", t, loraTargets)
		}
	}
	return nil
}

// Adapter is a LoRA adapter: its config and its A/B tensors named "model.layers.{i}.self_attn.q_proj.lora_A"
// ([r,in]) and ".lora_B" ([out,r]); MLP modules live under "model.layers.{i}.mlp.".
type Adapter struct {
	Config LoRAConfig
	Params Params
}

// moduleDims returns the full module prefix (without layer) and in/out sizes of a LoRA target.
func moduleDims(cfg Config, target string) (group string, in, out int) {
	h, q, kv, ff := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim, cfg.IntermediateSize
	switch target {
	case "q_proj":
		return "self_attn", h, q
	case "k_proj", "v_proj":
		return "self_attn", h, kv
	case "o_proj":
		return "self_attn", q, h
	case "gate_proj", "up_proj":
		return "mlp", h, ff
	case "down_proj":
		return "mlp", ff, h
	}
	panic(fmt.Sprintf("models: unknown lora target %q", target))
}

// AdapterShapes returns name → shape of every LoRA tensor for the model cfg and LoRA config l.
func AdapterShapes(cfg Config, l LoRAConfig) map[string][]int {
	s := map[string][]int{}
	for i := range cfg.NumLayers {
		for _, t := range l.Targets {
			group, in, out := moduleDims(cfg, t)
			pre := fmt.Sprintf("model.layers.%d.%s.%s.", i, group, t)
			s[pre+"lora_A"] = []int{l.Rank, in}
			s[pre+"lora_B"] = []int{out, l.Rank}
		}
	}
	return s
}

// NewAdapter creates a fresh adapter with PEFT's default init: A ~ kaiming_uniform(a=√5) = U(±1/√in), B = 0,
// so the adapted model starts equal to the base model. It panics on an invalid LoRAConfig.
func NewAdapter(cfg Config, l LoRAConfig, seed int64) *Adapter {
	if err := l.Validate(); err != nil {
		panic("models.NewAdapter: " + err.Error())
	}
	l.Targets = slices.Clone(l.Targets)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c6f7261))
	shapes := AdapterShapes(cfg, l)
	p := make(Params, len(shapes))
	for _, n := range sortedKeys(shapes) { // sorted for reproducible draws
		dims := shapes[n]
		data := make([]float32, dims[0]*dims[1])
		if n[len(n)-1] == 'A' {
			bound := 1 / math.Sqrt(float64(dims[1]))
			for i := range data {
				data[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
		p[n] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return &Adapter{Config: l, Params: p}
}

// Validate checks that the adapter holds exactly the tensors AdapterShapes(cfg, a.Config) asks for.
func (a *Adapter) Validate(cfg Config) error {
	if err := a.Config.Validate(); err != nil {
		return err
	}
	return CheckShapes(a.Params, AdapterShapes(cfg, a.Config), "adapter")
}

// Clone deep-copies the adapter.
func (a *Adapter) Clone() *Adapter {
	l := a.Config
	l.Targets = slices.Clone(l.Targets)
	return &Adapter{Config: l, Params: a.Params.Clone()}
}

// Mix returns (1-λ)·a + λ·b tensor by tensor, with a's config. It panics if the adapters do not have the same
// tensor names and shapes.
func Mix(a, b *Adapter, lambda float64) *Adapter {
	if len(a.Params) != len(b.Params) {
		panic(fmt.Sprintf("models.Mix: adapters have %d and %d tensors", len(a.Params), len(b.Params)))
	}
	out := a.Clone()
	for n, ta := range a.Params {
		tb, ok := b.Params[n]
		if !ok || !slices.Equal(ta.Shape().Dimensions, tb.Shape().Dimensions) {
			panic(fmt.Sprintf("models.Mix: tensor %q missing or misshaped in the second adapter", n))
		}
		va, vb := tensors.MustCopyFlatData[float32](ta), tensors.MustCopyFlatData[float32](tb)
		for i := range va {
			va[i] = float32((1-lambda)*float64(va[i]) + lambda*float64(vb[i]))
		}
		out.Params[n] = tensors.FromFlatDataAndDimensions(va, ta.Shape().Dimensions...)
	}
	return out
}
