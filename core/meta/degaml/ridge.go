package degaml

import (
	"math"
	"slices"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"
)

// The closed-form decoder of the generalization module: kernel ridge
// regression (linear kernel) from the standardized mean prompt feature of a
// prompt batch to the standardized mean checkpoint of its task,
//
//	ŷ(x) = ȳ + Σ_r k(x, x_r) α_r,  α = (K + λI)⁻¹ (Y − ȳ),  k(x, x') = z(x)·z(x'),
//
// where z standardizes features with statistics of the fit rows (s.d.
// floored), K is the Gram matrix of the fit rows and ȳ the mean of the fit
// tasks' mean checkpoints. λ = ∞ is the mean-checkpoint predictor, so the λ
// search can fall back to the mean — and then says so. λ is chosen by
// cross-validation over *tasks* (rows of one task never straddle a fold), with
// every statistic (feature standardization, ȳ) recomputed on each fold's
// training tasks, so the mean predictor gets no look at the held-out task.
//
// Cost: the errors of every fold and λ are computed in task space through the
// Gram matrix G of the tasks' mean checkpoints (n×n), never in the N-wide
// weight space: ‖ŷ_h − ȳ_h‖² = cᵀGc for the coefficient vector c of the
// prediction over the task targets. One eigendecomposition per fold serves
// the whole λ grid.

// ridgeData is what the ridge fit sees: per row a raw mean feature of one
// prompt batch and its task; per task the Gram of standardized mean
// checkpoints and the mean squared distance of its checkpoints to their mean.
type ridgeData struct {
	rows    [][]float64
	rowTask []int
	gram    [][]float64 // [n][n] over all tasks, Σ_j ỹ_u[j]·ỹ_v[j] (standardized, centred by a constant)
	within  []float64   // [n] mean over the task's checkpoints of Σ_j ((c_j − ȳ_j)/s_j)²
	N       int         // generated scalars (for per-element MSE)
}

// ridgeMinGain is the relative CV-MSE improvement over the mean checkpoint a
// finite λ needs to be chosen.
const ridgeMinGain = 0.005

// ridgeAccuracyGrid is the coarser λ grid of selection by accuracy (each
// point costs a cross-fitted evaluation of every task).
var ridgeAccuracyGrid = []float64{0.1, 1, 10, 100, math.Inf(1)}

// ridgeLambdaGrid are the λ of the search as multiples of the mean eigenvalue
// of K (tr K / m); +Inf is the mean predictor.
var ridgeLambdaGrid = []float64{1e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10, 100, math.Inf(1)}

// featStats returns per-feature mean and s.d. of rows, with the s.d. floored
// at floorFrac × the RMS s.d. over all non-constant features (and at 1e-8): a
// feature (nearly) constant over the fit tasks would otherwise be multiplied
// by a huge 1/s.d. when it moves at test time.
func featStats(rows [][]float64, floorFrac float64) (mean, sd []float64) {
	D := len(rows[0])
	mean = make([]float64, D)
	sd = make([]float64, D)
	for _, r := range rows {
		for j, v := range r {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(rows))
	}
	for _, r := range rows {
		for j, v := range r {
			d := v - mean[j]
			sd[j] += d * d
		}
	}
	var ss float64
	nz := 0
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(rows)))
		if sd[j] > 1e-12 {
			ss += sd[j] * sd[j]
			nz++
		}
	}
	floor := 1e-8
	if nz > 0 {
		floor = max(floor, floorFrac*math.Sqrt(ss/float64(nz)))
	}
	for j := range sd {
		sd[j] = max(sd[j], floor)
	}
	return mean, sd
}

func standardizeRow(x, mean, sd []float64) []float64 {
	z := make([]float64, len(x))
	for j, v := range x {
		z[j] = (v - mean[j]) / sd[j]
	}
	return z
}

func dot64(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// jacobiEigen diagonalizes the symmetric matrix a by cyclic Jacobi
// rotations: a = Q·diag(vals)·Qᵀ, eigenvectors in the columns of q.
func jacobiEigen(a [][]float64) (vals []float64, q [][]float64) {
	n := len(a)
	A := make([][]float64, n)
	q = make([][]float64, n)
	var total float64
	for i := range n {
		A[i] = slices.Clone(a[i])
		q[i] = make([]float64, n)
		q[i][i] = 1
		for _, v := range a[i] {
			total += v * v
		}
	}
	for range 100 {
		var off float64
		for i := range n {
			for j := i + 1; j < n; j++ {
				off += A[i][j] * A[i][j]
			}
		}
		if off <= 1e-24*total || off == 0 {
			break
		}
		for p := range n {
			for r := p + 1; r < n; r++ {
				if math.Abs(A[p][r]) < 1e-300 {
					continue
				}
				theta := (A[r][r] - A[p][p]) / (2 * A[p][r])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n {
					akp, akr := A[k][p], A[k][r]
					A[k][p], A[k][r] = c*akp-s*akr, s*akp+c*akr
				}
				for k := range n {
					apk, ark := A[p][k], A[r][k]
					A[p][k], A[r][k] = c*apk-s*ark, s*apk+c*ark
				}
				for k := range n {
					qkp, qkr := q[k][p], q[k][r]
					q[k][p], q[k][r] = c*qkp-s*qkr, s*qkp+c*qkr
				}
			}
		}
	}
	vals = make([]float64, n)
	for i := range n {
		vals[i] = max(A[i][i], 0) // a Gram matrix is PSD; clip round-off
	}
	return vals, q
}

// ridgeFold is a fit on the rows of some tasks: standardization, Gram
// eigendecomposition, and the row → task map.
type ridgeFold struct {
	tasks     []int // fit tasks (indices into ridgeData tasks)
	rows      []int // fit rows
	mean, sd  []float64
	z         [][]float64 // standardized fit rows
	vals      []float64
	q         [][]float64
	meanEigen float64
}

func newRidgeFold(d *ridgeData, tasks []int, floorFrac float64) *ridgeFold {
	in := map[int]bool{}
	for _, t := range tasks {
		in[t] = true
	}
	f := &ridgeFold{tasks: tasks}
	var raw [][]float64
	for r, t := range d.rowTask {
		if in[t] {
			f.rows = append(f.rows, r)
			raw = append(raw, d.rows[r])
		}
	}
	f.mean, f.sd = featStats(raw, floorFrac)
	for _, x := range raw {
		f.z = append(f.z, standardizeRow(x, f.mean, f.sd))
	}
	m := len(f.z)
	K := make([][]float64, m)
	var tr float64
	for i := range m {
		K[i] = make([]float64, m)
		for j := range m {
			if j < i {
				K[i][j] = K[j][i]
			} else {
				K[i][j] = dot64(f.z[i], f.z[j])
			}
		}
		tr += K[i][i]
	}
	f.vals, f.q = jacobiEigen(K)
	f.meanEigen = max(tr/float64(m), 1e-12)
	return f
}

// smoother returns S (len(xs) × m) with ŷ(x) − ȳ = Σ_r S[x][r] (Y_r − ȳ) for
// ridge parameter lam (absolute); nil rows of zeros when lam = +Inf.
func (f *ridgeFold) smoother(xs [][]float64, lam float64) [][]float64 {
	m := len(f.z)
	S := make([][]float64, len(xs))
	for h, x := range xs {
		S[h] = make([]float64, m)
		if math.IsInf(lam, 1) {
			continue
		}
		z := standardizeRow(x, f.mean, f.sd)
		k := make([]float64, m)
		for r := range m {
			k[r] = dot64(z, f.z[r])
		}
		// S = k·Q·diag(1/(vals+λ))·Qᵀ
		w := make([]float64, m)
		for e := range m {
			var s float64
			for r := range m {
				s += k[r] * f.q[r][e]
			}
			w[e] = s / (f.vals[e] + lam)
		}
		for r := range m {
			var s float64
			for e := range m {
				s += f.q[r][e] * w[e]
			}
			S[h][r] = s
		}
	}
	return S
}

// taskCoefs turns a smoother row into coefficients over the fit tasks: the
// prediction is Σ_u c_u ȳ_u (the mean ȳ = Σ_u ȳ_u / |tasks| included).
func (f *ridgeFold) taskCoefs(d *ridgeData, srow []float64, nTasks int) []float64 {
	c := make([]float64, nTasks)
	var sum float64
	for i, r := range f.rows {
		c[d.rowTask[r]] += srow[i]
		sum += srow[i]
	}
	inv := 1 / float64(len(f.tasks))
	for _, u := range f.tasks {
		c[u] += inv * (1 - sum)
	}
	return c
}

// heldMSE is the per-element MSE of the fold's predictions (ridge parameter
// lam relative to the mean eigenvalue) against the checkpoints of the rows
// of held tasks, and the number of rows scored.
func (f *ridgeFold) heldMSE(d *ridgeData, held []int, rel float64) (float64, int) {
	in := map[int]bool{}
	for _, t := range held {
		in[t] = true
	}
	var xs [][]float64
	var ts []int
	for r, t := range d.rowTask {
		if in[t] {
			xs = append(xs, d.rows[r])
			ts = append(ts, t)
		}
	}
	S := f.smoother(xs, rel*f.meanEigen)
	n := len(d.gram)
	var tot float64
	for h, srow := range S {
		c := f.taskCoefs(d, srow, n)
		c[ts[h]]--
		var e float64
		for u := range n {
			if c[u] == 0 {
				continue
			}
			for v := range n {
				e += c[u] * c[v] * d.gram[u][v]
			}
		}
		tot += (max(e, 0) + d.within[ts[h]]) / float64(d.N)
	}
	return tot, len(S)
}

// ridgeCV is the outcome of the λ search on a set of tasks.
type ridgeCV struct {
	Rel     float64   // chosen λ / mean eigenvalue (+Inf: the mean predictor)
	MSE     []float64 // CV MSE per grid point (ridgeLambdaGrid order)
	MSEMean float64   // CV MSE of the mean predictor (λ = ∞)
	MSEBest float64
}

// ridgeFolds splits tasks into k folds after a fixed shuffle. Collected
// tasks come round-robin over suites, so plain round-robin folds with k equal
// to the number of suites would hold out one whole suite per fold — a
// leave-one-suite-out validation that rejects everything a suite's own
// worlds share. Shuffled folds validate on held-out worlds of seen suites.
func ridgeFolds(tasks []int, k int) [][]int {
	k = max(1, min(k, len(tasks)))
	order := slices.Clone(tasks)
	kit.NewRNG(int64(len(tasks)), 0xf01d5).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	out := make([][]int, k)
	for i, t := range order {
		out[i%k] = append(out[i%k], t)
	}
	return out
}

// selectRidge chooses λ on tasks by k-fold cross-validation over tasks.
// With fewer than 2 tasks there is nothing to validate on: the mean.
func selectRidge(d *ridgeData, tasks []int, k int, floorFrac float64) ridgeCV {
	cv := ridgeCV{MSE: make([]float64, len(ridgeLambdaGrid))}
	inf := len(ridgeLambdaGrid) - 1
	if len(tasks) < 2 {
		cv.Rel = math.Inf(1)
		return cv
	}
	rows := 0
	for _, held := range ridgeFolds(tasks, k) {
		var fit []int
		for _, t := range tasks {
			if !slices.Contains(held, t) {
				fit = append(fit, t)
			}
		}
		f := newRidgeFold(d, fit, floorFrac)
		for i, rel := range ridgeLambdaGrid {
			s, n := f.heldMSE(d, held, rel)
			cv.MSE[i] += s
			if i == 0 {
				rows += n
			}
		}
	}
	for i := range cv.MSE {
		cv.MSE[i] /= float64(max(rows, 1))
	}
	// A finite λ must beat the mean predictor by more than ridgeMinGain
	// (relative): a gain the cross-validation cannot resolve is not claimed.
	best := inf
	for i := range cv.MSE {
		if cv.MSE[i] < (1-ridgeMinGain)*cv.MSE[inf] && cv.MSE[i] < cv.MSE[best] {
			best = i
		}
	}
	cv.Rel, cv.MSEBest, cv.MSEMean = ridgeLambdaGrid[best], cv.MSE[best], cv.MSE[inf]
	return cv
}

// newRidgeData builds the ridge rows (rowsPerTask prompt batches of P
// prompts per task, each a mean feature) and the task-space Gram matrix of
// every task of d. The Gram's standardization only sets the MSE metric
// (per-tensor variance weighting): every error is a difference of task
// means, so the centring constant cancels.
func newRidgeData(d genData, shapes [][]int, P, rowsPerTask int, weighting string, seed int64) *ridgeData {
	n := len(d.Ckpts)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	ref, scale := outStats(d.Ckpts, all, shapes, weighting)
	N := len(ref)
	rd := &ridgeData{N: N, gram: make([][]float64, n), within: make([]float64, n)}
	rng := kit.NewRNG(seed, 0x71d6e)
	means := make([][]float64, n)
	for t := range n {
		for range rowsPerTask {
			rd.rows = append(rd.rows, batchMean(d.Emb[t], samplePromptBatch(rng, len(d.Emb[t]), P)))
			rd.rowTask = append(rd.rowTask, t)
		}
		mu := make([]float64, N)
		for _, ck := range d.Ckpts[t] {
			for j, v := range ck {
				mu[j] += float64(v) / float64(len(d.Ckpts[t]))
			}
		}
		var w float64
		for _, ck := range d.Ckpts[t] {
			for j, v := range ck {
				dv := (float64(v) - mu[j]) / float64(scale[j])
				w += dv * dv
			}
		}
		rd.within[t] = w / float64(len(d.Ckpts[t]))
		for j := range mu {
			mu[j] = (mu[j] - float64(ref[j])) / float64(scale[j])
		}
		means[t] = mu
	}
	for u := range n {
		rd.gram[u] = make([]float64, n)
		for v := range u + 1 {
			rd.gram[u][v] = dot64(means[u], means[v])
			rd.gram[v][u] = rd.gram[u][v]
		}
	}
	return rd
}

// ridgeOpts are the ridge decoder's knobs.
type ridgeOpts struct {
	Folds     int
	StdFloor  float64
	Weighting string
}

// fitRidge fits g (Decoder "ridge") on tasks fitIdx of d: λ by
// cross-validation over those tasks, then the closed form on all of them.
// Every statistic comes from fitIdx only.
func fitRidge(g *Generator, d genData, rd *ridgeData, fitIdx []int, o ridgeOpts) ridgeCV {
	cv := selectRidge(rd, fitIdx, o.Folds, o.StdFloor)
	fitRidgeAt(g, d, rd, fitIdx, o, cv.Rel)
	return cv
}

// fitRidgeAt fits g on tasks fitIdx at ridge parameter rel (relative to the
// mean eigenvalue; +Inf: the mean checkpoint).
func fitRidgeAt(g *Generator, d genData, rd *ridgeData, fitIdx []int, o ridgeOpts, rel float64) {
	g.Decoder = meta.GenRidge
	cv := ridgeCV{Rel: rel}
	f := newRidgeFold(rd, fitIdx, o.StdFloor)
	g.H = len(f.mean)
	g.EmbMean, g.EmbStd = make([]float32, g.H), make([]float32, g.H)
	for h := range g.H {
		g.EmbMean[h], g.EmbStd[h] = float32(f.mean[h]), float32(f.sd[h])
	}
	g.OutMean, g.OutScale = outStats(d.Ckpts, fitIdx, g.Shapes, o.Weighting)
	g.Lambda = cv.Rel
	g.RidgeX, g.RidgeB, g.RidgeY = nil, nil, nil
	if math.IsInf(cv.Rel, 1) {
		return // the mean checkpoint: nothing else to store
	}
	N := g.N()
	pos := map[int]int{}
	for u, t := range fitIdx {
		pos[t] = u
		y := make([]float32, N)
		for _, ck := range d.Ckpts[t] {
			for j, v := range ck {
				y[j] += v / float32(len(d.Ckpts[t]))
			}
		}
		for j := range y {
			y[j] = (y[j] - g.OutMean[j]) / g.OutScale[j]
		}
		g.RidgeY = append(g.RidgeY, y)
	}
	m := len(f.z)
	lam := cv.Rel * f.meanEigen
	for r := range m {
		g.RidgeX = append(g.RidgeX, toF32(f.z[r]))
		// Row r of (K+λI)⁻¹ = Q·diag(1/(vals+λ))·Qᵀ, summed over each task's rows.
		b := make([]float32, len(fitIdx))
		for r2 := range m {
			var s float64
			for e := range m {
				s += f.q[r][e] * f.q[r2][e] / (f.vals[e] + lam)
			}
			b[pos[rd.rowTask[f.rows[r2]]]] += float32(s)
		}
		g.RidgeB = append(g.RidgeB, b)
	}
}

// ridgePredict maps a raw mean prompt feature to raw flattened weights.
func (g *Generator) ridgePredict(x []float64) []float32 {
	out := slices.Clone(g.OutMean)
	if len(g.RidgeB) == 0 {
		return out
	}
	z := make([]float64, g.H)
	for h := range g.H {
		z[h] = (x[h] - float64(g.EmbMean[h])) / float64(g.EmbStd[h])
	}
	w := make([]float64, len(g.RidgeY))
	for r, xr := range g.RidgeX {
		var k float64
		for h, v := range xr {
			k += z[h] * float64(v)
		}
		for u, b := range g.RidgeB[r] {
			w[u] += k * float64(b)
		}
	}
	for u, y := range g.RidgeY {
		wu := float32(w[u])
		for j, v := range y {
			out[j] += g.OutScale[j] * wu * v
		}
	}
	return out
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
