package abmll

import (
	"context"
	"math"
	"testing"

	"github.com/degaml/workbench/core/meta/internal/metatest"

	"github.com/degaml/workbench/core/meta"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
)

func TestGaussianKLMatchesClosedForm(t *testing.T) {
	muQ, sQ := []float64{0.3, -1, 2}, []float64{0.5, 1.2, 0.05}
	muP, sP := []float64{0, -0.5, 2.1}, []float64{1, 0.7, 0.1}
	want := 0.0
	for i := range muQ {
		want += math.Log(sP[i]/sQ[i]) + (sQ[i]*sQ[i]+(muQ[i]-muP[i])*(muQ[i]-muP[i]))/(2*sP[i]*sP[i]) - 0.5
	}
	got, err := ExecOnce(metatest.Backend(t), func(a, b, c, d *Node) *Node {
		// Split into two "tensors" to check the sum over tensors too.
		return Add(GaussianKL([]*Node{a}, []*Node{b}, []*Node{c}, []*Node{d}), GaussianKL([]*Node{c}, []*Node{d}, []*Node{c}, []*Node{d}))
	}, muQ, sQ, muP, sP)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.Value().(float64); math.Abs(g-want) > 1e-12 {
		t.Errorf("KL = %.15f, closed form %.15f", g, want)
	}
	// KL(q‖q) = 0.
	zero, err := ExecOnce(metatest.Backend(t), func(a, b *Node) *Node {
		return GaussianKL([]*Node{a}, []*Node{b}, []*Node{a}, []*Node{b})
	}, muQ, sQ)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(zero.Value().(float64)) > 1e-12 {
		t.Errorf("KL(q‖q) = %v", zero.Value())
	}
}

// toyNLL is a likelihood of one module's update ΔW [3,3] acting on fixed
// inputs: squared error against fixed targets.
func toyNLL(shift float64) NLLFn {
	return func(d []*Node) *Node {
		g := d[0].Graph()
		x := Const(g, [][]float64{{1, -0.5, 0.3}, {0.2, 0.8, -1}})
		y := Const(g, [][]float64{{0.5, 0, 1}, {-1, 0.3, 0.2}})
		pred := MatMul(x, Transpose(d[0], 0, 1)) // [2,3]
		return ReduceAllMean(Square(Sub(pred, AddScalar(y, shift))))
	}
}

// TestABMLLELBOTermsHandComputed2x2: one module with a 2×2 ΔW from rank-1
// pairs. μ = s·B_μA_μ, σ = B_σA_σ + c, the task KL(q_φ ‖ p_θ) and the global
// KL(p_θ ‖ N(0, σ₀²)) match values computed by hand; the expected NLL of
// Σ(ΔW − T)² under the draws matches Σ(μ−T)² + Σσ².
func TestABMLLELBOTermsHandComputed2x2(t *testing.T) {
	ag := ABMLLGraph{Scale: 2, Offset: 0.05, PriorStd: 0.1, Fidelity: 0.3, Reg: 0.02}
	// θ: A_μ [1,2], B_μ [2,1], A_σ, B_σ.
	theta := [][][]float64{{{0.5, -1}}, {{0.2}, {0.4}}, {{1, 2}}, {{0.01}, {-0.02}}}
	// φ: a task posterior.
	phi := [][][]float64{{{0.6, -1}}, {{0.25}, {0.4}}, {{1, 1}}, {{0.02}, {0}}}
	// By hand: μ_θ = 2·[0.2 0.4]ᵀ[0.5 −1] = [[0.2 −0.4] [0.4 −0.8]],
	// σ_θ = [0.01 −0.02]ᵀ[1 2] + 0.05 = [[0.06 0.07] [0.03 0.01]],
	// μ_φ = 2·[0.25 0.4]ᵀ[0.6 −1] = [[0.3 −0.5] [0.48 −0.8]],
	// σ_φ = [0.02 0]ᵀ[1 1] + 0.05 = [[0.07 0.07] [0.05 0.05]].
	muT := []float64{0.2, -0.4, 0.4, -0.8}
	sgT := []float64{0.06, 0.07, 0.03, 0.01}
	muF := []float64{0.3, -0.5, 0.48, -0.8}
	sgF := []float64{0.07, 0.07, 0.05, 0.05}
	kl := func(mq, sq, mp, sp []float64) float64 {
		var s float64
		for i := range mq {
			s += math.Log(sp[i]/sq[i]) + (sq[i]*sq[i]+(mq[i]-mp[i])*(mq[i]-mp[i]))/(2*sp[i]*sp[i]) - 0.5
		}
		return s
	}
	wantTask := kl(muF, sgF, muT, sgT)
	wantGlobal := kl(muT, sgT, []float64{0, 0, 0, 0}, []float64{0.1, 0.1, 0.1, 0.1})
	target := []float64{0.1, -0.3, 0.5, -1}
	var wantENLL float64
	for i := range muF {
		wantENLL += (muF[i]-target[i])*(muF[i]-target[i]) + sgF[i]*sgF[i]
	}
	state, err := RNGStateFromSeed(3)
	if err != nil {
		t.Fatal(err)
	}
	const draws = 4000
	out, err := ExecOnceN(metatest.Backend(t), func(in []*Node) []*Node {
		th, ph := in[:4], in[4:8]
		tmF, tsF := split(th)
		pmF, psF := split(ph)
		mT, sT, mF, sF := ag.Mean(tmF), ag.Sigma(tsF), ag.Mean(pmF), ag.Sigma(psF)
		task := GaussianKL(mF, sF, mT, sT)
		glob := ag.Global(th)
		// Monte-Carlo E[Σ(ΔW − T)²] over draws of q_φ.
		rng := in[8]
		tgt := Const(rng.Graph(), [][]float64{{0.1, -0.3}, {0.5, -1}})
		var sum *Node
		for range draws / 100 {
			var d []*Node
			big := BroadcastToDims(InsertAxes(mF[0], 0), 100, 2, 2)
			bs := BroadcastToDims(InsertAxes(sF[0], 0), 100, 2, 2)
			rng, d = Draw(rng, []*Node{big}, []*Node{bs})
			s := ReduceAllSum(Square(Sub(d[0], InsertAxes(tgt, 0))))
			if sum == nil {
				sum = s
			} else {
				sum = Add(sum, s)
			}
		}
		return []*Node{mT[0], sT[0], mF[0], sF[0], task, glob, DivScalar(sum, draws)}
	}, theta[0], theta[1], theta[2], theta[3], phi[0], phi[1], phi[2], phi[3], state)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]float64{muT, sgT, muF, sgF} {
		got := tensors.MustCopyFlatData[float64](out[i])
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-12 {
				t.Fatalf("ΔW statistic %d: got %v, want %v", i, got, want)
			}
		}
	}
	if g := out[4].Value().(float64); math.Abs(g-wantTask) > 1e-9*math.Abs(wantTask) {
		t.Fatalf("task KL %.12g, by hand %.12g", g, wantTask)
	}
	if g := out[5].Value().(float64); math.Abs(g-0.02*wantGlobal) > 1e-9*math.Abs(wantGlobal) {
		t.Fatalf("γ·global KL %.12g, by hand %.12g", g, 0.02*wantGlobal)
	}
	// MC error of the mean of 4000 draws: s.d. of one draw's Σ(ΔW−T)² is
	// < 0.1 here, so 5 s.e. < 0.01.
	if g := out[6].Value().(float64); math.Abs(g-wantENLL) > 0.01 {
		t.Fatalf("E[NLL] under q_φ by Monte Carlo %.5f, closed form %.5f", g, wantENLL)
	}
	t.Logf("task KL %.6g, global KL %.6g, E[NLL] %.5f (MC %.5f)", wantTask, wantGlobal, wantENLL, out[6].Value().(float64))
}

// abmllToyTheta is θ for a [3,3] ΔW from rank-2 pairs: A [2,3], B [3,2].
var abmllToyTheta = [][]float64{
	{0.3, -0.2, 0.5, 0.1, 0.4, -0.6},  // A_μ [2,3]
	{0.2, -0.1, 0.05, 0.3, -0.4, 0.1}, // B_μ [3,2]
	{0.5, 0.2, -0.3, 0.1, 0.6, 0.4},   // A_σ
	{0.05, -0.02, 0.03, 0.01, -0.04, 0.02},
}
var abmllToyDims = [][]int{{2, 3}, {3, 2}, {2, 3}, {3, 2}}

// TestABMLLObjectiveGradientFiniteDifference checks ∇θ of the ABMLL
// meta-objective (refinement differentiated through, SecondOrder, plus the
// global term) against central differences in float64. The RNG state is an
// input, so the reparameterization noise is identical across evaluations.
func TestABMLLObjectiveGradientFiniteDifference(t *testing.T) {
	ag := ABMLLGraph{Scale: 1.5, Steps: 2, LR: 0.3, Fidelity: 1e-3, Reg: 1e-3, Offset: 0.1, PriorStd: 0.2, SecondOrder: true}
	state, err := RNGStateFromSeed(5)
	if err != nil {
		t.Fatal(err)
	}
	objective := func(in []*Node) *Node {
		o, _, _, _, _ := ag.TaskObjective(in[4], in[:4], ag.Dense(toyNLL(0)), ag.Dense(toyNLL(0.2)))
		return Add(o, ag.Global(in[:4]))
	}
	exec, err := NewExec(metatest.Backend(t), func(in []*Node) []*Node {
		o := objective(in)
		return append([]*Node{o}, Gradient(o, in[:4]...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	vals := make([][]float64, 4)
	for i := range vals {
		vals[i] = append([]float64(nil), abmllToyTheta[i]...)
	}
	run := func(v [][]float64) []*tensors.Tensor {
		args := make([]any, 0, 5)
		for i := range v {
			args = append(args, tensors.FromFlatDataAndDimensions(append([]float64(nil), v[i]...), abmllToyDims[i]...))
		}
		args = append(args, state)
		out, err := exec.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := run(vals)
	if out[0].DType() != dtypes.Float64 {
		t.Fatalf("objective dtype %s", out[0].DType())
	}
	const h = 1e-6
	worst := 0.0
	for ti := range vals {
		g := tensors.MustCopyFlatData[float64](out[1+ti])
		for k := range vals[ti] {
			orig := vals[ti][k]
			vals[ti][k] = orig + h
			up := run(vals)[0].Value().(float64)
			vals[ti][k] = orig - h
			dn := run(vals)[0].Value().(float64)
			vals[ti][k] = orig
			fd := (up - dn) / (2 * h)
			err := math.Abs(fd-g[k]) / math.Max(1e-6, math.Abs(fd)+math.Abs(g[k]))
			worst = math.Max(worst, err)
			if err > 1e-5 {
				t.Errorf("tensor %d elem %d: analytic %.10g, finite difference %.10g", ti, k, g[k], fd)
			}
		}
	}
	t.Logf("worst relative error %.2e", worst)
}

// TestABMLLFirstOrderWithoutRefinement: with zero refinement steps there is
// nothing to stop gradients through, so first- and second-order agree; with
// steps they differ, and first-order still gives μ_θ a gradient from the
// task KL (the prior is pulled toward the fixed posterior).
func TestABMLLFirstOrderWithoutRefinement(t *testing.T) {
	state, err := RNGStateFromSeed(1)
	if err != nil {
		t.Fatal(err)
	}
	grad := func(second bool, steps int, fid float64, nll bool) []float64 {
		ag := ABMLLGraph{Scale: 1, Steps: steps, LR: 0.3, Fidelity: fid, Reg: 0, Offset: 0.1, PriorStd: 0.1, SecondOrder: second}
		query := toyNLL(0.1)
		if !nll {
			query = func(d []*Node) *Node { return MulScalar(ReduceAllSum(d[0]), 0) }
		}
		in := make([]any, 0, 5)
		for i := range abmllToyTheta {
			in = append(in, tensors.FromFlatDataAndDimensions(append([]float64(nil), abmllToyTheta[i]...), abmllToyDims[i]...))
		}
		in = append(in, state)
		out, err := ExecOnceN(metatest.Backend(t), func(x []*Node) []*Node {
			o, _, _, _, _ := ag.TaskObjective(x[4], x[:4], ag.Dense(toyNLL(0)), ag.Dense(query))
			return Gradient(o, x[:4]...)
		}, in...)
		if err != nil {
			t.Fatal(err)
		}
		var g []float64
		for _, o := range out {
			g = append(g, tensors.MustCopyFlatData[float64](o)...)
		}
		return g
	}
	so0, fo0 := grad(true, 0, 1, true), grad(false, 0, 1, true)
	for i := range so0 {
		if math.Abs(so0[i]-fo0[i]) > 1e-12 {
			t.Fatalf("0 steps: first-order %v vs second-order %v", fo0, so0)
		}
	}
	so2, fo2 := grad(true, 2, 1, true), grad(false, 2, 1, true)
	diff := 0.0
	for i := range so2 {
		diff = math.Max(diff, math.Abs(so2[i]-fo2[i]))
	}
	if diff < 1e-9 {
		t.Errorf("2 steps: first-order equals second-order; the switch has no effect")
	}
	// KL only (the query NLL zeroed): the first-order gradient of the μ
	// pair must not vanish.
	kg := grad(false, 2, 1, false)
	var norm float64
	for _, v := range kg[:12] {
		norm += v * v
	}
	if norm < 1e-12 {
		t.Errorf("first-order: the task KL gives no gradient to the mean pair of θ")
	}
}

// TestDenseAdapterIsExact: a dense ΔW written as a LoRA of rank R has
// scale·B·A = ΔW whether in ≤ out or in > out.
func TestDenseAdapterIsExact(t *testing.T) {
	d1 := []float32{1, 2, 3, 4, 5, 6} // [3,2]: in ≤ out
	d2 := []float32{1, 2, 3, 4, 5, 6} // [2,3]: in > out
	ad := denseAdapter(models.LoRAConfig{Targets: []string{"x"}}, []string{"m1", "m2"}, [][]float32{d1, d2}, [][]int{{3, 2}, {2, 3}}, 3)
	if ad.Config.Scale() != 1 || ad.Config.Rank != 3 {
		t.Fatalf("config %+v", ad.Config)
	}
	for i, mod := range []string{"m1", "m2"} {
		A, B := ad.Params[mod+".lora_A"], ad.Params[mod+".lora_B"]
		r, in := A.Shape().Dimensions[0], A.Shape().Dimensions[1]
		out := B.Shape().Dimensions[0]
		fa, fb := tensors.MustCopyFlatData[float32](A), tensors.MustCopyFlatData[float32](B)
		want := [][]float32{d1, d2}[i]
		for o := range out {
			for j := range in {
				var s float32
				for k := range r {
					s += fb[o*r+k] * fa[k*in+j]
				}
				if s != want[o*in+j] {
					t.Fatalf("%s: (B·A)[%d,%d] = %g, want %g", mod, o, j, s, want[o*in+j])
				}
			}
		}
	}
}

// TestABMLLMetaTrainAndAdapt is a short smoke run on the toy family: finite
// meta-steps with events, a saved/loaded artifact, inner Steps in Adapt and a
// Monte-Carlo ensemble that Evaluate scores with an ECE.
//
// "local" runs the same with local reparameterization: the members are the
// posterior mean with their own output noise, so their probabilities differ,
// and scoring a member twice gives the same numbers (seeded noise).
func TestABMLLMetaTrainAndAdapt(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-training run")
	}
	for _, sampling := range []string{"dense", "local"} {
		t.Run(sampling, func(t *testing.T) { abmllMetaTrainAndAdapt(t, sampling) })
	}
}

func abmllMetaTrainAndAdapt(t *testing.T, sampling string) {
	env := metatest.ToyEnv(t, 2)
	rec := &metatest.StepRecorder{}
	env.Publish = rec.Publish
	m, err := meta.New(meta.ABMLL, meta.Options{ABMLL: meta.ABMLLOptions{MetaSteps: 4, TasksPerStep: 2, InnerSteps: 2, Predict: "mc", Samples: 3, OuterLR: 1e-2, Sampling: sampling}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := m.MetaTrain(context.Background(), env, metatest.ToyPool(4, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Steps["outer"]); n != 4 {
		t.Fatalf("%d outer steps, want 4", n)
	}
	dir := t.TempDir()
	if err := art.Save(dir); err != nil {
		t.Fatal(err)
	}
	art2, err := m.LoadArtifact(dir)
	if err != nil {
		t.Fatal(err)
	}
	task := metatest.ToyPool(1, 600)[0]
	ad, err := m.Adapt(context.Background(), env, art2, task, 3)
	if err != nil {
		t.Fatal(err)
	}
	inner := rec.Steps["inner"]
	if len(inner) != 2 || inner[1].SupportLoss == nil || inner[1].QueryLoss == nil || inner[1].Accuracy == nil {
		t.Fatalf("inner events %+v", inner)
	}
	if len(ad.Ensemble) != 3 || ad.Vote != meta.VoteMean {
		t.Fatalf("mc prediction: %d members, vote %q", len(ad.Ensemble), ad.Vote)
	}
	acc, ece, probs, err := meta.Evaluate(context.Background(), env, ad, task.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != len(task.Splits.Test) || ece < 0 || ece > 1 || acc < 0 || acc > 1 {
		t.Errorf("acc %v ece %v", acc, ece)
	}
	if sampling != "local" {
		return
	}
	if len(ad.Noise) != 3 || ad.Ensemble[0] != ad.Adapter {
		t.Fatalf("local mc prediction: %d noise draws, members are the mean: %v", len(ad.Noise), ad.Ensemble[0] == ad.Adapter)
	}
	one := func(i int) [][]float64 {
		_, _, p, err := meta.Evaluate(context.Background(), env, &meta.Adapted{Adapter: ad.Adapter, Ensemble: ad.Ensemble[i : i+1], Noise: ad.Noise[i : i+1]}, task.Splits.Test)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p0, p0again, p1 := one(0), one(0), one(1)
	_, _, pm, err := meta.Evaluate(context.Background(), env, &meta.Adapted{Adapter: ad.Adapter}, task.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	var same, differs, fromMean float64
	for i := range p0 {
		for j := range p0[i] {
			same = math.Max(same, math.Abs(p0[i][j]-p0again[i][j]))
			differs = math.Max(differs, math.Abs(p0[i][j]-p1[i][j]))
			fromMean = math.Max(fromMean, math.Abs(p0[i][j]-pm[i][j]))
		}
	}
	if same != 0 || differs == 0 || fromMean == 0 {
		t.Fatalf("member 0 vs itself %g (want 0), vs member 1 %g and vs the mean %g (want > 0)", same, differs, fromMean)
	}
}
