package meta

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

func TestGaussianKLMatchesClosedForm(t *testing.T) {
	muQ, sQ := []float64{0.3, -1, 2}, []float64{0.5, 1.2, 0.05}
	muP, sP := []float64{0, -0.5, 2.1}, []float64{1, 0.7, 0.1}
	want := 0.0
	for i := range muQ {
		want += math.Log(sP[i]/sQ[i]) + (sQ[i]*sQ[i]+(muQ[i]-muP[i])*(muQ[i]-muP[i]))/(2*sP[i]*sP[i]) - 0.5
	}
	got, err := ExecOnce(testBackendMeta(t), func(a, b, c, d *Node) *Node {
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
	zero, err := ExecOnce(testBackendMeta(t), func(a, b *Node) *Node {
		return GaussianKL([]*Node{a}, []*Node{b}, []*Node{a}, []*Node{b})
	}, muQ, sQ)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(zero.Value().(float64)) > 1e-12 {
		t.Errorf("KL(q‖q) = %v", zero.Value())
	}
}

// toyNLL is a LoRA-like likelihood of factors A [2,3], B [3,2]: W = B·A acts
// on fixed inputs, squared error against fixed targets.
func toyNLL(shift float64) NLLFn {
	return func(f []*Node) *Node {
		g := f[0].Graph()
		x := Const(g, [][]float64{{1, -0.5, 0.3}, {0.2, 0.8, -1}})
		y := Const(g, [][]float64{{0.5, 0, 1}, {-1, 0.3, 0.2}})
		w := MatMul(f[1], f[0])               // [3,3]
		pred := MatMul(x, Transpose(w, 0, 1)) // [2,3]
		return ReduceAllMean(Square(Sub(pred, AddScalar(y, shift))))
	}
}

// TestABMLLObjectiveGradientFiniteDifference checks ∇θ of the ABMLL
// meta-objective (refinement differentiated through, SecondOrder) against
// central differences in float64. The RNG state is an input, so the
// reparameterization noise is identical across evaluations.
func TestABMLLObjectiveGradientFiniteDifference(t *testing.T) {
	ag := ABMLLGraph{Names: []string{"a", "b"}, Steps: 2, LR: 0.3, Fidelity: 1.3, Reg: 0.05, PriorL2: 0.1, SigmaFloor: 1e-3, SecondOrder: true}
	state, err := RNGStateFromSeed(5)
	if err != nil {
		t.Fatal(err)
	}
	objective := func(in []*Node) *Node {
		mu, rho := in[0:2], in[2:4]
		o, _, _, _, _ := ag.TaskObjective(in[4], mu, rho, toyNLL(0), toyNLL(0.2))
		return Add(o, ag.prior(mu))
	}
	exec, err := NewExec(testBackendMeta(t), func(in []*Node) []*Node {
		o := objective(in)
		return append([]*Node{o}, Gradient(o, in[:4]...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	vals := [][]float64{
		{0.3, -0.2, 0.5, 0.1, 0.4, -0.6},  // μ_A [2,3]
		{0.2, -0.1, 0.05, 0.3, -0.4, 0.1}, // μ_B [3,2]
		{-2, -1.5, -2.5, -1, -3, -2},      // ρ_A
		{-1.8, -2.2, -1.2, -2.6, -1.4, -2},
	}
	dims := [][]int{{2, 3}, {3, 2}, {2, 3}, {3, 2}}
	run := func(v [][]float64) []*tensors.Tensor {
		args := make([]any, 0, 5)
		for i := range v {
			args = append(args, tensors.FromFlatDataAndDimensions(append([]float64(nil), v[i]...), dims[i]...))
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
// nothing to stop gradients through, so first- and second-order agree.
func TestABMLLFirstOrderWithoutRefinement(t *testing.T) {
	state, err := RNGStateFromSeed(1)
	if err != nil {
		t.Fatal(err)
	}
	grad := func(second bool, steps int) []float64 {
		ag := ABMLLGraph{Steps: steps, LR: 0.3, Fidelity: 1, Reg: 0.1, SigmaFloor: 1e-3, SecondOrder: second}
		out, err := ExecOnceN(testBackendMeta(t), func(a, b, ra, rb, s *Node) []*Node {
			o, _, _, _, _ := ag.TaskObjective(s, []*Node{a, b}, []*Node{ra, rb}, toyNLL(0), toyNLL(0.1))
			return Gradient(o, a, b)
		}, [][]float64{{0.3, -0.2, 0.5}, {0.1, 0.4, -0.6}}, [][]float64{{0.2, -0.1}, {0.05, 0.3}, {-0.4, 0.1}},
			[][]float64{{-2, -2, -2}, {-2, -2, -2}}, [][]float64{{-2, -2}, {-2, -2}, {-2, -2}}, state)
		if err != nil {
			t.Fatal(err)
		}
		return append(tensors.MustCopyFlatData[float64](out[0]), tensors.MustCopyFlatData[float64](out[1])...)
	}
	so0, fo0 := grad(true, 0), grad(false, 0)
	for i := range so0 {
		if math.Abs(so0[i]-fo0[i]) > 1e-12 {
			t.Fatalf("0 steps: first-order %v vs second-order %v", fo0, so0)
		}
	}
	so2, fo2 := grad(true, 2), grad(false, 2)
	diff := 0.0
	for i := range so2 {
		diff = math.Max(diff, math.Abs(so2[i]-fo2[i]))
	}
	if diff < 1e-9 {
		t.Errorf("2 steps: first-order equals second-order; the switch has no effect")
	}
}

// TestABMLLMetaTrainAndAdapt is a short smoke run on the toy family: finite
// meta-steps with events, a saved/loaded artifact, inner Steps in Adapt and a
// Monte-Carlo ensemble that Evaluate scores with an ECE.
func TestABMLLMetaTrainAndAdapt(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-training run")
	}
	env := toyEnv(t, 2)
	rec := &stepRecorder{}
	env.Publish = rec.publish
	m, err := New(ABMLL, Options{ABMLL: ABMLLOptions{MetaSteps: 4, TasksPerStep: 2, InnerSteps: 2, Predict: "mc", Samples: 3, OuterLR: 1e-2}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := m.MetaTrain(context.Background(), env, toyPool(4, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.steps["outer"]); n != 4 {
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
	task := toyPool(1, 600)[0]
	ad, err := m.Adapt(context.Background(), env, art2, task, 3)
	if err != nil {
		t.Fatal(err)
	}
	inner := rec.steps["inner"]
	if len(inner) != 2 || inner[1].SupportLoss == nil || inner[1].QueryLoss == nil || inner[1].Accuracy == nil {
		t.Fatalf("inner events %+v", inner)
	}
	if len(ad.Ensemble) != 3 || ad.Vote != VoteMean {
		t.Fatalf("mc prediction: %d members, vote %q", len(ad.Ensemble), ad.Vote)
	}
	acc, ece, probs, err := Evaluate(context.Background(), env, ad, task.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != len(task.Splits.Test) || ece < 0 || ece > 1 || acc < 0 || acc > 1 {
		t.Errorf("acc %v ece %v", acc, ece)
	}
}
