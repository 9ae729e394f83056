package degaml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/degaml/workbench/core/meta"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

func TestJacobiEigenReconstructs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 7
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, 3) // rank 3: a PSD Gram matrix with zero eigenvalues
		for j := range x[i] {
			x[i][j] = rng.NormFloat64()
		}
	}
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n)
		for j := range a[i] {
			a[i][j] = dot64(x[i], x[j])
		}
	}
	vals, q := jacobiEigen(a)
	for i := range n {
		for j := range n {
			var s, o float64
			for e := range n {
				s += q[i][e] * vals[e] * q[j][e]
				o += q[i][e] * q[j][e]
			}
			if math.Abs(s-a[i][j]) > 1e-9 {
				t.Fatalf("QΛQᵀ[%d][%d] = %g, want %g", i, j, s, a[i][j])
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(o-want) > 1e-9 {
				t.Fatalf("Q is not orthogonal: QQᵀ[%d][%d] = %g", i, j, o)
			}
		}
	}
	zeros := 0
	for _, v := range vals {
		if v < 1e-9 {
			zeros++
		}
	}
	if zeros != n-3 {
		t.Fatalf("a rank-3 Gram matrix of size %d should have %d zero eigenvalues, got %d (%v)", n, n-3, zeros, vals)
	}
}

// latentGenData makes tasks whose prompt features and checkpoints both
// depend on a 2-d latent z (related = true) or are independent noise.
func latentGenData(seed uint64, nTasks, D, N int, related bool) genData {
	rng := rand.New(rand.NewPCG(seed, 7))
	mixE := make([][2]float64, D)
	mixC := make([][2]float64, N)
	for i := range mixE {
		mixE[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	for i := range mixC {
		mixC[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	d := genData{}
	for range nTasks {
		z := [2]float64{rng.NormFloat64(), rng.NormFloat64()}
		zc := z
		if !related {
			zc = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
		}
		var emb [][]float32
		for range 8 {
			e := make([]float32, D)
			for h := range e {
				e[h] = float32(mixE[h][0]*z[0] + mixE[h][1]*z[1] + 0.3*rng.NormFloat64())
			}
			emb = append(emb, e)
		}
		var ck [][]float32
		for range 3 {
			c := make([]float32, N)
			for j := range c {
				c[j] = float32(0.01*(mixC[j][0]*zc[0]+mixC[j][1]*zc[1]) + 0.002*rng.NormFloat64())
			}
			ck = append(ck, c)
		}
		d.Emb = append(d.Emb, emb)
		d.Ckpts = append(d.Ckpts, ck)
	}
	return d
}

// solveDense solves (a)·x = b for several right-hand sides by Gaussian
// elimination with partial pivoting (an independent check of the
// eigendecomposition route).
func solveDense(a [][]float64, b [][]float64) [][]float64 {
	n := len(a)
	m := make([][]float64, n)
	x := make([][]float64, n)
	for i := range n {
		m[i] = slices.Clone(a[i])
		x[i] = slices.Clone(b[i])
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		x[c], x[p] = x[p], x[c]
		for r := range n {
			if r == c {
				continue
			}
			f := m[r][c] / m[c][c]
			for k := range n {
				m[r][k] -= f * m[c][k]
			}
			for k := range x[r] {
				x[r][k] -= f * x[c][k]
			}
		}
	}
	for i := range n {
		for k := range x[i] {
			x[i][k] /= m[i][i]
		}
	}
	return x
}

// TestRidgeFoldMSEMatchesBruteForce checks the task-space (Gram) error
// computation against an explicit fit in weight space: standardize with the
// fold's statistics, solve (K+λI)α = Y − ȳ, predict the held rows and
// measure the MSE against every checkpoint of the held tasks.
func TestRidgeFoldMSEMatchesBruteForce(t *testing.T) {
	const nTasks, D, N = 9, 5, 6
	d := latentGenData(3, nTasks, D, N, true)
	shapes := [][]int{{2, 3}}
	rd := newRidgeData(d, shapes, 4, 2, "variance", 1)
	all := make([]int, nTasks)
	for i := range all {
		all[i] = i
	}
	_, scale := outStats(d.Ckpts, all, shapes, "variance")
	fit, held := []int{0, 1, 2, 4, 5, 7, 8}, []int{3, 6}
	f := newRidgeFold(rd, fit, 0.1)
	for _, rel := range []float64{0.01, 1, math.Inf(1)} {
		got, rows := f.heldMSE(rd, held, rel)
		got /= float64(rows)

		// Brute force.
		var fitRows [][]float64
		var fitTask []int
		for r, tk := range rd.rowTask {
			if slices.Contains(fit, tk) {
				fitRows = append(fitRows, rd.rows[r])
				fitTask = append(fitTask, tk)
			}
		}
		mean, sd := featStats(fitRows, 0.1)
		taskMean := func(tk int) []float64 {
			mu := make([]float64, N)
			for _, ck := range d.Ckpts[tk] {
				for j, v := range ck {
					mu[j] += float64(v) / float64(len(d.Ckpts[tk]))
				}
			}
			return mu
		}
		ybar := make([]float64, N)
		for _, tk := range fit {
			for j, v := range taskMean(tk) {
				ybar[j] += v / float64(len(fit))
			}
		}
		m := len(fitRows)
		K := make([][]float64, m)
		Y := make([][]float64, m)
		var tr float64
		for i := range m {
			K[i] = make([]float64, m)
			for j := range m {
				K[i][j] = dot64(standardizeRow(fitRows[i], mean, sd), standardizeRow(fitRows[j], mean, sd))
			}
			tr += K[i][i]
			Y[i] = make([]float64, N)
			for j, v := range taskMean(fitTask[i]) {
				Y[i][j] = v - ybar[j]
			}
		}
		var alpha [][]float64
		if !math.IsInf(rel, 1) {
			for i := range m {
				K[i][i] += rel * tr / float64(m)
			}
			alpha = solveDense(K, Y)
		}
		var want float64
		var wrows int
		for r, tk := range rd.rowTask {
			if !slices.Contains(held, tk) {
				continue
			}
			pred := slices.Clone(ybar)
			if alpha != nil {
				z := standardizeRow(rd.rows[r], mean, sd)
				for i := range m {
					k := dot64(z, standardizeRow(fitRows[i], mean, sd))
					for j := range N {
						pred[j] += k * alpha[i][j]
					}
				}
			}
			for _, ck := range d.Ckpts[tk] {
				for j, v := range ck {
					dv := (pred[j] - float64(v)) / float64(scale[j])
					want += dv * dv / float64(len(d.Ckpts[tk])*N)
				}
			}
			wrows++
		}
		want /= float64(wrows)
		if rows != wrows || math.Abs(got-want) > 1e-6*max(1, want) {
			t.Fatalf("λ=%g×: Gram-space held MSE %.9g over %d rows, brute force %.9g over %d rows", rel, got, rows, want, wrows)
		}
	}
}

func ridgeTestGenerator(D, N int) *Generator {
	return &Generator{LoRA: models.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj"}}, Names: []string{"a.lora_A", "a.lora_B"},
		Shapes: [][]int{{2, N / 4}, {N / 4, 2}}, H: D, P: 4}
}

// TestRidgeLearnsStructureAndFallsBackToMean: with a shared latent the ridge
// map must beat the mean checkpoint on cross-validation by a wide margin;
// with checkpoints unrelated to the prompts it must not claim a gain.
func TestRidgeLearnsStructureAndFallsBackToMean(t *testing.T) {
	const nTasks, D, N = 24, 6, 8
	for _, related := range []bool{true, false} {
		d := latentGenData(11, nTasks, D, N, related)
		g := ridgeTestGenerator(D, N)
		rd := newRidgeData(d, g.Shapes, g.P, 4, "variance", 1)
		all := make([]int, nTasks)
		for i := range all {
			all[i] = i
		}
		cv := fitRidge(g, d, rd, all, ridgeOpts{Folds: 6, StdFloor: 0.1, Weighting: "variance"})
		t.Logf("related=%v: λ=%g×, CV MSE %.4f (mean checkpoint %.4f)", related, cv.Rel, cv.MSEBest, cv.MSEMean)
		if related {
			if math.IsInf(cv.Rel, 1) || !(cv.MSEBest < 0.5*cv.MSEMean) {
				t.Fatalf("related: ridge should beat the mean by far, got λ=%g CV %.4f vs mean %.4f", cv.Rel, cv.MSEBest, cv.MSEMean)
			}
			// A new task of the same structure is predicted far better than
			// by the mean checkpoint.
			nd := latentGenData(11, nTasks+4, D, N, true)
			var eg, em float64
			for tk := nTasks; tk < nTasks+4; tk++ {
				pred := g.ridgePredict(batchMean(nd.Emb[tk], []int{0, 1, 2, 3, 4, 5, 6, 7}))
				eg += weightMSE(pred, nd.Ckpts[tk], g.OutScale)
				em += weightMSE(g.OutMean, nd.Ckpts[tk], g.OutScale)
			}
			if !(eg < 0.5*em) {
				t.Fatalf("unseen tasks: ridge MSE %.4f vs mean %.4f", eg, em)
			}
		} else if cv.MSEBest < 0.9*cv.MSEMean {
			t.Fatalf("unrelated: ridge claims a %.0f%% gain over the mean from noise", 100*(1-cv.MSEBest/cv.MSEMean))
		}
	}
}

// TestGeneratorStatisticsFromFitTasksOnly: the standardization (feature and
// output means, scales) of both decoders comes from the fit tasks alone;
// tasks that validate the generator (hc's inner-validation tasks, ridge's
// held-out folds) must not move it.
func TestGeneratorStatisticsFromFitTasksOnly(t *testing.T) {
	dgInitBackend(t)
	const nTasks, D, N = 8, 4, 8
	d := latentGenData(5, nTasks, D, N, true)
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	fit, inner := hcSplit(all)
	if len(inner) != 2 || len(fit) != 6 {
		t.Fatalf("hc split of 8 tasks: fit %v, inner-validation %v (want 6 + 2)", fit, inner)
	}
	// Make hc's inner-validation tasks wildly off.
	for _, tk := range inner {
		for _, e := range d.Emb[tk] {
			for h := range e {
				e[h] += 1000
			}
		}
		for _, c := range d.Ckpts[tk] {
			for j := range c {
				c[j] += 1000
			}
		}
	}
	wantMean, wantScale := outStats(d.Ckpts, fit, [][]int{{2, 2}, {2, 2}}, "variance")
	for _, v := range wantMean {
		if math.Abs(float64(v)) > 1 {
			t.Fatalf("test setup: the fit tasks' mean should be small, got %g", v)
		}
	}
	g := newGenerator(models.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj"}}, []string{"a.lora_A", "a.lora_B"},
		[][]int{{2, 2}, {2, 2}}, D, 4, 3, 8, 1)
	if _, err := trainGenerator(context.Background(), dgBackend, g, d, all, nil, genTrainOpts{
		Steps: 1, Batch: 2, LR: 1e-3, WD: 0, StdFloor: 0.1, Seed: 1, publish: meta.Discard}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.OutMean, wantMean) || !slices.Equal(g.OutScale, wantScale) {
		t.Fatalf("hc output statistics include validation tasks: mean %v, want %v", g.OutMean, wantMean)
	}
	for h, v := range g.EmbMean {
		if math.Abs(float64(v)) > 100 {
			t.Fatalf("hc feature mean %d = %g includes the validation tasks", h, v)
		}
	}

	// Ridge: a fit on the same subset never sees the held-out tasks' offsets.
	rg := ridgeTestGenerator(D, N)
	rg.Shapes = [][]int{{2, 2}, {2, 2}}
	rd := newRidgeData(d, rg.Shapes, rg.P, 2, "variance", 1)
	fitRidge(rg, d, rd, fit, ridgeOpts{Folds: 3, StdFloor: 0.1, Weighting: "variance"})
	if !slices.Equal(rg.OutMean, wantMean) {
		t.Fatalf("ridge output mean includes held-out tasks: %v, want %v", rg.OutMean, wantMean)
	}
	for h, v := range rg.EmbMean {
		if math.Abs(float64(v)) > 100 {
			t.Fatalf("ridge feature mean %d = %g includes held-out tasks", h, v)
		}
	}
	f := newRidgeFold(rd, fit[:3], 0.1)
	for _, r := range f.rows {
		if !slices.Contains(fit[:3], rd.rowTask[r]) {
			t.Fatalf("fold on tasks %v uses a row of task %d", fit[:3], rd.rowTask[r])
		}
	}
	// CV folds partition the tasks.
	seen := map[int]int{}
	for _, fold := range ridgeFolds(all, 3) {
		for _, tk := range fold {
			seen[tk]++
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("ridge folds do not partition the tasks: %v", seen)
	}
	for tk, n := range seen {
		if n != 1 {
			t.Fatalf("task %d in %d folds", tk, n)
		}
	}
}

func TestFeatureStdFloor(t *testing.T) {
	rows := [][]float64{{0, 1, 5}, {0, 3, 5}, {0, 5, 5.000001}}
	_, sd := featStats(rows, 0.1)
	// RMS s.d. over the non-constant features ≈ s.d. of {1,3,5} / √2.
	rms := math.Sqrt(8.0/3) / math.Sqrt(2)
	if math.Abs(sd[0]-0.1*rms) > 1e-6 || math.Abs(sd[2]-0.1*rms) > 1e-6 {
		t.Fatalf("constant features must be floored at 0.1×RMS s.d. = %g, got %v", 0.1*rms, sd)
	}
	if math.Abs(sd[1]-math.Sqrt(8.0/3)) > 1e-9 {
		t.Fatalf("a varying feature keeps its s.d.: got %g", sd[1])
	}
}

// regimeTask is a two-option task whose answer is fixed by a hidden regime
// (0: always "even", 1: always "odd") that the prompts reveal only through a
// regime word in some of them — the toy analog of the built-in world v2.
func regimeTask(i, regime int) *tasks.Task {
	r := rand.New(rand.NewPCG(uint64(i), 17))
	word := []string{"red", "blue"}[regime]
	mk := func(n int) []tasks.Example {
		out := make([]tasks.Example, n)
		for k := range out {
			p := fmt.Sprintf("%d and %d?", r.IntN(50), r.IntN(50))
			if r.IntN(2) == 0 {
				p = word + " " + p
			}
			out[k] = tasks.Example{Prompt: p, Options: []string{"even", "odd"}, Answer: regime}
		}
		return out
	}
	return &tasks.Task{Name: fmt.Sprintf("regime#%d", i), Suite: "regime", Role: tasks.InDomain,
		Hidden: map[string]string{"regime": word}, Splits: tasks.Splits{Train: mk(8), Val: mk(8), Test: mk(8)}}
}

// TestGeneratorLearnsRegimeFromPrompts: end to end on a tiny model — collect
// LoRA trajectories on tasks of two hidden regimes, fit the ridge generator
// on bag-of-tokens features, and check (cross-fitted) that the generated
// adapter beats the mean checkpoint on validation accuracy and is not the
// mean, while the report carries the same-regime oracle.
func TestGeneratorLearnsRegimeFromPrompts(t *testing.T) {
	if testing.Short() {
		t.Skip("collects LoRA trajectories")
	}
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	var pool []*tasks.Task
	for i := range 12 {
		pool = append(pool, regimeTask(i, i%2))
	}
	o := meta.DeGAMLOptions{CollectTasks: 12, CollectPreSteps: 12, CollectPreLR: 3e-2, CollectFineSteps: -1, CollectBatch: 8,
		CollectWarmup: 6, PromptBatch: 8, GenFolds: 4, GenDecoder: meta.GenRidge}.WithDefaults()
	spec, err := r.embedSpecFor(o)
	if err != nil {
		t.Fatal(err)
	}
	set, err := collectCheckpoints(context.Background(), r, pool, o, spec, meta.DeGAMLGen, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Tasks) != 12 || len(set.Tasks[0].Ckpts) != 6 {
		t.Fatalf("collected %d tasks × %d checkpoints, want 12 × 6 (every step after the warm-up)", len(set.Tasks), len(set.Tasks[0].Ckpts))
	}
	m := &degamlMethod{name: meta.DeGAMLGen, opts: o}
	art, err := m.trainGen(context.Background(), r, set, spec)
	if err != nil {
		t.Fatal(err)
	}
	rep := art.Report
	t.Logf("%s; collected-LoRA val acc %.3f", rep.Summary(), meanOf(set, func(c *CollectedTask) float64 { return c.ValAcc }))
	if rep.Decoder != meta.GenRidge || rep.ValTasks != 12 || rep.Tasks != 12 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.CollapsedMean || !(rep.ValMSE < rep.ValMSEMean) {
		t.Fatalf("the regime is visible in the prompts, yet the generator kept the mean: %s", rep.Summary())
	}
	if !(rep.ValAccGen >= rep.ValAccMean+0.2) || rep.ValAccOracle < 0 {
		t.Fatalf("generated adapters should beat the mean checkpoint clearly: %s", rep.Summary())
	}
}

// TestHCGeneratorLearnsRegimeFromPrompts: the same regime world with the
// hyper-convolutional decoder; 6 of 18 tasks (both regimes) are held out of
// fitting and early stopping, and the generated adapters must beat the mean
// checkpoint on them.
func TestHCGeneratorLearnsRegimeFromPrompts(t *testing.T) {
	if testing.Short() {
		t.Skip("collects LoRA trajectories and trains a decoder")
	}
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	var pool []*tasks.Task
	for i := range 18 {
		pool = append(pool, regimeTask(i, i%2))
	}
	o := meta.DeGAMLOptions{CollectTasks: 18, CollectPreSteps: 12, CollectPreLR: 3e-2, CollectFineSteps: -1, CollectBatch: 8,
		CollectWarmup: 6, PromptBatch: 8, GenDecoder: meta.GenHC, GenSteps: 300, HeldOutEvery: 3}.WithDefaults()
	spec, err := r.embedSpecFor(o)
	if err != nil {
		t.Fatal(err)
	}
	set, err := collectCheckpoints(context.Background(), r, pool, o, spec, meta.DeGAMLGen, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &degamlMethod{name: meta.DeGAMLGen, opts: o}
	art, err := m.trainGen(context.Background(), r, set, spec)
	if err != nil {
		t.Fatal(err)
	}
	rep := art.Report
	t.Logf("%s", rep.Summary())
	if rep.Decoder != meta.GenHC || rep.HeldOutTasks != 6 || rep.Tasks != 9 || rep.ValTasks != 3 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.CollapsedMean || !(rep.HeldOutMSE < rep.HeldOutMSE0) || !(rep.HeldOutGenAcc >= rep.HeldOutMeanAcc+0.2) {
		t.Fatalf("hc should beat the mean checkpoint on held-out tasks: %s", rep.Summary())
	}
}
