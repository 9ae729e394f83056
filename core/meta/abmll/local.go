package abmll

// Local reparameterization (Kingma, Salimans & Welling 2015) — abmll at real
// size without any [out,in] tensor.
//
// For y = x(W₀ + ΔW)ᵀ with ΔW elementwise N(μ, σ²), each output is Gaussian:
//
//	y ~ N(x W₀ᵀ + x μᵀ, (x⊙x)(σ⊙σ)ᵀ)
//
// With μ = s·B_μA_μ the mean term is a plain LoRA. With σ = P + c, P = B_σA_σ,
//
//	σ⊙σ = P⊙P + 2c·P + c²,   P⊙P = (B_σ•B_σ)(A_σ•A_σ)
//
// where • is the row-wise Kronecker (face-splitting) product — B•B [out,r²],
// A•A [r²,in] (column j is A[:,j]⊗A[:,j]) — so the output variance is
// (x²·(A•A)ᵀ)·(B•B)ᵀ + 2c·(x²·Aᵀ)·Bᵀ + c²·Σx², all products of rank ≤ r².
// The draw is y + √var ⊙ ε with ε ~ N(0, 1) over outputs.
//
// Deviation: ε is independent per token and per module output, so each
// output's marginal is exact but the joint is not — the dense sampler shares
// one ΔW across every token of a sequence and the batch (the LRT estimator
// has lower variance for the same expectation of a per-token loss; the
// per-sequence correlation of the noise is lost). Dense sampling stays the
// default where ΔW fits (Sampling "auto").
//
// KL terms. KL(N(μq,σq²) ‖ N(μp,σp²)) summed over ΔW's elements needs
// Σ log σ², Σ σq²/σp² and Σ (μq−μp)²/σp². With a constant σp (the global KL
// to the hyperprior N(0, σ₀²)) the quadratic sums have low-rank closed forms,
// Σ(BA)⊙(BA) = Σ (BᵀB)⊙(AAᵀ) and Σ BA = (1ᵀB)(A1); Σ log σ² has none, and
// neither has the task KL's ratio σq²/σp² between two low-rank-plus-constant
// matrices. Those are computed over row chunks of at most klChunkElems
// elements, their gradient formed in the forward pass (the surrogate
// sg(value) + Σ f⊙sg(∂/∂f)) so that the backward pass keeps no chunk alive,
// and each chunk waits for the previous one. That gradient is first-order
// only: SecondOrder keeps the dense KL (small models).

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified

	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
)

// Sampling modes of meta.ABMLLOptions.Sampling.
const (
	SamplingDense = "dense" // ΔW = μ + σ⊙ε formed per module: exact joint, one ΔW per draw
	SamplingLocal = "local" // local reparameterization: output noise, no [out,in] tensor
	SamplingAuto  = "auto"  // local when the dense ΔW of all modules exceeds DenseBudgetElems
)

// DenseBudgetElems is auto's limit on the ΔW elements of all targeted
// modules (16 M: 64 MB per float32 copy; a dense draw's graph holds several
// copies plus their gradients). Nano and micro models stay far below it; a
// Qwen2.5-0.5B with every projection targeted has 358 M.
const DenseBudgetElems = 16 << 20

// klChunkElems bounds the elements of one dense KL block.
var klChunkElems = 1 << 20 // a variable so tests can force several blocks

// UseLocal resolves a sampling mode for modules of the given [out,in] shapes.
func UseLocal(mode string, shapes [][2]int) (bool, error) {
	switch mode {
	case SamplingDense:
		return false, nil
	case SamplingLocal:
		return true, nil
	case SamplingAuto, "":
		n := 0
		for _, s := range shapes {
			n += s[0] * s[1]
		}
		return n > DenseBudgetElems, nil
	}
	return false, fmt.Errorf("meta: abmll sampling %q (want dense, local or auto)", mode)
}

// rowKron is the row-wise Kronecker square of m [n,r]: [n, r²], row i = m_i ⊗ m_i.
func rowKron(m *Node) *Node {
	n, r := m.Shape().Dimensions[0], m.Shape().Dimensions[1]
	return Reshape(Mul(InsertAxes(m, 2), InsertAxes(m, 1)), n, r*r)
}

// colKron is the column-wise Kronecker square of m [r,n]: [r², n], column j = m[:,j] ⊗ m[:,j].
func colKron(m *Node) *Node {
	r, n := m.Shape().Dimensions[0], m.Shape().Dimensions[1]
	return Reshape(Mul(InsertAxes(m, 1), InsertAxes(m, 0)), r*r, n)
}

// contractLast is x·mᵀ for x [N,k], m [M,k]: [N,M].
func contractLast(x, m *Node) *Node { return Dot(x, m).General([]int{1}, nil, []int{1}, nil) }

// OutputVariance is (x⊙x)(σ⊙σ)ᵀ for σ = B·A + c, x [N,in], A [r,in], B [out,r]: [N,out], with no [out,in]
// tensor.
func OutputVariance(x, a, b *Node, c float64) *Node {
	x2 := Square(x)
	v := contractLast(contractLast(x2, colKron(a)), rowKron(b)) // (x²·(A•A)ᵀ)·(B•B)ᵀ = x²·(P⊙P)ᵀ
	v = Add(v, MulScalar(contractLast(contractLast(x2, a), b), 2*c))
	return Add(v, MulScalar(InsertAxes(ReduceSum(x2, -1), -1), c*c)) // [N,1] broadcast over out
}

// SumSquares is Σ (B·A)⊙(B·A) = Σ (BᵀB)⊙(AAᵀ) for A [r,in], B [out,r].
func SumSquares(a, b *Node) *Node {
	return ReduceAllSum(Mul(Dot(b, b).General([]int{0}, nil, []int{0}, nil), contractLast(a, a)))
}

// SumProduct is Σ B·A = (1ᵀB)(A1).
func SumProduct(a, b *Node) *Node {
	return ReduceAllSum(Mul(ReduceSum(b, 0), ReduceSum(a, 1)))
}

// localNoise is the ProjectHook adding √var⊙ε to every posterior module's
// output; the RNG state is threaded through the calls in forward order.
type localNoise struct {
	sig    map[string][2]*Node // module → (A_σ, B_σ)
	offset float64
	rng    *Node
}

func (l *localNoise) hook(module string, x, y *Node) *Node {
	f, ok := l.sig[module]
	if !ok {
		return y
	}
	v := OutputVariance(x, f[0], f[1], l.offset)
	var eps *Node
	l.rng, eps = RandomNormal(l.rng, y.Shape())
	// σ⊙σ ≥ 0 exactly; the floor only absorbs rounding (no gradient below it).
	return Add(y, Mul(Sqrt(MaxScalar(v, 1e-20)), eps))
}

// localHook is the scorer's hook factory for the σ factors of mods (bound
// by adapter name: mod.lora_A is A_σ, mod.lora_B is B_σ).
func localHook(mods []string, offset float64) func(p models.Weights, rng *Node) func(module string, x, y *Node) *Node {
	return func(p models.Weights, rng *Node) func(module string, x, y *Node) *Node {
		noise := &localNoise{sig: map[string][2]*Node{}, offset: offset, rng: rng}
		for _, mod := range mods {
			noise.sig[mod] = [2]*Node{p[mod+".lora_A"], p[mod+".lora_B"]}
		}
		return noise.hook
	}
}

// LocalNLL is the NLL of batch b under one local-reparameterization draw
// from the Gaussian with factors f = (μ pairs…, σ pairs…) in names order:
// the mean pair runs as a LoRA of config lora, the σ pair as output noise.
// The loss is chunked over the vocabulary and first-order when firstOrder
// (see models.ChunkedLMLoss).
func LocalNLL(cfg models.Config, lora models.LoRAConfig, names []string, mods []string, offset float64, base models.Weights, b train.BatchNodes, firstOrder bool) SampleNLL {
	return func(rng *Node, f []*Node) (*Node, *Node) {
		muF, sigF := split(f)
		noise := &localNoise{sig: map[string][2]*Node{}, offset: offset, rng: rng}
		for i, mod := range mods {
			noise.sig[mod] = [2]*Node{sigF[2*i], sigF[2*i+1]}
		}
		l := lora
		opt := models.ForwardOptions{LoRA: &l, Adapter: models.Bind(names, muF), FirstOrderOnly: firstOrder, ProjectHook: noise.hook}
		h := models.Hidden(cfg, base, b.IDs, opt)
		var loss *Node
		if firstOrder {
			loss = models.ChunkedLMLoss(cfg, base, h, b.Targets, b.Weights, models.LossChunkElems)
		} else {
			loss = models.CausalLMLoss(models.Logits(cfg, base, h), b.Targets, b.Weights)
		}
		return loss, noise.rng
	}
}

// moduleFactors are one module's factors: mean pair (A, B) and sigma pair (A, B).
type moduleFactors struct{ muA, muB, sigA, sigB *Node }

func modulesOf(f []*Node) []moduleFactors {
	muF, sigF := split(f)
	out := make([]moduleFactors, len(muF)/2)
	for i := range out {
		out[i] = moduleFactors{muF[2*i], muF[2*i+1], sigF[2*i], sigF[2*i+1]}
	}
	return out
}

// rows slices rows [lo,hi) of m.
func rows(m *Node, lo, hi int) *Node { return Slice(m, AxisRange(lo, hi), AxisRange()) }

// withGradients is a node whose value is value and whose gradient w.r.t.
// each f[i] is g[i]: sg(value) + Σ f⊙sg(g) − sg(Σ f⊙g).
func withGradients(value *Node, f, g []*Node) *Node {
	out := StopGradient(value)
	for i := range f {
		if g[i] == nil {
			continue
		}
		t := ReduceAllSum(Mul(f[i], StopGradient(g[i])))
		out = Add(out, Sub(t, StopGradient(t)))
	}
	return out
}

// chunkRows is the rows per KL block of a module with in columns.
func chunkRows(in int) int { return max(1, klChunkElems/in) }

// lowRankGrads accumulates, for a block G = ∂k/∂M of rows [lo,hi) with
// M = scale·B·A, the factor gradients: dB[lo:hi] = scale·G·Aᵀ, dA += scale·B[lo:hi]ᵀ·G.
func lowRankGrads(g, a, bRows *Node, scale float64) (dBRows, dA *Node) {
	return MulScalar(contractLast(g, a), scale), MulScalar(Dot(bRows, g).General([]int{0}, nil, []int{0}, nil), scale)
}

// ChunkedTaskKL is Σ KL(q ‖ p) over every ΔW element of every module for
// factor lists q and p (θ/φ layout), computed in row blocks; its gradient
// w.r.t. both factor lists is exact and first-order.
func (ag ABMLLGraph) ChunkedTaskKL(q, p []*Node) *Node {
	qs, ps := modulesOf(q), modulesOf(p)
	var total, prev *Node
	var fs, gs []*Node
	c, s := ag.Offset, ag.Scale
	for i := range qs {
		fq, fp := qs[i], ps[i]
		sg := func(n *Node) *Node { return StopGradient(n) }
		qmA, qmB, qsA, qsB := sg(fq.muA), sg(fq.muB), sg(fq.sigA), sg(fq.sigB)
		pmA, pmB, psA, psB := sg(fp.muA), sg(fp.muB), sg(fp.sigA), sg(fp.sigB)
		out, in := qmB.Shape().Dimensions[0], qmA.Shape().Dimensions[1]
		step := chunkRows(in)
		var dqmB, dqsB, dpmB, dpsB []*Node
		var dqmA, dqsA, dpmA, dpsA *Node
		add := func(acc, v *Node) *Node {
			if acc == nil {
				return v
			}
			return Add(acc, v)
		}
		for lo := 0; lo < out; lo += step {
			hi := min(lo+step, out)
			qmb, qsb, pmb, psb := rows(qmB, lo, hi), rows(qsB, lo, hi), rows(pmB, lo, hi), rows(psB, lo, hi)
			if prev != nil { // one block at a time: every dense product waits for the previous block
				z := MulScalar(prev, 0)
				qmb, qsb, pmb, psb = Add(qmb, z), Add(qsb, z), Add(pmb, z), Add(psb, z)
			}
			d := Sub(MulScalar(MatMul(qmb, qmA), s), MulScalar(MatMul(pmb, pmA), s))
			sq := AddScalar(MatMul(qsb, qsA), c)
			sp := AddScalar(MatMul(psb, psA), c)
			sq2, sp2 := Square(sq), Square(sp)
			num := Add(sq2, Square(d))
			k := Add(MulScalar(Log(Div(sp2, sq2)), 0.5), Div(num, MulScalar(sp2, 2)))
			blockKL := AddScalar(ReduceAllSum(k), -0.5*float64((hi-lo)*in))
			gmu := Div(d, sp2)                                 // ∂k/∂μq = −∂k/∂μp
			gsq := Sub(Div(sq, sp2), Reciprocal(sq))           // ∂k/∂σq
			gsp := Sub(Reciprocal(sp), Div(num, Mul(sp2, sp))) // ∂k/∂σp
			b1, a1 := lowRankGrads(gmu, qmA, qmb, s)
			dqmB, dqmA = append(dqmB, b1), add(dqmA, a1)
			b2, a2 := lowRankGrads(Neg(gmu), pmA, pmb, s)
			dpmB, dpmA = append(dpmB, b2), add(dpmA, a2)
			b3, a3 := lowRankGrads(gsq, qsA, qsb, 1)
			dqsB, dqsA = append(dqsB, b3), add(dqsA, a3)
			b4, a4 := lowRankGrads(gsp, psA, psb, 1)
			dpsB, dpsA = append(dpsB, b4), add(dpsA, a4)
			total = add(total, blockKL)
			prev = blockKL
		}
		cat := func(b []*Node) *Node { return Concatenate(b, 0) }
		fs = append(fs, fq.muA, fq.muB, fq.sigA, fq.sigB, fp.muA, fp.muB, fp.sigA, fp.sigB)
		gs = append(gs, dqmA, cat(dqmB), dqsA, cat(dqsB), dpmA, cat(dpmB), dpsA, cat(dpsB))
	}
	return withGradients(total, fs, gs)
}

// LowRankGlobalKL is KL(N(μ_θ, σ_θ²) ‖ N(0, σ₀²)) summed over every ΔW
// element: the quadratic sums in closed form (rank r, autodiff), Σ log σ² in
// row blocks with its gradient formed in the forward pass.
func (ag ABMLLGraph) LowRankGlobalKL(theta []*Node) *Node {
	s0 := ag.PriorStd
	c, s := ag.Offset, ag.Scale
	var total, logSum, prev *Node
	var fs, gs []*Node
	n := 0
	for _, f := range modulesOf(theta) {
		out, in := f.muB.Shape().Dimensions[0], f.muA.Shape().Dimensions[1]
		n += out * in
		sumSig2 := Add(Add(SumSquares(f.sigA, f.sigB), MulScalar(SumProduct(f.sigA, f.sigB), 2*c)), Scalar(f.sigA.Graph(), f.sigA.DType(), c*c*float64(out*in)))
		sumMu2 := MulScalar(SumSquares(f.muA, f.muB), s*s)
		quad := MulScalar(Add(sumSig2, sumMu2), 1/(2*s0*s0))
		if total == nil {
			total = quad
		} else {
			total = Add(total, quad)
		}
		// Σ log σ² = Σ 2 log|B_σA_σ + c|, ∂/∂σ = 2/σ.
		a, b := StopGradient(f.sigA), StopGradient(f.sigB)
		var dB []*Node
		var dA *Node
		for lo := 0; lo < out; lo += chunkRows(in) {
			hi := min(lo+chunkRows(in), out)
			br := rows(b, lo, hi)
			if prev != nil {
				br = Add(br, MulScalar(prev, 0))
			}
			sig := AddScalar(MatMul(br, a), c)
			blk := ReduceAllSum(Log(Square(sig)))
			db, da := lowRankGrads(MulScalar(Reciprocal(sig), 2), a, br, 1)
			dB = append(dB, db)
			if dA == nil {
				dA = da
			} else {
				dA = Add(dA, da)
			}
			if logSum == nil {
				logSum = blk
			} else {
				logSum = Add(logSum, blk)
			}
			prev = blk
		}
		fs = append(fs, f.sigA, f.sigB)
		gs = append(gs, dA, Concatenate(dB, 0))
	}
	logTerm := withGradients(logSum, fs, gs)
	// ½ log σ₀² − ½ log σ² + (σ² + μ²)/(2σ₀²) − ½ per element.
	return Add(Sub(total, MulScalar(logTerm, 0.5)), Scalar(total.Graph(), total.DType(), float64(n)*(math.Log(s0*s0)-1)/2))
}
