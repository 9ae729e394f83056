// Package train holds the workbench's functional optimizers, batch builders,
// train-step executables, the training loop and multiple-choice scoring.
package train

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
)

// AdamConfig configures Adam / AdamW.
type AdamConfig struct {
	Beta1, Beta2, Eps float64
	// WeightDecay > 0 turns Adam into AdamW: the decay is decoupled from the
	// gradient (p ← p − lr·wd·p), as in PyTorch's AdamW.
	WeightDecay float64
	// ClipNorm > 0 rescales all gradients together so their global L2 norm is
	// at most ClipNorm (torch.nn.utils.clip_grad_norm_).
	ClipNorm float64
}

// DefaultAdam returns PyTorch's Adam defaults (β1 0.9, β2 0.999, ε 1e-8), no
// weight decay, gradient clipping at norm 1.
func DefaultAdam() AdamConfig {
	return AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, ClipNorm: 1}
}

// ClipByGlobalNorm scales grads by min(1, maxNorm/‖grads‖) and returns them
// with the pre-clipping global norm. maxNorm <= 0 leaves grads unchanged.
func ClipByGlobalNorm(grads []*Node, maxNorm float64) ([]*Node, *Node) {
	if len(grads) == 0 {
		return grads, nil
	}
	g := grads[0].Graph()
	dt := grads[0].DType()
	sq := ScalarZero(g, dt)
	for _, gr := range grads {
		sq = Add(sq, ReduceAllSum(Square(gr)))
	}
	norm := Sqrt(sq)
	if maxNorm <= 0 {
		return grads, norm
	}
	// The 1e-6 matches torch's clip_grad_norm_ and keeps a zero norm finite.
	scale := Min(ScalarOne(g, dt), Div(Scalar(g, dt, maxNorm), AddScalar(norm, 1e-6)))
	out := make([]*Node, len(grads))
	for i, gr := range grads {
		out[i] = Mul(gr, scale)
	}
	return out, norm
}

// AdamUpdate applies one Adam(W) step as graph ops. step is the 1-based step
// number (a scalar of the params' dtype, fed as an input so the graph does
// not change per step), lr a scalar input (so the loop can lower it without a
// recompilation). It returns the new params and moments in input order; the
// moments of a fresh run are zeros. Gradients must be clipped beforehand.
func AdamUpdate(cfg AdamConfig, lr, step *Node, params, grads, m, v []*Node) (newP, newM, newV []*Node) {
	if len(params) == 0 {
		return nil, nil, nil
	}
	upd, newM, newV := AdamDirections(cfg, lr, step, grads, m, v)
	newP = make([]*Node, len(params))
	for i, p := range params {
		np := p
		if cfg.WeightDecay > 0 {
			np = Sub(np, Mul(MulScalar(lr, cfg.WeightDecay), p))
		}
		newP[i] = Sub(np, upd[i])
	}
	return
}

// AdamDirections returns Adam's update terms lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε), to be subtracted from the
// params, and the new moments (AdamUpdate without the subtraction or weight decay).
func AdamDirections(cfg AdamConfig, lr, step *Node, grads, m, v []*Node) (upd, newM, newV []*Node) {
	if len(grads) == 0 {
		return nil, nil, nil
	}
	g := grads[0].Graph()
	dt := grads[0].DType()
	b1, b2 := cfg.Beta1, cfg.Beta2
	// Bias corrections 1−β^t computed in-graph from the step input.
	bc1 := OneMinus(Pow(Scalar(g, dt, b1), step))
	bc2 := OneMinus(Pow(Scalar(g, dt, b2), step))
	stepSize := Div(lr, bc1)
	sqrtBC2 := Sqrt(bc2)
	upd = make([]*Node, len(grads))
	newM = make([]*Node, len(grads))
	newV = make([]*Node, len(grads))
	for i, gr := range grads {
		mi := Add(MulScalar(m[i], b1), MulScalar(gr, 1-b1))
		vi := Add(MulScalar(v[i], b2), MulScalar(Square(gr), 1-b2))
		// PyTorch's form: p −= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε).
		denom := AddScalar(Div(Sqrt(vi), sqrtBC2), cfg.Eps)
		upd[i] = Mul(stepSize, Div(mi, denom))
		newM[i], newV[i] = mi, vi
	}
	return
}

// AllFinite returns a boolean scalar: true iff every element of xs is finite.
// Steps whose loss or gradient norm are not finite are rejected by the loop.
func AllFinite(xs ...*Node) *Node {
	var ok *Node
	for _, x := range xs {
		f := LogicalAll(IsFinite(x))
		if ok == nil {
			ok = f
		} else {
			ok = LogicalAnd(ok, f)
		}
	}
	return ok
}

// adamHost is the same update in float64 on the host, used by tests and as
// documentation of the exact formula.
func adamHost(cfg AdamConfig, lr float64, step int, p, g, m, v float64) (float64, float64, float64) {
	m = cfg.Beta1*m + (1-cfg.Beta1)*g
	v = cfg.Beta2*v + (1-cfg.Beta2)*g*g
	bc1 := 1 - math.Pow(cfg.Beta1, float64(step))
	bc2 := 1 - math.Pow(cfg.Beta2, float64(step))
	p = p - lr*cfg.WeightDecay*p - lr/bc1*m/(math.Sqrt(v)/math.Sqrt(bc2)+cfg.Eps)
	return p, m, v
}
