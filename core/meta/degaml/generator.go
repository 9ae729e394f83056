package degaml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
)

// Generator is DeGAML's generalization module G: features of a task's
// unlabeled prompts → every LoRA A/B tensor, in one pass, no gradient step.
//
// Two decoders (DeGAMLOptions.GenDecoder):
//   - "ridge" (default): closed-form kernel ridge regression from the mean
//     feature of a prompt batch to the task's mean checkpoint, λ chosen by
//     cross-validation over the training tasks (ridge.go).
//   - "hc": a small, faithful variant of Drag-and-Drop's hyper-convolutional
//     decoder: two 1-D convolutions over the prompt axis (kernel K, SAME
//     padding, SiLU, residual on the second), mean- and max-pooling over the
//     prompts, then a linear head that emits the flattened "token grid" of
//     all LoRA tensors, trained by MSE with AdamW and early stopping.
//
// Both predict standardized weights: θ = OutMean + OutScale ⊙ ŷ, where
// OutMean is the mean collected checkpoint of the fit tasks and OutScale a
// per-tensor spread (variance weighting).
type Generator struct {
	LoRA    models.LoRAConfig
	Names   []string // adapter tensor names, sorted (the token-grid order)
	Shapes  [][]int
	Embed   EmbedSpec // how prompts become features
	Decoder string    // GenRidge or GenHC
	H, P, K int       // feature width (Embed.Dim()), prompts per batch, kernel (hc)
	C       int       // decoder channels (hc)

	// EmbMean/EmbStd standardize features [H]: per prompt for "hc", per
	// prompt-batch mean for "ridge"; computed on the fit tasks only.
	EmbMean, EmbStd []float32
	OutMean         []float32 // [N]
	OutScale        []float32 // [N]

	// hc: W1 [K·H, C], b1 [C], W2 [K·C, C], b2 [C], Wh [2C, N], bh [N].
	Params []*tensors.Tensor

	// ridge (dual form): ŷ = Σ_u w_u RidgeY[u] with w = k(x)ᵀ·RidgeB and
	// k(x)_r = z(x)·RidgeX[r]; Lambda relative to the mean eigenvalue of the
	// Gram matrix (+Inf: the mean checkpoint).
	Lambda float64
	RidgeX [][]float32 // [m][H] standardized fit rows
	RidgeB [][]float32 // [m][n] (K+λI)⁻¹ summed over each task's rows
	RidgeY [][]float32 // [n][N] standardized fit-task mean checkpoints − their mean

	mu      sync.Mutex
	fwd     *Exec
	fwdBack compute.Backend
}

// N is the number of generated scalars.
func (g *Generator) N() int { return len(g.OutMean) }

// newGenerator initializes a generator for the given adapter layout.
func newGenerator(lora models.LoRAConfig, names []string, shapes [][]int, H, P, K, C int, seed int64) *Generator {
	K = min(K, 2*P-1)
	if K%2 == 0 {
		K-- // odd kernels keep SAME padding symmetric
	}
	K = max(K, 1)
	n := 0
	for _, s := range shapes {
		n += s[0] * s[1]
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e4))
	normal := func(std float64, dims ...int) *tensors.Tensor {
		size := 1
		for _, d := range dims {
			size *= d
		}
		d := make([]float32, size)
		for i := range d {
			d[i] = float32(rng.NormFloat64() * std)
		}
		return tensors.FromFlatDataAndDimensions(d, dims...)
	}
	zeros := func(dims ...int) *tensors.Tensor { return normal(0, dims...) }
	g := &Generator{LoRA: lora, Names: names, Shapes: shapes, Decoder: meta.GenHC, H: H, P: P, K: K, C: C,
		EmbMean: make([]float32, H), EmbStd: ones(H), OutMean: make([]float32, n), OutScale: ones(n)}
	g.Params = []*tensors.Tensor{
		normal(1/math.Sqrt(float64(K*H)), K*H, C), zeros(C),
		normal(1/math.Sqrt(float64(K*C)), K*C, C), zeros(C),
		// A near-zero head: the untrained generator predicts ≈ OutMean, the
		// mean checkpoint, so the held-out MSE before training is the
		// mean-predictor reference the trained generator must beat.
		normal(1e-3/math.Sqrt(float64(2*C)), 2*C, n), zeros(n),
	}
	return g
}

func ones(n int) []float32 {
	o := make([]float32, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

// unfoldMatrix U[k,q,p] = 1 when prompt p is tap k of output position q (SAME
// padding): a 1-D convolution becomes one einsum with U and one matmul, which
// avoids relying on the backend's ConvGeneral gradient.
func unfoldMatrix(P, K int) *tensors.Tensor {
	u := make([]float32, K*P*P)
	for k := range K {
		for q := range P {
			p := q + k - K/2
			if p >= 0 && p < P {
				u[(k*P+q)*P+p] = 1
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(u, K, P, P)
}

// genForward is the decoder graph: e [B,P,H] → standardized weights [B,N].
func genForward(e *Node, p []*Node, K int) *Node {
	g := e.Graph()
	B, P := e.Shape().Dimensions[0], e.Shape().Dimensions[1]
	u := Const(g, unfoldMatrix(P, K))
	silu := func(x *Node) *Node { return Mul(x, Sigmoid(x)) }
	conv := func(x, w, b *Node) *Node {
		c := x.Shape().Dimensions[2]
		xu := Reshape(Einsum("kqp,bpc->bqkc", u, x), B, P, K*c)
		y := Einsum("bqi,io->bqo", xu, w)
		return Add(y, Reshape(b, 1, 1, b.Shape().Dimensions[0]))
	}
	x1 := silu(conv(e, p[0], p[1]))
	x2 := Add(silu(conv(x1, p[2], p[3])), x1)
	pooled := Concatenate([]*Node{ReduceMean(x2, 1), ReduceMax(x2, 1)}, -1)
	out := Einsum("bi,io->bo", pooled, p[4])
	return Add(out, Reshape(p[5], 1, p[5].Shape().Dimensions[0]))
}

// standardize maps raw embeddings of a prompt batch to the decoder's input
// [P·H] (flattened), adding Gaussian noise of std noise.
func (g *Generator) standardize(emb [][]float32, idx []int, rng *rand.Rand, noise float64, dst []float32) {
	H := g.H
	for i, j := range idx {
		for h := range H {
			v := (emb[j][h] - g.EmbMean[h]) / g.EmbStd[h]
			if noise > 0 {
				v += float32(rng.NormFloat64() * noise)
			}
			dst[i*H+h] = v
		}
	}
}

func (g *Generator) forwardExec(b compute.Backend) (*Exec, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fwd != nil && g.fwdBack == b {
		return g.fwd, nil
	}
	e, err := NewExec(b, func(gr *Graph, in []*Node) []*Node {
		return []*Node{genForward(in[0], in[1:], g.K)}
	})
	if err != nil {
		return nil, err
	}
	g.fwd, g.fwdBack = e, b
	return e, nil
}

// predict runs the decoder on standardized batches e [B·P·H] and returns raw
// (un-standardized) flattened weights, one []float32 of N per batch row.
func (g *Generator) predict(b compute.Backend, e []float32, B int) ([][]float32, error) {
	ex, err := g.forwardExec(b)
	if err != nil {
		return nil, err
	}
	args := append([]any{tensors.FromFlatDataAndDimensions(e, B, g.P, g.H)}, kit.Anys(g.Params)...)
	out, err := ex.Call(args...)
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	n := g.N()
	rows := make([][]float32, B)
	for i := range B {
		row := flat[i*n : (i+1)*n]
		for j := range row {
			row[j] = g.OutMean[j] + g.OutScale[j]*row[j]
		}
		rows[i] = row
	}
	return rows, nil
}

// adapterFromFlat reshapes a flattened weight vector into an adapter.
func (g *Generator) adapterFromFlat(flat []float32) *models.Adapter {
	p := make(models.Params, len(g.Names))
	off := 0
	for i, n := range g.Names {
		s := g.Shapes[i]
		size := s[0] * s[1]
		p[n] = tensors.FromFlatDataAndDimensions(slices.Clone(flat[off:off+size]), s...)
		off += size
	}
	l := g.LoRA
	l.Targets = slices.Clone(l.Targets)
	return &models.Adapter{Config: l, Params: p}
}

// flattenAdapter concatenates an adapter's tensors in g.Names order.
func flattenAdapter(names []string, a *models.Adapter) []float32 {
	var out []float32
	for _, n := range names {
		out = append(out, tensors.MustCopyFlatData[float32](a.Params[n])...)
	}
	return out
}

// Generate emits a LoRA adapter for a task from its prompt features (one
// pass, no gradient step). The prompt batch is drawn with rng, so TTS and
// mixing get different adapters from resampled batches.
func (g *Generator) Generate(b compute.Backend, emb [][]float32, rng *rand.Rand) (*models.Adapter, error) {
	if len(emb) == 0 {
		return nil, fmt.Errorf("degaml: no prompts to generate an adapter from")
	}
	if len(emb[0]) != g.H {
		return nil, fmt.Errorf("degaml: prompt features have width %d, the generator was trained on %d", len(emb[0]), g.H)
	}
	idx := samplePromptBatch(rng, len(emb), g.P)
	if g.Decoder == meta.GenRidge {
		return g.adapterFromFlat(g.ridgePredict(batchMean(emb, idx))), nil
	}
	e := make([]float32, g.P*g.H)
	g.standardize(emb, idx, nil, 0, e)
	rows, err := g.predict(b, e, 1)
	if err != nil {
		return nil, err
	}
	return g.adapterFromFlat(rows[0]), nil
}

// MeanAdapter is the mean collected checkpoint of the fit tasks: what a
// generator that learned nothing from the prompts emits.
func (g *Generator) MeanAdapter() *models.Adapter { return g.adapterFromFlat(slices.Clone(g.OutMean)) }

// GenReport summarizes how the generator was fit and what it is worth on
// tasks it was not fit on. Every result carries the comparison with the mean
// checkpoint, so "the generator learned nothing" can never pass silently.
type GenReport struct {
	Decoder string
	Tasks   int // collected tasks the generator was fit on

	// ridge: the chosen λ relative to the mean Gram eigenvalue (+Inf: the
	// mean checkpoint), how it was chosen (GenSelectAccuracy: by
	// cross-fitted validation accuracy — then ValAccGen is the selected,
	// optimistic value; GenSelectMSE: by CV MSE) and the folds.
	Lambda float64
	Select string
	Folds  int
	// hc: training steps and the kept snapshot (0: the untrained generator,
	// ≈ the mean checkpoint), early-stopped on inner-validation tasks.
	Steps    int
	BestStep int
	TrainMSE float64

	// Validation: ridge — cross-validated over the training tasks (every
	// task scored by a map fit without it); hc — the inner-validation tasks.
	// MSEs are standardized (per-tensor variance weighted) against every
	// kept checkpoint; accuracies are the tasks' validation-split accuracy
	// of the generated adapter, of the mean checkpoint, and of the mean
	// checkpoint of the fit tasks of the same hidden regime (the oracle a
	// prompt-conditioned generator can at best reach; -1 when the tasks
	// expose no "regime").
	ValTasks      int
	ValMSEMean    float64
	ValMSE        float64
	ValAccGen     float64
	ValAccMean    float64
	ValAccOracle  float64
	CollapsedMean bool // the kept generator is the mean checkpoint

	// Held-out tasks (only when DeGAMLOptions.HeldOutEvery > 0): never used
	// for fitting or selection.
	HeldOutTasks   int
	HeldOutMSE0    float64 // the mean checkpoint's
	HeldOutMSE     float64
	HeldOutGenAcc  float64
	HeldOutMeanAcc float64
}

// Summary is the one-line report shown in logs and the TUI.
func (r GenReport) Summary() string {
	var sel string
	switch r.Decoder {
	case meta.GenRidge:
		by := "MSE"
		if r.Select == meta.GenSelectAccuracy {
			by = "accuracy"
		}
		sel = fmt.Sprintf("ridge λ=%.3g×mean eigenvalue (%d-fold CV %s over %d tasks)", r.Lambda, r.Folds, by, r.Tasks)
		if math.IsInf(r.Lambda, 1) {
			sel = fmt.Sprintf("ridge λ=∞ (%d-fold CV %s over %d tasks)", r.Folds, by, r.Tasks)
		}
	default:
		sel = fmt.Sprintf("hc best step %d/%d (inner validation, %d fit tasks)", r.BestStep, r.Steps, r.Tasks)
	}
	s := fmt.Sprintf("generator %s; validation on %d tasks: MSE %.4f (mean checkpoint %.4f), adapter accuracy %s (mean checkpoint %s",
		sel, r.ValTasks, r.ValMSE, r.ValMSEMean, pct(r.ValAccGen), pct(r.ValAccMean))
	if r.ValAccOracle >= 0 {
		s += ", same-regime oracle " + pct(r.ValAccOracle)
	}
	s += ")"
	if r.HeldOutTasks > 0 {
		s += fmt.Sprintf("; held-out %d tasks: MSE %.4f (mean %.4f), accuracy %s (mean %s)",
			r.HeldOutTasks, r.HeldOutMSE, r.HeldOutMSE0, pct(r.HeldOutGenAcc), pct(r.HeldOutMeanAcc))
	}
	if r.CollapsedMean {
		s += " — the generator IS the mean checkpoint: the prompts predicted nothing better"
	}
	return s
}

func pct(x float64) string {
	if x < 0 || math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

// genPair is one (prompt batch, checkpoint) training pair.
type genPair struct {
	task, ckpt int
	idx        []int
}

// genData are the collected trajectories as the generator sees them.
type genData struct {
	Emb   [][][]float32 // per task: prompt embeddings
	Ckpts [][][]float32 // per task: flattened checkpoints
}

// outStats returns the mean checkpoint of tasks idx (the mean of each task's
// mean checkpoint, so every task weighs the same) and, with weighting
// "variance", one scale per tensor (a LoRA "layer"): its RMS spread around
// the mean over every kept checkpoint. The MSE in standardized units then
// weights every tensor by the inverse of its variance, so the small B
// matrices count as much as A. The scale is floored at 1e-8 (a tensor that
// never moved contributes no error anyway).
func outStats(ckpts [][][]float32, idx []int, shapes [][]int, weighting string) (mean, scale []float32) {
	n := len(ckpts[idx[0]][0])
	om := make([]float64, n)
	for _, t := range idx {
		w := 1 / float64(len(ckpts[t])*len(idx))
		for _, ck := range ckpts[t] {
			for j, v := range ck {
				om[j] += w * float64(v)
			}
		}
	}
	mean = make([]float32, n)
	for j := range om {
		mean[j] = float32(om[j])
	}
	scale = ones(n)
	if weighting != "variance" {
		return mean, scale
	}
	off := 0
	for _, s := range shapes {
		size := s[0] * s[1]
		var ss, k float64
		for _, t := range idx {
			for _, ck := range ckpts[t] {
				for j := off; j < off+size; j++ {
					dv := float64(ck[j]) - om[j]
					ss += dv * dv
					k++
				}
			}
		}
		sd := float32(max(math.Sqrt(ss/max(k, 1)), 1e-8))
		for j := off; j < off+size; j++ {
			scale[j] = sd
		}
		off += size
	}
	return mean, scale
}

// fitStats sets the standardization of per-prompt features and of outputs
// from the fit tasks idx only: tasks used to validate the generator must
// not shape the mean checkpoint it is compared with. floorFrac floors every
// feature's s.d. (featStats).
func (g *Generator) fitStats(d genData, idx []int, weighting string, floorFrac float64) {
	var rows [][]float64
	for _, t := range idx {
		for _, e := range d.Emb[t] {
			r := make([]float64, len(e))
			for h, v := range e {
				r[h] = float64(v)
			}
			rows = append(rows, r)
		}
	}
	mean, sd := featStats(rows, floorFrac)
	for h := range g.H {
		g.EmbMean[h], g.EmbStd[h] = float32(mean[h]), float32(sd[h])
	}
	g.OutMean, g.OutScale = outStats(d.Ckpts, idx, g.Shapes, weighting)
}

// pairMSE is the standardized MSE on fixed pairs of the generator, or of
// the mean checkpoint when mean is set.
func (g *Generator) pairMSE(b compute.Backend, d genData, pairs []genPair, mean bool) (float64, error) {
	if len(pairs) == 0 {
		return 0, nil
	}
	var tot float64
	n := g.N()
	e := make([]float32, g.P*g.H)
	for _, pr := range pairs {
		pred := g.OutMean
		if !mean {
			g.standardize(d.Emb[pr.task], pr.idx, nil, 0, e)
			rows, err := g.predict(b, e, 1)
			if err != nil {
				return 0, err
			}
			pred = rows[0]
		}
		ck := d.Ckpts[pr.task][pr.ckpt]
		for j := range n {
			dv := float64(pred[j]-ck[j]) / float64(g.OutScale[j])
			tot += dv * dv
		}
	}
	return tot / float64(len(pairs)*n), nil
}

// genTrainOpts are the generator-training knobs.
type genTrainOpts struct {
	Steps, Batch int
	LR, WD       float64
	Noise        float64
	Weighting    string  // output weighting ("variance" | "none")
	StdFloor     float64 // feature s.d. floor (fraction of the RMS s.d.)
	Seed         int64
	method       string
	publish      func(events.Event)
}

// hcSplit splits the training tasks into fit and inner-validation tasks (a
// quarter, when there are at least 4): early stopping of the hc decoder
// needs tasks the fit never saw.
//
// The quarter is drawn after a fixed shuffle: tasks come round-robin over
// suites, and every 4th of them would cover only some suites.
func hcSplit(trainIdx []int) (fitIdx, innerIdx []int) {
	if len(trainIdx) < 4 {
		return trainIdx, nil
	}
	order := slices.Clone(trainIdx)
	kit.NewRNG(int64(len(order)), 0x5b1).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	inner := map[int]bool{}
	for i, t := range order {
		if i%4 == 3 {
			inner[t] = true
		}
	}
	for _, t := range trainIdx {
		if inner[t] {
			innerIdx = append(innerIdx, t)
		} else {
			fitIdx = append(fitIdx, t)
		}
	}
	return fitIdx, innerIdx
}

// trainGenerator fits the hc decoder g by MSE between generated and
// collected weights on sampled (prompt batch, checkpoint) pairs, AdamW. The
// standardization statistics come from the fit tasks only (not the
// inner-validation ones), so the step-0 snapshot (≈ the mean checkpoint)
// has no advantage on the tasks that choose the snapshot. It reports the
// inner-validation and held-out MSE of the kept generator and of the mean
// checkpoint.
func trainGenerator(ctx context.Context, b compute.Backend, g *Generator, d genData, trainIdx, heldIdx []int, o genTrainOpts) (GenReport, error) {
	rep := GenReport{Decoder: meta.GenHC, Steps: o.Steps, HeldOutTasks: len(heldIdx),
		ValAccGen: -1, ValAccMean: -1, ValAccOracle: -1, HeldOutGenAcc: -1, HeldOutMeanAcc: -1}
	if len(trainIdx) == 0 {
		return rep, fmt.Errorf("degaml: no collected tasks to train the generator on")
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6e6))
	// Early stopping on inner-validation tasks: with a handful of tasks, an
	// MSE regressor can fit task-idiosyncratic weights that generalize worse
	// than the mean checkpoint, so the snapshot (step 0 included) with the
	// best inner-validation MSE is kept — and the report says which.
	fitIdx, innerIdx := hcSplit(trainIdx)
	if o.Weighting == "" {
		o.Weighting = "variance"
	}
	g.fitStats(d, fitIdx, o.Weighting, o.StdFloor)
	rep.Tasks, rep.ValTasks = len(fitIdx), len(innerIdx)
	pairsOf := func(idx []int) []genPair {
		var out []genPair
		for _, t := range idx {
			for k := range 4 {
				ck := (k*len(d.Ckpts[t]) + len(d.Ckpts[t]) - 1) / 4 // spread over the trajectory
				out = append(out, genPair{task: t, ckpt: min(ck, len(d.Ckpts[t])-1), idx: samplePromptBatch(rng, len(d.Emb[t]), g.P)})
			}
		}
		return out
	}
	inner := pairsOf(innerIdx)
	held := pairsOf(heldIdx)
	var err error
	if rep.ValMSEMean, err = g.pairMSE(b, d, inner, true); err != nil {
		return rep, err
	}
	if rep.HeldOutMSE0, err = g.pairMSE(b, d, held, true); err != nil {
		return rep, err
	}
	bestParams, bestStep := g.Params, 0
	bestInner, err := g.pairMSE(b, d, inner, false)
	if err != nil {
		return rep, err
	}
	trainIdx = fitIdx
	np := len(g.Params)
	adam := train.AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	step, err := NewExec(b, func(gr *Graph, in []*Node) []*Node {
		p, m, v := in[:np], in[np:2*np], in[2*np:3*np]
		e, y, lr, st, wd := in[3*np], in[3*np+1], in[3*np+2], in[3*np+3], in[3*np+4]
		loss := ReduceAllMean(Square(Sub(genForward(e, p, g.K), y)))
		grads, _ := train.ClipByGlobalNorm(Gradient(loss, p...), 1)
		nw, nm, nv := train.AdamUpdate(adam, lr, st, p, grads, m, v)
		for i := range nw {
			nw[i] = Sub(nw[i], Mul(Mul(lr, wd), p[i]))
		}
		return append(append(append(nw, nm...), nv...), loss)
	})
	if err != nil {
		return rep, err
	}
	m, v := kit.ZerosLike(g.Params), kit.ZerosLike(g.Params)
	B, n := o.Batch, g.N()
	e := make([]float32, B*g.P*g.H)
	y := make([]float32, B*n)
	var ema float64
	for s := range o.Steps {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		start := time.Now()
		for i := range B {
			t := trainIdx[rng.IntN(len(trainIdx))]
			ck := d.Ckpts[t][rng.IntN(len(d.Ckpts[t]))]
			g.standardize(d.Emb[t], samplePromptBatch(rng, len(d.Emb[t]), g.P), rng, o.Noise, e[i*g.P*g.H:(i+1)*g.P*g.H])
			for j := range n {
				y[i*n+j] = (ck[j] - g.OutMean[j]) / g.OutScale[j]
			}
		}
		args := kit.Anys(g.Params, m, v, []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(slices.Clone(e), B, g.P, g.H),
			tensors.FromFlatDataAndDimensions(slices.Clone(y), B, n),
			kit.F32(o.LR), kit.F32(float64(s + 1)), kit.F32(o.WD)})
		out, err := step.Call(args...)
		if err != nil {
			return rep, err
		}
		loss := kit.ScalarF(out[3*np])
		if !kit.Finite(loss) {
			continue // rejected step: keep the previous weights
		}
		g.Params, m, v = out[:np], out[np:2*np], out[2*np:3*np]
		if s == 0 {
			ema = loss
		}
		ema = 0.9*ema + 0.1*loss
		last := s == o.Steps-1
		if len(inner) > 0 && ((s+1)%25 == 0 || last) {
			h, err := g.pairMSE(b, d, inner, false)
			if err != nil {
				return rep, err
			}
			if h < bestInner {
				bestParams, bestStep, bestInner = g.Params, s+1, h
			}
		}
		if s%25 == 0 || last {
			ev := kit.StepEvent(o.method, "", "generator", s+1, o.Steps, o.LR, start)
			ev.Stage = "generator"
			ev.SupportLoss = events.F(ema)
			if len(inner) > 0 {
				ev.QueryLoss = events.F(bestInner)
			}
			o.publish(ev)
		}
	}
	if len(inner) > 0 {
		g.Params = bestParams
	} else {
		bestStep = o.Steps
	}
	if rep.HeldOutMSE, err = g.pairMSE(b, d, held, false); err != nil {
		return rep, err
	}
	rep.BestStep, rep.ValMSE, rep.TrainMSE = bestStep, bestInner, ema
	rep.CollapsedMean = bestStep == 0
	return rep, nil
}
