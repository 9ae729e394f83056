package models

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// The one-token decode step of a real-size model runs in plain Go (goStep), not in a graph: every product is a
// matrix·vector over the weights' own buffers (matVecInto: each weight read once, rows split over the cores),
// and the rest (norms, RoPE, attention over the cache, SwiGLU) is O(H + cache) per layer. In the graph the
// backend sends one-row products of that size to kernels that re-pack or materialise the weights every token
// (BENCHMARKS.md, "Decode"). Prefill stays in the graph; the KV cache moves between the two on demand.

// goLinear is one projection y = W·x (+ b) (+ scale·B·(A·x)) in HF layout: W [out,in], A [r,in], B [out,r].
type goLinear struct {
	w, b    []float32
	in, out int
	a, bl   []float32 // LoRA A and B; nil without an adapter on this module
	r       int
	scale   float32
}

type goLayer struct {
	inNorm, postNorm           []float32
	q, k, v, o, gate, up, down goLinear
}

// goStepWeights are views of a model's (and adapter's) float32 buffers, taken when a session starts: the
// parameters must not be replaced or mutated while the session decodes (the graph path assumes the same).
type goStepWeights struct {
	embed, norm, head []float32
	layers            []goLayer
}

// flatView returns the float32 buffer of t in place (the go backend shares it with the host: no copy).
func flatView(t *tensors.Tensor, name string) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("generate: parameter %q missing", name)
	}
	if t.DType() != dtypes.Float32 {
		return nil, fmt.Errorf("generate: parameter %q is %s, want float32", name, t.DType())
	}
	var flat []float32
	err := tensors.ConstFlatData(t, func(f []float32) { flat = f })
	return flat, err
}

func newGoStepWeights(m *Model, ad *Adapter) (*goStepWeights, error) {
	cfg := m.Config
	p := m.Params
	var err error
	view := func(name string) []float32 {
		if err != nil {
			return nil
		}
		var f []float32
		f, err = flatView(p[name], name)
		return f
	}
	linear := func(module string, in, out int) goLinear {
		l := goLinear{w: view(module + ".weight"), in: in, out: out}
		if b, ok := p[module+".bias"]; ok && b != nil && err == nil {
			l.b, err = flatView(b, module+".bias")
		}
		if ad != nil && slices.Contains(ad.Config.Targets, module[strings.LastIndexByte(module, '.')+1:]) && err == nil {
			if l.a, err = flatView(ad.Params[module+".lora_A"], module+".lora_A"); err != nil {
				return l
			}
			if l.bl, err = flatView(ad.Params[module+".lora_B"], module+".lora_B"); err != nil {
				return l
			}
			l.r, l.scale = ad.Config.Rank, float32(ad.Config.Scale())
		}
		return l
	}
	H, FF := cfg.HiddenSize, cfg.IntermediateSize
	qd, kvd := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	w := &goStepWeights{embed: view("model.embed_tokens.weight"), norm: view("model.norm.weight"), head: view(headName(cfg))}
	for l := range cfg.NumLayers {
		pre := fmt.Sprintf("model.layers.%d.", l)
		w.layers = append(w.layers, goLayer{
			inNorm:   view(pre + "input_layernorm.weight"),
			postNorm: view(pre + "post_attention_layernorm.weight"),
			q:        linear(pre+"self_attn.q_proj", H, qd),
			k:        linear(pre+"self_attn.k_proj", H, kvd),
			v:        linear(pre+"self_attn.v_proj", H, kvd),
			o:        linear(pre+"self_attn.o_proj", qd, H),
			gate:     linear(pre+"mlp.gate_proj", H, FF),
			up:       linear(pre+"mlp.up_proj", H, FF),
			down:     linear(pre+"mlp.down_proj", FF, H),
		})
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// apply writes the projection of x into y, using tmp (≥ out floats) for a LoRA term.
func (l *goLinear) apply(x, y, tmp []float32) {
	matVecInto(l.w, l.in, x, y)
	for i, b := range l.b {
		y[i] += b
	}
	if l.a != nil {
		ax := tmp[:l.r]
		gemvRowsScalar(l.a, l.in, x, ax)
		bax := tmp[l.r : l.r+l.out]
		gemvRowsScalar(l.bl, l.r, ax, bax)
		for i, v := range bax {
			y[i] += l.scale * v
		}
	}
}

// goStep is a session's Go decode state: the weights' views, its own copy of the KV cache while it owns it,
// and scratch buffers reused every token.
type goStep struct {
	cfg   Config
	w     *goStepWeights
	delta []float32
	inv   []float32 // RoPE inverse frequencies
	// kv[2l], kv[2l+1]: layer l's K and V cache, [KV,S,Dh] (the graph's [1,KV,S,Dh]); nil while the graph owns it.
	kv                                 [][]float32
	x, h, q, k, v, attn, g, u, tmp, sc []float32
}

func newGoStep(m *Model, ad *Adapter, delta []float32, S int) (*goStep, error) {
	w, err := newGoStepWeights(m, ad)
	if err != nil {
		return nil, err
	}
	cfg := m.Config
	H, FF := cfg.HiddenSize, cfg.IntermediateSize
	qd, kvd := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	return &goStep{
		cfg: cfg, w: w, delta: delta, inv: RopeInvFreq(cfg),
		x: make([]float32, H), h: make([]float32, H), q: make([]float32, qd), k: make([]float32, kvd),
		v: make([]float32, kvd), attn: make([]float32, qd), g: make([]float32, FF), u: make([]float32, FF),
		tmp: make([]float32, max(H, FF, qd)+64), sc: make([]float32, S),
	}, nil
}

// rmsNormInto is RMSNorm (x·(1/√(mean(x²)+ε))·w) of one row.
func rmsNormInto(x, w, out []float32, eps float64) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	r := float32(1 / math.Sqrt(ss/float64(len(x))+eps))
	for i, v := range x {
		out[i] = v * r * w[i]
	}
}

// ropeInPlace rotates every head of x ([heads·Dh]) to position pos, as RoPE does for one token.
func ropeInPlace(x []float32, dh int, inv []float32, pos int) {
	half := dh / 2
	for i := range half {
		a := float32(pos) * inv[i]
		c, s := float32(math.Cos(float64(a))), float32(math.Sin(float64(a)))
		for h := 0; h < len(x); h += dh {
			x0, x1 := x[h+i], x[h+i+half]
			x[h+i] = x0*c - x1*s
			x[h+i+half] = x1*c + x0*s
		}
	}
}

// step feeds token id at position pos (the KV cache holds 0..pos-1) and returns the logits [V].
func (st *goStep) step(id, pos int) []float32 {
	cfg := st.cfg
	H, Dh, KV, S := cfg.HiddenSize, cfg.HeadDim, cfg.NumKVHeads, len(st.sc)
	R := cfg.NumHeads / KV
	x := st.x
	copy(x, st.w.embed[id*H:(id+1)*H])
	scale := float32(1 / math.Sqrt(float64(Dh)))
	for l := range st.w.layers {
		L := &st.w.layers[l]
		rmsNormInto(x, L.inNorm, st.h, cfg.RMSNormEps)
		L.q.apply(st.h, st.q, st.tmp)
		L.k.apply(st.h, st.k, st.tmp)
		L.v.apply(st.h, st.v, st.tmp)
		ropeInPlace(st.q, Dh, st.inv, pos)
		ropeInPlace(st.k, Dh, st.inv, pos)
		kc, vc := st.kv[2*l], st.kv[2*l+1]
		for kv := range KV {
			copy(kc[(kv*S+pos)*Dh:(kv*S+pos+1)*Dh], st.k[kv*Dh:(kv+1)*Dh])
			copy(vc[(kv*S+pos)*Dh:(kv*S+pos+1)*Dh], st.v[kv*Dh:(kv+1)*Dh])
		}
		for hq := range cfg.NumHeads {
			kv := hq / R // HF repeat_kv: query head h uses kv head h/R
			q := st.q[hq*Dh : (hq+1)*Dh]
			sc := st.sc[:pos+1]
			mx := float32(math.Inf(-1))
			for s := range sc {
				krow := kc[(kv*S+s)*Dh : (kv*S+s+1)*Dh]
				var d float32
				for i, v := range q {
					d += v * krow[i]
				}
				sc[s] = d * scale
				mx = max(mx, sc[s])
			}
			var sum float32
			for s, v := range sc {
				e := float32(math.Exp(float64(v - mx)))
				sc[s] = e
				sum += e
			}
			out := st.attn[hq*Dh : (hq+1)*Dh]
			clear(out)
			for s, p := range sc {
				p /= sum
				vrow := vc[(kv*S+s)*Dh : (kv*S+s+1)*Dh]
				for i, v := range vrow {
					out[i] += p * v
				}
			}
		}
		L.o.apply(st.attn, st.h, st.tmp)
		for i, v := range st.h {
			x[i] += v
		}
		rmsNormInto(x, L.postNorm, st.h, cfg.RMSNormEps)
		L.gate.apply(st.h, st.g, st.tmp)
		L.up.apply(st.h, st.u, st.tmp)
		for i, g := range st.g {
			st.g[i] = g / (1 + float32(math.Exp(float64(-g)))) * st.u[i] // silu(g)·u
		}
		L.down.apply(st.g, st.h, st.tmp)
		for i, v := range st.h {
			x[i] += v
		}
	}
	rmsNormInto(x, st.w.norm, st.h, cfg.RMSNormEps)
	for i, d := range st.delta {
		st.h[i] += d
	}
	logits := make([]float32, cfg.VocabSize)
	matVecInto(st.w.head, H, st.h, logits)
	return logits
}

// takeCaches moves the KV cache from the graph's tensors into Go slices (after a prefill).
func (st *goStep) takeCaches(caches []*tensors.Tensor) {
	st.kv = st.kv[:0]
	for _, c := range caches {
		st.kv = append(st.kv, tensors.MustCopyFlatData[float32](c))
	}
}

// giveCaches hands the Go KV cache back as tensors for a graph step, replacing (and freeing) caches.
func (st *goStep) giveCaches(caches []*tensors.Tensor) {
	cfg := st.cfg
	for i, kv := range st.kv {
		caches[i].FinalizeAll()
		caches[i] = tensors.FromFlatDataAndDimensions(kv, 1, cfg.NumKVHeads, len(st.sc), cfg.HeadDim)
	}
	st.kv = nil
}
