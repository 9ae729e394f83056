package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads much better unqualified
)

// LossChunkElems is the default logits budget of ChunkedLMLoss: rows are taken LossChunkElems/V at a time
// (55 rows of a 151,936-token vocabulary: 32 MB per V-wide temporary), and a batch whose whole logits fit
// (nano, micro, the tiny HF models) is not chunked at all.
const LossChunkElems = 8 << 20

// ChunkedLMLoss is CausalLMLoss(Logits(cfg, w, hidden), targets, weights) — hidden [B,T,H], targets int [B,T],
// weights [B,T] — computed over chunks of at most maxElems/V token rows, so that at no time does a [B·T,V]
// tensor exist: neither the logits, nor the log-probabilities, nor their gradient. At real size those are the
// largest tensors of a LoRA step (2×128 tokens × 151,936 = 156 MB each, half a dozen of them live). When the
// whole batch fits in maxElems it is CausalLMLoss itself (the same graph as before).
//
// A graph's backward pass would keep every chunk's softmax alive until it runs, so the gradient is formed in
// the forward pass instead: for each chunk, dLoss/dhidden = (softmax − onehot)·(w/Σw)·W_head, a [rows,H]
// product. The returned node is loss + (Σ hidden⊙G − StopGradient(Σ hidden⊙G)), G those gradients held
// constant: the value is the loss exactly (the bracket is x − x = 0) and the gradient w.r.t. hidden is G,
// i.e. everything upstream of hidden — LoRA factors, a SLOT δ, the base weights except the head — gets its
// exact first-order gradient. Each chunk waits for the previous one (a zero-valued dependency), so the
// backend's parallel executor cannot run all chunks side by side and hold their logits at once.
//
// Limits, by construction: the head weight (lm_head, or the tied embedding) is treated as a constant —
// a graph that trains it (a full fine-tuning step) must use CausalLMLoss — and the gradient is first-order
// only (MAML's second-order meta-gradient must use CausalLMLoss).
func ChunkedLMLoss(cfg Config, w Weights, hidden, targets, weights *Node, maxElems int) *Node {
	if hidden.Rank() != 3 || targets.Rank() != 2 || weights.Rank() != 2 {
		panic(fmt.Sprintf("models.ChunkedLMLoss: want hidden [B,T,H], targets and weights [B,T]; got %s, %s, %s",
			hidden.Shape(), targets.Shape(), weights.Shape()))
	}
	dims := hidden.Shape().Dimensions
	N, H, V := dims[0]*dims[1], dims[2], cfg.VocabSize
	rows := max(1, maxElems/V)
	if rows >= N {
		return CausalLMLoss(Logits(cfg, w, hidden), targets, weights)
	}
	head := w.need(headName(cfg))
	dt := hidden.DType()
	h := StopGradient(Reshape(hidden, N, H))
	tg := Reshape(targets, N)
	wt := ConvertDType(Reshape(weights, N), dt)
	denom := MaxScalar(ReduceAllSum(wt), 1e-12) // as CausalLMLoss: an all-zero batch has loss 0, not NaN

	var nlls, grads []*Node
	var prev *Node // the previous chunk's last result, to order the chunks
	for start := 0; start < N; start += rows {
		end := min(start+rows, N)
		hc := Slice(h, AxisRange(start, end), AxisRange())
		if prev != nil {
			hc = Add(hc, MulScalar(prev, 0))
		}
		logp := LogSoftmax(matmulT(hc, head), -1)                 // [rows,V]
		onehot := OneHot(Slice(tg, AxisRange(start, end)), V, dt) // [rows,V]
		nlls = append(nlls, Neg(ReduceSum(Mul(logp, onehot), -1)))
		scale := Div(Slice(wt, AxisRange(start, end)), denom) // dLoss/dnll_r = w_r/Σw
		dlogits := Mul(Sub(Exp(logp), onehot), InsertAxes(scale, -1))
		g := Dot(dlogits, head).General([]int{1}, nil, []int{0}, nil) // [rows,H]
		grads = append(grads, g)
		prev = ReduceAllSum(g)
	}
	// The value: the same per-row cross-entropies and weighted sum as CausalLMLoss.
	loss := Div(ReduceAllSum(Mul(Concatenate(nlls, 0), wt)), denom)
	G := StopGradient(Concatenate(grads, 0))
	link := ReduceAllSum(Mul(Reshape(hidden, N, H), G))
	return Add(StopGradient(loss), Sub(link, StopGradient(link)))
}

// headName is the weight that maps hidden states to logits: lm_head, or the embedding when they are tied.
func headName(cfg Config) string {
	if cfg.TieEmbeddings {
		return "model.embed_tokens.weight"
	}
	return "lm_head.weight"
}
