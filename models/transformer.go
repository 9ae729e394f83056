package models

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads much better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// ForwardOptions are the optional inputs of Hidden/Forward.
type ForwardOptions struct {
	LoRA        *LoRAConfig // nil: no adapter
	Adapter     Weights     // LoRA A/B nodes by adapter name ("model.layers.0.self_attn.q_proj.lora_A", ...)
	HiddenDelta *Node       // SLOT: [H] or [B,H] added to the final (post-norm) hidden state; nil = none
	// Positions are the absolute positions of the T input tokens, int32/int64 [T] or [B,T]; nil means 0..T-1.
	// A KV-cache step passes the current position here.
	Positions *Node
	// FirstOrderOnly promises that the graph is differentiated at most once (a LoRA step, TTT, SLOT — not
	// MAML's meta-gradient). Some blocks then state their gradient in closed form, so that the backward pass
	// keeps fewer activations (see swiGLU); the values are unchanged, a second derivative would be wrong.
	FirstOrderOnly bool
	// ProjectHook, when set, rewrites every linear module's output: y = ProjectHook(module, x, y), x [N,in] and
	// y [N,out] flattened over the token axes, after the bias and the LoRA term. ABMLL's local
	// reparameterization adds its per-module output noise here without forming a weight-sized tensor.
	ProjectHook func(module string, x, y *Node) *Node
}

// Hidden runs the decoder on ids (int32 [B,T], right padding) and returns the final hidden state [B,T,H] after
// the last RMSNorm (plus opt.HiddenDelta).
func Hidden(cfg Config, w Weights, ids *Node, opt ForwardOptions) *Node {
	if ids.Rank() != 2 {
		panic(fmt.Sprintf("models.Hidden: ids must be [B,T], got %s", ids.Shape()))
	}
	x := Embed(cfg, w, ids)
	pos := opt.Positions
	if pos == nil {
		pos = DefaultPositions(ids.Graph(), ids.Shape().Dimensions[1])
	}
	mask := CausalMask(ids.Graph(), ids.Shape().Dimensions[1])
	for i := range cfg.NumLayers {
		x = DecoderLayer(cfg, w, i, x, pos, mask, opt)
	}
	x = RMSNorm(x, w.need("model.norm.weight"), cfg.RMSNormEps)
	if d := opt.HiddenDelta; d != nil {
		switch d.Rank() {
		case 1:
			x = Add(x, Reshape(d, 1, 1, d.Shape().Dimensions[0]))
		case 2:
			x = Add(x, InsertAxes(d, 1))
		default:
			panic(fmt.Sprintf("models.Hidden: HiddenDelta must be [H] or [B,H], got %s", d.Shape()))
		}
	}
	return x
}

// Logits projects a hidden state [B,T,H] to vocabulary logits [B,T,V] with lm_head (or the embedding matrix
// when the embeddings are tied).
func Logits(cfg Config, w Weights, hidden *Node) *Node {
	dims := hidden.Shape().Dimensions
	logits := matmulT(Reshape(hidden, -1, dims[len(dims)-1]), w.need(headName(cfg)))
	return Reshape(logits, append(slices.Clone(dims[:len(dims)-1]), cfg.VocabSize)...)
}

// Forward is Logits(Hidden(ids)): logits [B,T,V].
func Forward(cfg Config, w Weights, ids *Node, opt ForwardOptions) *Node {
	return Logits(cfg, w, Hidden(cfg, w, ids, opt))
}

// Embed looks up token embeddings: ids int [B,T] → [B,T,H].
func Embed(cfg Config, w Weights, ids *Node) *Node {
	return Gather(w.need("model.embed_tokens.weight"), InsertAxes(ids, -1))
}

// DefaultPositions returns int32 [T] positions 0..T-1.
func DefaultPositions(g *Graph, T int) *Node {
	return Iota(g, shapes.Make(dtypes.Int32, T), 0)
}

// CausalMask returns bool [T,T], true where key s ≤ query t (what may be attended).
func CausalMask(g *Graph, T int) *Node {
	return LowerTriangular(g, T)
}

// RMSNorm is HF's LlamaRMSNorm: x·rsqrt(mean(x²)+eps)·weight over the last axis, computed in float32.
func RMSNorm(x, weight *Node, eps float64) *Node {
	dt := x.DType()
	if dt != dtypes.Float32 {
		x = ConvertDType(x, dtypes.Float32)
	}
	variance := ReduceAndKeep(Square(x), ReduceMean, -1)
	// x·(1/√(v+ε)) as torch's x·rsqrt(v+ε) (Rsqrt has no gradient in GoMLX): the reciprocal is computed on the
	// [..,1] column. A Div by the broadcast column would cost six full-size ops in its gradient (GoMLX
	// materializes the broadcast, then v/b, b², a/b², v·…, −…), a Mul three.
	out := Mul(Mul(x, Reciprocal(Sqrt(AddScalar(variance, eps)))), lastAxis(weight, x.Rank()))
	if dt != dtypes.Float32 {
		out = ConvertDType(out, dt)
	}
	return out
}

// RoPE applies HF rotary embeddings to x [B,T,N,Dh] at positions (int [T] or [B,T]): x·cos + rotate_half(x)·sin
// with the frequencies of RopeInvFreq repeated over both halves (HF: cat(freqs, freqs)).
//
// rotate_half is a multiplication by a constant signed permutation matrix instead of Slice+Concatenate, because
// second-order gradients through Slice fail on the go backend (MAML needs them).
func RoPE(cfg Config, x, positions *Node) *Node {
	g := x.Graph()
	if x.Rank() != 4 {
		panic(fmt.Sprintf("models.RoPE: x must be [B,T,N,Dh], got %s", x.Shape()))
	}
	T, dh := x.Shape().Dimensions[1], x.Shape().Dimensions[3]
	half := dh / 2
	freqs := RopeInvFreq(cfg)
	if len(freqs) != half {
		panic(fmt.Sprintf("models.RoPE: x %s does not match head_dim %d", x.Shape(), cfg.HeadDim))
	}
	inv := make([]float32, dh)
	rot := make([]float32, dh*dh) // rot[i*dh+j]: (x @ rot)[j] = rotate_half(x)[j]
	for i := range half {
		inv[i], inv[i+half] = freqs[i], freqs[i]
		rot[(i+half)*dh+i] = -1 // out[j<half] = -x[j+half]
		rot[i*dh+i+half] = 1    // out[j≥half] = x[j-half]
	}
	pos := ConvertDType(positions, dtypes.Float32)
	var angles *Node
	switch pos.Rank() {
	case 1: // [T] → [1,T,1,Dh]
		angles = Mul(Reshape(pos, 1, T, 1, 1), Const(g, tensors.FromFlatDataAndDimensions(inv, 1, 1, 1, dh)))
	case 2: // [B,T] → [B,T,1,Dh]
		angles = Mul(Reshape(pos, pos.Shape().Dimensions[0], T, 1, 1), Const(g, tensors.FromFlatDataAndDimensions(inv, 1, 1, 1, dh)))
	default:
		panic(fmt.Sprintf("models.RoPE: positions must be [T] or [B,T], got %s", positions.Shape()))
	}
	if d := pos.Shape().Dimensions; d[len(d)-1] != T {
		panic(fmt.Sprintf("models.RoPE: positions %s do not match T=%d", positions.Shape(), T))
	}
	rotated := Einsum("btnd,de->btne", x, Const(g, tensors.FromFlatDataAndDimensions(rot, dh, dh)))
	// cos/sin broadcast over the heads once: a [.,T,1,Dh] operand against [B,T,N,Dh] is a middle-axis broadcast,
	// which the go backend runs through its generic index iterator (forward and backward); [.,T,N,Dh] is a
	// leading-axis (or no) broadcast, which has SIMD kernels.
	ad := angles.Shape().Dimensions
	perHead := func(n *Node) *Node { return BroadcastToDims(n, ad[0], T, x.Shape().Dimensions[2], dh) }
	return Add(Mul(x, perHead(Cos(angles))), Mul(rotated, perHead(Sin(angles))))
}

// lastAxis reshapes a vector [n] to [1,…,1,n] of the given rank: binary ops here need equal ranks to broadcast.
func lastAxis(v *Node, rank int) *Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = v.Shape().Size()
	return Reshape(v, dims...)
}

// minMatmulRows: the go backend's small matmul kernels compute 4 rows of the left operand at a time and fall
// back to scalar loops for the rows that do not fill a tile, so a product with 1–3 rows (a decode step: one
// token) ran ≈7× slower than the same product padded to 4 rows.
const minMatmulRows = 4

// blockedMatmulMACs is the go backend's switch (compute v0.1.14, matmul.SmallMatMulSizeThreshold): a product
// of at least this many multiply-adds runs the blocked kernel, which packs both operands on every call.
const blockedMatmulMACs = 4 << 20

// maxMulReduceElems caps the w-sized float32 temporary of the Mul+ReduceSum product (the backend materializes
// the product before reducing it): 16 M elements (64 MB) covers the MLP of a 0.5B (4.4 M) and a 1.5B model
// (13.8 M), while an LM head (136 M elements at 0.5B: a 544 MB temporary, measured +1.0 GB peak RSS) stays a Dot.
const maxMulReduceElems = 16 << 20

// matmulT is x·wᵀ for x [N,in] and w [out,in] (the layout of HF weights), returning [N,out]. Fewer than
// minMatmulRows rows are padded with zero rows for the product and sliced off after it, as long as the padded
// product stays under blockedMatmulMACs (nano and micro decode, a 0.5B model's attention projections).
//
// A larger one-row product (a real-size decode step) would run the blocked kernel, which re-packs all of w on
// every token, so instead:
//   - under blockedMatmulMACs unpadded it is w·xᵀ [out,1] (the same memory as [1,out]): the unpacked kernel
//     with w's rows on its tiled side;
//   - up to maxMulReduceElems (the MLP) it is Mul+ReduceSum, which streams w once;
//   - beyond (the LM head) it is w·xᵀ again: still blocked, but w is then packed by the kernel's vectorized
//     left-operand packer instead of the scalar one, and no temporary the size of w is needed.
//
// Measured (CPU per call, x [1,in], 2 shared cores; padded Dot → chosen form):
// 1536×1536 2.58 → 0.84 ms, 4864×896 5.6 → 2.9 ms, 896×4864 5.1 → 3.5 ms, 8960×1536 15.4 → 11.4 ms,
// 32768×896 38.7 → 34.9 ms. w·xᵀ on products that fit padded (nano) made nano decode 2.2× slower.
func matmulT(x, w *Node) *Node {
	n := x.Shape().Dimensions[0]
	if out, in := w.Shape().Dimensions[0], w.Shape().Dimensions[1]; n == 1 && minMatmulRows*out*in >= blockedMatmulMACs {
		if out*in >= blockedMatmulMACs && out*in <= maxMulReduceElems {
			return InsertAxes(ReduceSum(Mul(w, x), 1), 0)
		}
		return Reshape(Dot(w, x).General([]int{1}, nil, []int{1}, nil), 1, out)
	}
	x = padRows(x, 0, minMatmulRows)
	y := Dot(x, w).General([]int{1}, nil, []int{1}, nil)
	return unpadRows(y, 0, n)
}

// loraDelta is (x·Aᵀ)·Bᵀ for x [N,in], A [r,in], B [out,r]; [N,out]. The association is chosen by shape,
// because the go backend runs a matmul without copies only when the left operand contracts its last axis:
// GoMLX's gradient of a weight contracts the token axis, so the backend transposes both operands first.
//   - in > out: xaᵀ = A·xᵀ [r,N] puts the token axis last, so dA = d(xaᵀ)·x needs no transpose; only small
//     [N,r]-sized operands are transposed (down_proj, and k/v_proj under GQA).
//   - otherwise: xa·(Bᵀ) with Bᵀ [r,out] materialized (tiny) runs the rank-r product in the kernel that
//     vectorizes over out instead of dot products of length r.
//
// Measured per projection (N 512, r 8, forward + LoRA gradients, CPU): 128→384 2.03 → 1.45 ms,
// 384→128 1.40 → 1.08 ms, 128→128 0.78 → 0.65 ms, 128→64 0.59 → 0.43 ms.
func loraDelta(x, a, b *Node) *Node {
	in, out := a.Shape().Dimensions[1], b.Shape().Dimensions[0]
	if x.Shape().Dimensions[0] < minMatmulRows {
		return matmulT(matmulT(x, a), b) // decode: the padded row-major products
	}
	if in > out {
		xaT := Dot(a, x).General([]int{1}, nil, []int{1}, nil) // [r,N]
		return Dot(xaT, b).General([]int{0}, nil, []int{1}, nil)
	}
	xa := Dot(x, a).General([]int{1}, nil, []int{1}, nil) // [N,r]
	return Dot(xa, Transpose(b, 0, 1)).General([]int{1}, nil, []int{0}, nil)
}

// padRows appends zero rows along axis until it has at least rows entries (no-op when it has).
func padRows(x *Node, axis, rows int) *Node {
	n := x.Shape().Dimensions[axis]
	if n >= rows {
		return x
	}
	dims := slices.Clone(x.Shape().Dimensions)
	dims[axis] = rows - n
	return Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), dims...))}, axis)
}

// unpadRows keeps the first n entries of axis (no-op when that is all of them).
func unpadRows(x *Node, axis, n int) *Node {
	if x.Shape().Dimensions[axis] == n {
		return x
	}
	spec := make([]SliceAxisSpec, x.Rank())
	for i := range spec {
		spec[i] = AxisRange()
	}
	spec[axis] = AxisRange(0, n)
	return Slice(x, spec...)
}

// loraTargets lists the module names LoRA may target, in canonical order:
// every linear layer of a Llama/Qwen2 block. The one list: the config file,
// PEFT loading and adapter validation all read it (LoRATargets).
var loraTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// LoRATargets returns the module types LoRA may target, in canonical order.
func LoRATargets() []string { return slices.Clone(loraTargets) }

// Project applies the linear module named module (e.g. "model.layers.0.self_attn.q_proj") to x [...,in]:
// x·Wᵀ (+ bias when w has module+".bias") (+ PEFT LoRA scale·(x·Aᵀ)·Bᵀ when opt.LoRA targets this module type).
//
// The products run on x flattened to [N,in]: the gradient of a weight contracts over the leading (token) axis,
// which the backend's matmul kernels only take after transposing both operands, and a 2-D transpose has a fast
// tiled kernel where the [B,T,·] → [·,B,T] one walks a generic index iterator (a quarter of a LoRA step).
func Project(w Weights, module string, x *Node, opt ForwardOptions) *Node {
	dims := x.Shape().Dimensions
	if x.Rank() > 2 {
		x = Reshape(x, -1, dims[len(dims)-1])
	}
	y := matmulT(x, w.need(module+".weight"))
	if b, ok := w[module+".bias"]; ok && b != nil {
		y = Add(y, lastAxis(b, y.Rank()))
	}
	if opt.LoRA != nil && slices.Contains(opt.LoRA.Targets, module[strings.LastIndexByte(module, '.')+1:]) {
		a, b := opt.Adapter.need(module+".lora_A"), opt.Adapter.need(module+".lora_B")
		// The scale goes on B ([out,r]), not on the [N,out] product: one small op instead of a large one,
		// forward and backward.
		y = Add(y, loraDelta(x, a, MulScalar(b, opt.LoRA.Scale())))
	}
	if opt.ProjectHook != nil {
		y = opt.ProjectHook(module, x, y)
	}
	if len(dims) > 2 {
		outDims := append(slices.Clone(dims[:len(dims)-1]), y.Shape().Dimensions[1])
		y = Reshape(y, outDims...)
	}
	return y
}

// QKV computes the rotary-embedded queries [B,T,NumHeads,Dh] and keys, plus values [B,T,NumKVHeads,Dh], of
// layer i for x [B,T,H] (already normalized). KV-cache code stores k and v and calls ScaledDotAttention.
func QKV(cfg Config, w Weights, layer int, x, positions *Node, opt ForwardOptions) (q, k, v *Node) {
	pre := fmt.Sprintf("model.layers.%d.self_attn.", layer)
	B, T := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
	q = Reshape(Project(w, pre+"q_proj", x, opt), B, T, cfg.NumHeads, cfg.HeadDim)
	k = Reshape(Project(w, pre+"k_proj", x, opt), B, T, cfg.NumKVHeads, cfg.HeadDim)
	v = Reshape(Project(w, pre+"v_proj", x, opt), B, T, cfg.NumKVHeads, cfg.HeadDim)
	return RoPE(cfg, q, positions), RoPE(cfg, k, positions), v
}

// ScaledDotAttention is softmax(q·kᵀ/√Dh + mask)·v with grouped-query attention: q [B,T,NumHeads,Dh],
// k and v [B,S,NumKVHeads,Dh]; query head h uses KV head h/(NumHeads/NumKVHeads), as HF's repeat_kv.
// mask is bool [T,S] or [B,T,S], true where attending is allowed (every query row needs one true).
// Returns [B,T,NumHeads·Dh].
func ScaledDotAttention(cfg Config, q, k, v, mask *Node) *Node {
	B, T := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	S := k.Shape().Dimensions[1]
	KV, R, Dh := cfg.NumKVHeads, cfg.NumHeads/cfg.NumKVHeads, cfg.HeadDim
	// Head-major operands, [B,KV,R·T,Dh] and [B,KV,S,Dh], grouping the query heads so K/V are never repeated:
	// with (batch, kv head) as leading batch axes every product and its gradient's forward operands are in the
	// backend's matmul layouts, and these transposes keep the last axis (fast copies) — the 5-D einsums made the
	// backend transpose with the last axis moving (its generic index iterator).
	qh := Reshape(TransposeAllAxes(Reshape(q, B, T, KV, R, Dh), 0, 2, 3, 1, 4), B, KV, R*T, Dh)
	kh, vh := TransposeAllAxes(k, 0, 2, 1, 3), TransposeAllAxes(v, 0, 2, 1, 3)
	scores := MulScalar(Dot(qh, kh).General([]int{3}, []int{0, 1}, []int{3}, []int{0, 1}), 1/math.Sqrt(float64(Dh)))
	// An additive bias keeps the masked positions off the gradient path (plain Add, trivially differentiable).
	var mb int
	switch mask.Rank() {
	case 2:
		mb = 1
	case 3:
		mb = mask.Shape().Dimensions[0]
	default:
		panic(fmt.Sprintf("models.ScaledDotAttention: mask must be [T,S] or [B,T,S], got %s", mask.Shape()))
	}
	bias := MulScalar(AddScalar(ConvertDType(mask, scores.DType()), -1), 1e30)
	scores = Add(Reshape(scores, B, KV, R, T, S), Reshape(bias, mb, 1, 1, T, S))
	probs := Reshape(softmaxLast(scores), B, KV, R*T, S)
	out := Dot(probs, vh).General([]int{3}, []int{0, 1}, []int{2}, []int{0, 1}) // [B,KV,R·T,Dh]
	out = TransposeAllAxes(Reshape(out, B, KV, R, T, Dh), 0, 3, 1, 2, 4)        // [B,T,KV,R,Dh]
	return Reshape(out, B, T, cfg.NumHeads*Dh)
}

// softmaxLast is a decomposed softmax over the last axis: built from plain ops so that it can be differentiated
// twice (the backend's fused softmax is not guaranteed to be).
func softmaxLast(x *Node) *Node {
	shifted := Sub(x, StopGradient(ReduceAndKeep(x, ReduceMax, -1)))
	e := Exp(shifted)
	return Mul(e, Reciprocal(ReduceAndKeep(e, ReduceSum, -1))) // Mul by the column's reciprocal: see RMSNorm
}

// Attention is the full self-attention block of layer i on x [B,T,H] (already normalized): QKV, RoPE,
// ScaledDotAttention under mask, then o_proj. Returns [B,T,H].
func Attention(cfg Config, w Weights, layer int, x, positions, mask *Node, opt ForwardOptions) *Node {
	q, k, v := QKV(cfg, w, layer, x, positions, opt)
	return Project(w, fmt.Sprintf("model.layers.%d.self_attn.o_proj", layer), ScaledDotAttention(cfg, q, k, v, mask), opt)
}

// MLP is the SwiGLU feed-forward block of layer i: down(silu(gate(x))·up(x)).
func MLP(cfg Config, w Weights, layer int, x *Node, opt ForwardOptions) *Node {
	pre := fmt.Sprintf("model.layers.%d.mlp.", layer)
	gate := Project(w, pre+"gate_proj", x, opt)
	up := Project(w, pre+"up_proj", x, opt)
	return Project(w, pre+"down_proj", swiGLU(gate, up, opt.FirstOrderOnly), opt)
}

// swiGLU is silu(g)·u = g·σ(g)·u. Differentiated as written, the backward pass keeps four [N,FF] tensors
// (g, σ, g·σ, u) besides the product: at a 1.5B model and 2×128 tokens that is 37 MB a layer, 1 GB in all.
// With firstOrder the gradient is given in closed form — ∂/∂g = u·σ·(1 + g·(1−σ)), ∂/∂u = g·σ, computed in the
// forward pass and held constant — so only those two are kept: y + (g − g)·∂g + (u − u)·∂u has y's value
// exactly and these first derivatives, but no second ones.
func swiGLU(g, u *Node, firstOrder bool) *Node {
	sig := Logistic(g)
	silu := Mul(g, sig)
	if !firstOrder {
		return Mul(silu, u)
	}
	dg := StopGradient(Mul(u, Mul(sig, AddScalar(Mul(g, OneMinus(sig)), 1))))
	du := StopGradient(silu)
	y := StopGradient(Mul(silu, u))
	return Add(y, Add(Mul(Sub(g, StopGradient(g)), dg), Mul(Sub(u, StopGradient(u)), du)))
}

// DecoderLayer is one pre-norm residual block: h = x + Attention(norm(x)); h + MLP(norm(h)).
func DecoderLayer(cfg Config, w Weights, layer int, x, positions, mask *Node, opt ForwardOptions) *Node {
	pre := fmt.Sprintf("model.layers.%d.", layer)
	h := Add(x, Attention(cfg, w, layer, RMSNorm(x, w.need(pre+"input_layernorm.weight"), cfg.RMSNormEps), positions, mask, opt))
	return Add(h, MLP(cfg, w, layer, RMSNorm(h, w.need(pre+"post_attention_layernorm.weight"), cfg.RMSNormEps), opt))
}

// CausalLMLoss is the mean cross-entropy of logits [B,T,V] against targets int [B,T], weighted by weights
// float32 [B,T] (1 where a target counts): Σ w·CE / Σ w, 0 when nothing counts. It uses a one-hot product
// instead of Slice/Gather so that it can be differentiated twice. See ShiftTargets.
func CausalLMLoss(logits, targets, weights *Node) *Node {
	V := logits.Shape().Dimensions[logits.Rank()-1]
	logp := LogSoftmax(logits, -1) // decomposed with a StopGradient max: twice differentiable
	nll := Neg(ReduceSum(Mul(logp, OneHot(targets, V, logp.DType())), -1))
	weights = ConvertDType(weights, logp.DType())
	total := ReduceAllSum(Mul(nll, weights))
	// Max(Σw, tiny) keeps an all-zero weight batch at loss 0 instead of NaN.
	return Div(total, MaxScalar(ReduceAllSum(weights), 1e-12))
}

// ShiftTargets prepares CausalLMLoss inputs for a batch of token rows (which may have different lengths; the
// outputs are right-padded to the longest row, like the ids the caller feeds the model): targets[b][t] =
// ids[b][t+1], weights[b][t] = 1 when t+1 < len(ids[b]) and t+1 ≥ lossFrom[b] (the first token whose
// prediction counts, e.g. the start of an answer). lossFrom may be nil (every next token counts); values < 1
// are treated as 1.
func ShiftTargets(ids [][]int32, lossFrom []int) (targets [][]int32, weights [][]float32) {
	T := 0
	for _, row := range ids {
		T = max(T, len(row))
	}
	targets = make([][]int32, len(ids))
	weights = make([][]float32, len(ids))
	for b, row := range ids {
		from := 1
		if lossFrom != nil && lossFrom[b] > 1 {
			from = lossFrom[b]
		}
		targets[b] = make([]int32, T)
		weights[b] = make([]float32, T)
		for t := 0; t+1 < len(row); t++ {
			targets[b][t] = row[t+1]
			if t+1 >= from {
				weights[b][t] = 1
			}
		}
	}
	return targets, weights
}
