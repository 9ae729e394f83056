package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
)

// Generator is DeGAML's generalization module G: prompt embeddings [P,H] of a
// task's unlabeled prompts → every LoRA A/B tensor, in one forward pass.
//
// Decoder (a small, faithful variant of Drag-and-Drop's hyper-convolutional
// decoder): two 1-D convolutions over the prompt axis (kernel K, SAME
// padding, SiLU, residual on the second), mean- and max-pooling over the
// prompts, then a linear head that emits the flattened "token grid" of all
// LoRA tensors, reshaped into AdapterShapes. The head predicts standardized
// weights: θ = OutMean + OutScale ⊙ head(·), where OutMean is the mean
// collected checkpoint and OutScale a per-tensor spread (variance weighting).
type Generator struct {
	LoRA    models.LoRAConfig
	Names   []string // adapter tensor names, sorted (the token-grid order)
	Shapes  [][]int
	H, P, K int // embedding width, prompts per batch, kernel
	C       int // decoder channels

	EmbMean, EmbStd []float32 // per-feature standardization of prompt embeddings [H]
	OutMean         []float32 // [N]
	OutScale        []float32 // [N]

	// Params: W1 [K·H, C], b1 [C], W2 [K·C, C], b2 [C], Wh [2C, N], bh [N].
	Params []*tensors.Tensor

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
	g := &Generator{LoRA: lora, Names: names, Shapes: shapes, H: H, P: P, K: K, C: C,
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
	args := append([]any{tensors.FromFlatDataAndDimensions(e, B, g.P, g.H)}, anys(g.Params)...)
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

// Generate emits a LoRA adapter for a task from its prompt embeddings (one
// forward pass, no gradient step). The prompt batch is drawn with rng.
func (g *Generator) Generate(b compute.Backend, emb [][]float32, rng *rand.Rand) (*models.Adapter, error) {
	if len(emb) == 0 {
		return nil, fmt.Errorf("degaml: no prompts to generate an adapter from")
	}
	e := make([]float32, g.P*g.H)
	g.standardize(emb, samplePromptBatch(rng, len(emb), g.P), nil, 0, e)
	rows, err := g.predict(b, e, 1)
	if err != nil {
		return nil, err
	}
	return g.adapterFromFlat(rows[0]), nil
}

// GenReport summarizes generator training.
type GenReport struct {
	Steps         int
	TrainMSE      float64 // standardized MSE of the last steps
	HeldOutMSE0   float64 // held-out standardized MSE before training (≈ the mean-checkpoint predictor)
	HeldOutMSE    float64 // held-out standardized MSE after training
	HeldOutTasks  int
	HeldOutGenAcc float64 // mean validation accuracy of generated adapters on held-out tasks (-1: not measured)
	// Early stopping: the kept snapshot's step (0 = the untrained,
	// mean-checkpoint generator) and its inner-validation MSE.
	BestStep    int
	InnerValMSE float64
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

// fitStats sets the standardization of inputs and outputs from training tasks.
func (g *Generator) fitStats(d genData, trainIdx []int, weighting string) {
	H := g.H
	var cnt float64
	mean := make([]float64, H)
	sq := make([]float64, H)
	for _, t := range trainIdx {
		for _, e := range d.Emb[t] {
			for h := range H {
				mean[h] += float64(e[h])
				sq[h] += float64(e[h]) * float64(e[h])
			}
			cnt++
		}
	}
	for h := range H {
		m := mean[h] / cnt
		v := sq[h]/cnt - m*m
		g.EmbMean[h] = float32(m)
		g.EmbStd[h] = float32(math.Sqrt(max(v, 1e-8)))
	}
	n := g.N()
	om := make([]float64, n)
	var c float64
	for _, t := range trainIdx {
		for _, ck := range d.Ckpts[t] {
			for j, v := range ck {
				om[j] += float64(v)
			}
			c++
		}
	}
	for j := range om {
		g.OutMean[j] = float32(om[j] / c)
	}
	for j := range g.OutScale {
		g.OutScale[j] = 1
	}
	if weighting != "variance" {
		return
	}
	// One scale per tensor (a LoRA "layer"): its RMS spread around the mean
	// checkpoint. The MSE in standardized units weights every tensor by the
	// inverse of its variance, so the small B matrices count as much as A.
	off := 0
	for _, s := range g.Shapes {
		size := s[0] * s[1]
		var ss float64
		var k float64
		for _, t := range trainIdx {
			for _, ck := range d.Ckpts[t] {
				for j := off; j < off+size; j++ {
					dv := float64(ck[j]) - om[j]/c
					ss += dv * dv
					k++
				}
			}
		}
		sd := float32(math.Sqrt(ss/max(k, 1)) + 1e-8)
		for j := off; j < off+size; j++ {
			g.OutScale[j] = sd
		}
		off += size
	}
}

// heldOutMSE is the standardized MSE of the generator on fixed pairs.
func (g *Generator) heldOutMSE(b compute.Backend, d genData, pairs []genPair) (float64, error) {
	if len(pairs) == 0 {
		return 0, nil
	}
	var tot float64
	n := g.N()
	e := make([]float32, g.P*g.H)
	for _, pr := range pairs {
		g.standardize(d.Emb[pr.task], pr.idx, nil, 0, e)
		rows, err := g.predict(b, e, 1)
		if err != nil {
			return 0, err
		}
		ck := d.Ckpts[pr.task][pr.ckpt]
		for j := range n {
			dv := float64(rows[0][j]-ck[j]) / float64(g.OutScale[j])
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
	Seed         int64
	method       string
	publish      func(events.Event)
}

// trainGenerator fits g by MSE between generated and collected weights on
// sampled (prompt batch, checkpoint) pairs of trainIdx tasks, AdamW, and
// reports the held-out MSE on heldIdx tasks before and after.
func trainGenerator(ctx context.Context, b compute.Backend, g *Generator, d genData, trainIdx, heldIdx []int, o genTrainOpts) (GenReport, error) {
	rep := GenReport{Steps: o.Steps, HeldOutTasks: len(heldIdx), HeldOutGenAcc: -1}
	if len(trainIdx) == 0 {
		return rep, fmt.Errorf("degaml: no collected tasks to train the generator on")
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6e6))
	// Early stopping on inner-validation tasks (every 4th training task):
	// with a handful of tasks, an MSE regressor can fit task-idiosyncratic
	// weights that generalize worse than the mean checkpoint, so the
	// snapshot (step 0 included) with the best inner-validation MSE is kept.
	// The held-out tasks stay untouched for the report.
	var fitIdx, innerIdx []int
	for i, t := range trainIdx {
		if len(trainIdx) >= 4 && i%4 == 3 {
			innerIdx = append(innerIdx, t)
		} else {
			fitIdx = append(fitIdx, t)
		}
	}
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
	bestParams, bestStep := g.Params, 0
	bestInner, err := g.heldOutMSE(b, d, inner)
	if err != nil {
		return rep, err
	}
	trainIdx = fitIdx
	held := pairsOf(heldIdx)
	if rep.HeldOutMSE0, err = g.heldOutMSE(b, d, held); err != nil {
		return rep, err
	}
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
	m, v := zerosLike(g.Params), zerosLike(g.Params)
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
		args := anys(g.Params, m, v, []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(slices.Clone(e), B, g.P, g.H),
			tensors.FromFlatDataAndDimensions(slices.Clone(y), B, n),
			f32(o.LR), f32(float64(s + 1)), f32(o.WD)})
		out, err := step.Call(args...)
		if err != nil {
			return rep, err
		}
		loss := scalarF(out[3*np])
		if !finite(loss) {
			continue // rejected step: keep the previous weights
		}
		g.Params, m, v = out[:np], out[np:2*np], out[2*np:3*np]
		if s == 0 {
			ema = loss
		}
		ema = 0.9*ema + 0.1*loss
		last := s == o.Steps-1
		if len(inner) > 0 && ((s+1)%25 == 0 || last) {
			h, err := g.heldOutMSE(b, d, inner)
			if err != nil {
				return rep, err
			}
			if h < bestInner {
				bestParams, bestStep, bestInner = g.Params, s+1, h
			}
		}
		if s%25 == 0 || last {
			ev := stepEvent(o.method, "", "generator", s+1, o.Steps, o.LR, start)
			ev.Stage = "generator"
			ev.SupportLoss = events.F(ema)
			if last || s%100 == 0 {
				h, err := g.heldOutMSE(b, d, held)
				if err != nil {
					return rep, err
				}
				if len(held) > 0 {
					ev.QueryLoss = events.F(h)
				}
				rep.HeldOutMSE = h
			}
			o.publish(ev)
		}
	}
	if len(inner) > 0 {
		g.Params = bestParams
		if rep.HeldOutMSE, err = g.heldOutMSE(b, d, held); err != nil {
			return rep, err
		}
	}
	rep.BestStep, rep.InnerValMSE = bestStep, bestInner
	rep.TrainMSE = ema
	return rep, nil
}
