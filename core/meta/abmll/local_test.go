package abmll

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/meta/internal/metatest"
)

// randMat is a [r,c] float64 matrix of N(0, s²) entries.
func randMat(rng *rand.Rand, r, c int, s float64) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
		for j := range m[i] {
			m[i][j] = s * rng.NormFloat64()
		}
	}
	return m
}

// TestLocalMomentsMatchDenseSampler: for one module (out 4, in 5, rank 2) and
// three inputs, y = x(W₀ + ΔW)ᵀ with ΔW drawn densely has, over 20,000 draws,
// the mean x(W₀ + μ)ᵀ and variance (x⊙x)(σ⊙σ)ᵀ that the local
// reparameterization uses; OutputVariance equals the dense (x⊙x)(σ⊙σ)ᵀ to
// rounding; and the local sampler's own draws have the same moments.
func TestLocalMomentsMatchDenseSampler(t *testing.T) {
	const out, in, r, N, draws = 4, 5, 2, 3, 20000
	const s, c = 1.5, 0.05
	rng := rand.New(rand.NewPCG(1, 2))
	w0, x := randMat(rng, out, in, 0.5), randMat(rng, N, in, 1)
	muA, muB := randMat(rng, r, in, 0.3), randMat(rng, out, r, 0.3)
	sgA, sgB := randMat(rng, r, in, 0.3), randMat(rng, out, r, 0.3)
	state, err := RNGStateFromSeed(5)
	if err != nil {
		t.Fatal(err)
	}
	ag := ABMLLGraph{Scale: s, Offset: c}
	res, err := ExecOnceN(metatest.Backend(t), func(v []*Node) []*Node {
		W, X, mA, mB, sA, sB, st := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
		mu, sig := ag.Mean([]*Node{mA, mB})[0], ag.Sigma([]*Node{sA, sB})[0]
		// Dense: draws×[out,in] ΔW, y [draws,N,out].
		st, eps := RandomNormal(st, shapes.Make(dtypes.Float64, draws, out, in))
		dW := Add(InsertAxes(Add(W, mu), 0), Mul(InsertAxes(sig, 0), eps))
		yd := Einsum("doi,ni->dno", dW, X) // [draws,N,out]
		// Local: the hook on the mean output, draws times.
		mean := Add(MatMul(X, Transpose(W, 0, 1)), MatMul(X, Transpose(mu, 0, 1)))
		big := BroadcastToDims(InsertAxes(X, 0), draws, N, in)
		noise := &localNoise{sig: map[string][2]*Node{"m": {sA, sB}}, offset: c, rng: st}
		yl := noise.hook("m", Reshape(big, draws*N, in), Reshape(BroadcastToDims(InsertAxes(mean, 0), draws, N, out), draws*N, out))
		yl = Reshape(yl, draws, N, out)
		denseVar := MatMul(Square(X), Transpose(Square(sig), 0, 1))
		moments := func(y *Node) (*Node, *Node) {
			m := ReduceMean(y, 0)
			return m, ReduceMean(Square(Sub(y, InsertAxes(m, 0))), 0)
		}
		dm, dv := moments(yd)
		lm, lv := moments(yl)
		return []*Node{mean, OutputVariance(X, sA, sB, c), denseVar, dm, dv, lm, lv}
	}, w0, x, muA, muB, sgA, sgB, state)
	if err != nil {
		t.Fatal(err)
	}
	f := func(i int) []float64 { return tensors.MustCopyFlatData[float64](res[i]) }
	mean, lrtVar, denseVar := f(0), f(1), f(2)
	for i := range lrtVar {
		if math.Abs(lrtVar[i]-denseVar[i]) > 1e-12*(1+denseVar[i]) {
			t.Fatalf("output variance %d: low-rank %.15g, dense (x⊙x)(σ⊙σ)ᵀ %.15g", i, lrtVar[i], denseVar[i])
		}
	}
	// MC error: s.e. of a mean is √(var/n), of a variance √(2/n)·var (Gaussian); 5 s.e.
	for k, name := range []string{"dense sampler", "local sampler"} {
		m, v := f(3+2*k), f(4+2*k)
		for i := range mean {
			if tol := 5 * math.Sqrt(lrtVar[i]/draws); math.Abs(m[i]-mean[i]) > tol {
				t.Errorf("%s: mean[%d] %.5g, want %.5g ± %.2g", name, i, m[i], mean[i], tol)
			}
			if tol := 5 * math.Sqrt(2.0/draws) * lrtVar[i]; math.Abs(v[i]-lrtVar[i]) > tol {
				t.Errorf("%s: var[%d] %.5g, want %.5g ± %.2g", name, i, v[i], lrtVar[i], tol)
			}
		}
	}
}

// TestLowRankSumsAndBlockedKLsMatchDense: the closed forms Σ(BA)⊙(BA) and
// ΣBA, the blocked task KL and the low-rank global KL equal the dense
// computations — values and gradients w.r.t. every factor — with blocks
// forced small so that a module spans several (and an uneven last one).
func TestLowRankSumsAndBlockedKLsMatchDense(t *testing.T) {
	old := klChunkElems
	klChunkElems = 14 // 2 rows of in 7 per block: out 5 → blocks of 2, 2, 1
	defer func() { klChunkElems = old }()
	rng := rand.New(rand.NewPCG(3, 4))
	// Two modules: [5,7] rank 3 and [3,2] rank 3 (rank > min side too).
	dims := [][2]int{{5, 7}, {3, 2}}
	const r = 3
	mk := func(scaleA, scaleB float64) []any {
		var f []any
		for range 2 { // μ pairs, then σ pairs (θ layout)
			for _, sh := range dims {
				f = append(f, randMat(rng, r, sh[1], scaleA), randMat(rng, sh[0], r, scaleB))
			}
		}
		return f
	}
	q, p := mk(0.4, 0.4), mk(0.4, 0.4)
	ag := ABMLLGraph{Scale: 1.7, Offset: 0.3, PriorStd: 0.2, Reg: 1}
	local := ag
	local.Local = true
	nf := len(q)
	res, err := ExecOnceN(metatest.Backend(t), func(v []*Node) []*Node {
		qf, pf := v[:nf], v[nf:]
		all := append(append([]*Node{}, qf...), pf...)
		denseTask := ag.TaskKL(qf, pf)
		lowTask := local.TaskKL(qf, pf)
		denseGlob := ag.Global(qf)
		lowGlob := local.Global(qf)
		out := []*Node{denseTask, lowTask, denseGlob, lowGlob}
		out = append(out, Gradient(denseTask, all...)...)
		out = append(out, Gradient(lowTask, all...)...)
		out = append(out, Gradient(denseGlob, qf...)...)
		out = append(out, Gradient(lowGlob, qf...)...)
		// Closed forms of one pair against the dense product.
		a, b := qf[4], qf[5]
		P := MatMul(b, a)
		out = append(out, SumSquares(a, b), ReduceAllSum(Square(P)), SumProduct(a, b), ReduceAllSum(P))
		return out
	}, append(q, p...)...)
	if err != nil {
		t.Fatal(err)
	}
	val := func(i int) float64 { return res[i].Value().(float64) }
	close := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*(1+math.Abs(want)) {
			t.Errorf("%s: %.15g, dense %.15g", what, got, want)
		}
	}
	close("task KL", val(1), val(0))
	close("global KL", val(3), val(2))
	k := 4
	for i := range 2 * nf {
		g0 := tensors.MustCopyFlatData[float64](res[k+i])
		g1 := tensors.MustCopyFlatData[float64](res[k+2*nf+i])
		for j := range g0 {
			close("task KL gradient", g1[j], g0[j])
		}
	}
	k += 4 * nf
	for i := range nf {
		g0 := tensors.MustCopyFlatData[float64](res[k+i])
		g1 := tensors.MustCopyFlatData[float64](res[k+nf+i])
		for j := range g0 {
			close("global KL gradient", g1[j], g0[j])
		}
	}
	k += 2 * nf
	close("Σ(BA)⊙(BA)", val(k), val(k+1))
	close("ΣBA", val(k+2), val(k+3))
}
