package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// This file holds DeGAML's adaptation families as reusable operations (TTT,
// SLOT, TTS, mixing) and the compiled graphs they share with checkpoint
// collection (dgRuntime). Each operation streams one events.Step per step.

// dgRuntime holds the execs DeGAML runs against one frozen base model and
// LoRA shape. Execs cache one compiled graph per input shape, so batches are
// padded to length buckets (seqBucket) and fixed batch sizes.
type dgRuntime struct {
	env       *Env
	cfg       models.Config
	lora      models.LoRAConfig
	baseNames []string
	base      []*tensors.Tensor
	adNames   []string

	loraStep, slotStep, lossExec, embedExec *Exec
}

func newDGRuntime(env *Env) (*dgRuntime, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	r := &dgRuntime{env: env, cfg: env.Model.Config, lora: env.LoRA}
	r.baseNames = env.Model.Params.Names()
	r.base = env.Model.Params.Tensors()
	r.adNames = sortedShapeNames(models.AdapterShapes(r.cfg, r.lora))
	nb, na := len(r.baseNames), len(r.adNames)
	lora := r.lora
	fwdOpt := func(ad []*Node, delta *Node) models.ForwardOptions {
		return models.ForwardOptions{LoRA: &lora, Adapter: models.Bind(r.adNames, ad), HiddenDelta: delta}
	}
	adam := train.AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	// adamW applies one clipped Adam step plus decoupled weight decay; wd is
	// an input so collection (wd 0) and TTT (wd 0.01) share one graph.
	adamW := func(params, grads, m, v []*Node, lr, step, wd *Node) ([]*Node, []*Node, []*Node) {
		grads, _ = train.ClipByGlobalNorm(grads, 1)
		np, nm, nv := train.AdamUpdate(adam, lr, step, params, grads, m, v)
		for i := range np {
			np[i] = Sub(np[i], Mul(Mul(lr, wd), params[i]))
		}
		return np, nm, nv
	}
	var err error
	// loraStep: base…, A/B…, m…, v…, ids, targets, weights, lr, step, wd → A/B…, m…, v…, loss.
	r.loraStep, err = NewExec(env.Backend, func(g *Graph, in []*Node) []*Node {
		base := models.Bind(r.baseNames, in[:nb])
		ad := in[nb : nb+na]
		m, v := in[nb+na:nb+2*na], in[nb+2*na:nb+3*na]
		k := nb + 3*na
		ids, tg, w, lr, step, wd := in[k], in[k+1], in[k+2], in[k+3], in[k+4], in[k+5]
		loss := models.CausalLMLoss(models.Forward(r.cfg, base, ids, fwdOpt(ad, nil)), tg, w)
		grads := Gradient(loss, ad...)
		np, nm, nv := adamW(ad, grads, m, v, lr, step, wd)
		out := append(append(append(np, nm...), nv...), loss)
		return out
	})
	if err != nil {
		return nil, err
	}
	// slotStep: base…, A/B…, δ, m, v, ids, targets, weights, lr, step, wd → δ, m, v, loss.
	r.slotStep, err = NewExec(env.Backend, func(g *Graph, in []*Node) []*Node {
		base := models.Bind(r.baseNames, in[:nb])
		ad := in[nb : nb+na]
		k := nb + na
		delta, m, v := in[k], in[k+1], in[k+2]
		ids, tg, w, lr, step, wd := in[k+3], in[k+4], in[k+5], in[k+6], in[k+7], in[k+8]
		loss := models.CausalLMLoss(models.Forward(r.cfg, base, ids, fwdOpt(ad, delta)), tg, w)
		grads := Gradient(loss, delta)
		np, nm, nv := adamW([]*Node{delta}, grads, []*Node{m}, []*Node{v}, lr, step, wd)
		return []*Node{np[0], nm[0], nv[0], loss}
	})
	if err != nil {
		return nil, err
	}
	// lossExec: base…, A/B…, δ, ids, targets, weights → loss.
	r.lossExec, err = NewExec(env.Backend, func(g *Graph, in []*Node) []*Node {
		base := models.Bind(r.baseNames, in[:nb])
		ad := in[nb : nb+na]
		k := nb + na
		loss := models.CausalLMLoss(models.Forward(r.cfg, base, in[k+1], fwdOpt(ad, in[k])), in[k+2], in[k+3])
		return []*Node{loss}
	})
	if err != nil {
		return nil, err
	}
	// embedExec: base…, ids, mask → mean of the frozen model's final hidden
	// states over the real tokens, [B,H] (the prompt encoder).
	r.embedExec, err = NewExec(env.Backend, func(g *Graph, in []*Node) []*Node {
		base := models.Bind(r.baseNames, in[:nb])
		ids, mask := in[nb], in[nb+1]
		h := models.Hidden(r.cfg, base, ids, models.ForwardOptions{})
		m := InsertAxes(mask, -1)
		sum := ReduceSum(Mul(h, m), 1)
		n := MaxScalar(ReduceSum(m, 1), 1)
		return []*Node{Div(sum, n)}
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func sortedShapeNames(s map[string][]int) []string {
	p := make(models.Params, len(s))
	for n := range s {
		p[n] = nil
	}
	return p.Names()
}

func (r *dgRuntime) adapterTensors(a *models.Adapter) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(r.adNames))
	for i, n := range r.adNames {
		out[i] = a.Params[n]
	}
	return out
}

func zerosLike(ts []*tensors.Tensor) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(ts))
	for i, t := range ts {
		out[i] = tensors.FromShape(t.Shape())
	}
	return out
}

func f32(x float64) *tensors.Tensor { return tensors.FromScalar(float32(x)) }

func anys(groups ...[]*tensors.Tensor) []any {
	var out []any
	for _, g := range groups {
		for _, t := range g {
			out = append(out, t)
		}
	}
	return out
}

// maxSeq is the longest token sequence the runtime feeds the model.
func (r *dgRuntime) maxSeq(limit int) int {
	if limit <= 0 || limit > r.cfg.MaxPositions {
		return r.cfg.MaxPositions
	}
	return limit
}

// clipSeqs keeps at most n tokens of each sequence, dropping from the left
// (the end carries the answer cue and, when labelled, the answer), and moves
// lossFrom accordingly.
func clipSeqs(seqs [][]int32, lossFrom []int, n int) {
	for i, s := range seqs {
		if len(s) > n {
			cut := len(s) - n
			seqs[i] = s[cut:]
			lossFrom[i] = max(1, lossFrom[i]-cut)
		}
	}
}

// unlabeled strips answers: TTT and SLOT must never see labels.
func unlabeled(exs []tasks.Example) []tasks.Example {
	out := make([]tasks.Example, len(exs))
	for i, e := range exs {
		e.Answer = -1
		e.Target = ""
		out[i] = e
	}
	return out
}

// lmBatchOf builds a whole-text LM batch of the examples' scored prefixes
// (train.Format without the answer), or an answer-only batch when answerOnly.
func (r *dgRuntime) lmBatchOf(exs []tasks.Example, answerOnly bool, maxTokens int) lmBatch {
	if !answerOnly {
		exs = unlabeled(exs)
	}
	seqs, from := train.EncodeTrain(r.env.Model.Tokenizer, exs, answerOnly)
	clipSeqs(seqs, from, r.maxSeq(maxTokens))
	b := newLMBatch(seqs, from, 0)
	if L := b.batchLen(); L > r.cfg.MaxPositions {
		// The bucket rounding may overshoot the context; re-pad exactly.
		b = newLMBatchExact(seqs, from, r.cfg.MaxPositions)
	}
	return b
}

// newLMBatchExact is newLMBatch without bucket rounding (length exactly L).
func newLMBatchExact(seqs [][]int32, lossFrom []int, L int) lmBatch {
	B := len(seqs)
	ids := make([]int32, B*L)
	tg := make([]int32, B*L)
	w := make([]float32, B*L)
	n := 0
	for b, s := range seqs {
		copy(ids[b*L:], s)
		for t := 0; t+1 < len(s); t++ {
			tg[b*L+t] = s[t+1]
			if t+1 >= lossFrom[b] {
				w[b*L+t] = 1
				n++
			}
		}
	}
	return lmBatch{IDs: tensors.FromFlatDataAndDimensions(ids, B, L), Targets: tensors.FromFlatDataAndDimensions(tg, B, L),
		Weights: tensors.FromFlatDataAndDimensions(w, B, L), Tokens: n}
}

// loraTrainer runs Adam(W) steps on one adapter.
type loraTrainer struct {
	r        *dgRuntime
	cfg      models.LoRAConfig // the starting adapter's (a delta-mixed adapter has rank 2r, same scale)
	ad, m, v []*tensors.Tensor
	step     int
}

func (r *dgRuntime) newLoRATrainer(a *models.Adapter) *loraTrainer {
	c := a.Clone()
	ad := r.adapterTensors(c)
	return &loraTrainer{r: r, cfg: c.Config, ad: ad, m: zerosLike(ad), v: zerosLike(ad)}
}

// Step takes one optimizer step on batch b and returns the pre-step loss. A
// non-finite loss leaves the adapter unchanged (the step is rejected).
func (t *loraTrainer) Step(b lmBatch, lr, wd float64) (float64, error) {
	args := anys(t.r.base, t.ad, t.m, t.v, b.tensors(), []*tensors.Tensor{f32(lr), f32(float64(t.step + 1)), f32(wd)})
	out, err := t.r.loraStep.Call(args...)
	if err != nil {
		return 0, err
	}
	na := len(t.ad)
	loss := scalarF(out[3*na])
	if !finite(loss) {
		return loss, nil
	}
	t.step++
	t.ad, t.m, t.v = out[:na], out[na:2*na], out[2*na:3*na]
	return loss, nil
}

// Adapter returns the current weights as an adapter.
func (t *loraTrainer) Adapter() *models.Adapter {
	l := t.cfg
	p := make(models.Params, len(t.ad))
	for i, n := range t.r.adNames {
		p[n] = t.ad[i]
	}
	return &models.Adapter{Config: l, Params: p}
}

// LMLoss is the mean LM loss of batch b under adapter a and SLOT δ (nil: 0).
func (r *dgRuntime) LMLoss(a *models.Adapter, delta []float32, b lmBatch) (float64, error) {
	if delta == nil {
		delta = make([]float32, r.cfg.HiddenSize)
	}
	args := anys(r.base, r.adapterTensors(a), []*tensors.Tensor{tensors.FromFlatDataAndDimensions(delta, len(delta))}, b.tensors())
	out, err := r.lossExec.Call(args...)
	if err != nil {
		return 0, err
	}
	return scalarF(out[0]), nil
}

// famCtx is what a family operation reports to: the method/task labels and
// the event sink.
type famCtx struct {
	method, task string
	publish      func(events.Event)
}

// TTT fine-tunes a (typically generated) adapter with the causal-LM loss on
// the task's unlabeled prompts: AdamW, steps × batch sampled with the seed.
// Answers are stripped before tokenization, so labels can never leak.
func (r *dgRuntime) TTT(ctx context.Context, fc famCtx, a *models.Adapter, prompts []tasks.Example, steps, batch int, lr, wd float64, maxTokens int, seed int64) (*models.Adapter, error) {
	if len(prompts) == 0 || steps <= 0 {
		return a, nil
	}
	rng := newRNG(seed, 0x777)
	tr := r.newLoRATrainer(a)
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		b := r.lmBatchOf(sampleExamples(rng, prompts, batch), false, maxTokens)
		loss, err := tr.Step(b, lr, wd)
		if err != nil {
			return nil, err
		}
		ev := stepEvent(fc.method, fc.task, FamTTT, s+1, steps, lr, start)
		ev.SupportLoss = events.F(loss)
		if !finite(loss) {
			ev.SupportLoss = nil
			warn(r.env, fc.method, fc.task, fmt.Sprintf("ttt step %d: non-finite loss, step rejected", s+1))
		}
		fc.publish(ev)
	}
	return tr.Adapter(), nil
}

// SLOT fits one vector δ, added to the final hidden state at every position,
// by the LM loss on up to maxPrompts unlabeled prompts (one full batch, as
// the paper's "Question: …\nAnswer:" batch): AdamW (weight decay wd) from δ = 0.
func (r *dgRuntime) SLOT(ctx context.Context, fc famCtx, a *models.Adapter, prompts []tasks.Example, steps int, lr, wd float64, maxPrompts, maxTokens int) ([]float32, error) {
	H := r.cfg.HiddenSize
	delta := tensors.FromFlatDataAndDimensions(make([]float32, H), H)
	m, v := tensors.FromShape(delta.Shape()), tensors.FromShape(delta.Shape())
	if len(prompts) > maxPrompts {
		prompts = prompts[:maxPrompts]
	}
	if len(prompts) == 0 || steps <= 0 {
		return make([]float32, H), nil
	}
	b := r.lmBatchOf(prompts, false, maxTokens)
	ad := r.adapterTensors(a)
	done := 0
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		args := anys(r.base, ad, []*tensors.Tensor{delta, m, v}, b.tensors(),
			[]*tensors.Tensor{f32(lr), f32(float64(done + 1)), f32(wd)})
		out, err := r.slotStep.Call(args...)
		if err != nil {
			return nil, err
		}
		loss := scalarF(out[3])
		ev := stepEvent(fc.method, fc.task, FamSLOT, s+1, steps, lr, start)
		if finite(loss) {
			delta, m, v = out[0], out[1], out[2]
			done++
			ev.SupportLoss = events.F(loss)
		} else {
			warn(r.env, fc.method, fc.task, fmt.Sprintf("slot step %d: non-finite loss, step rejected", s+1))
		}
		fc.publish(ev)
	}
	return tensors.MustCopyFlatData[float32](delta), nil
}

// Mixing variants (DeGAMLOptions.MixMode).
const (
	MixDelta   = "delta"
	MixFactors = "factors"
)

// SFT fine-tunes a (typically generated) adapter on the labelled support set
// with the answer-only loss: Adam, steps × batch sampled with the seed. It is
// the supervised family every baseline's budget is compared with.
func (r *dgRuntime) SFT(ctx context.Context, fc famCtx, a *models.Adapter, support []tasks.Example, steps, batch int, lr float64, maxTokens int, seed int64) (*models.Adapter, error) {
	support = labelled(support)
	if len(support) == 0 || steps <= 0 {
		return a, nil
	}
	rng := newRNG(seed, 0x5f7)
	tr := r.newLoRATrainer(a)
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		loss, err := tr.Step(r.lmBatchOf(sampleExamples(rng, support, batch), true, maxTokens), lr, 0)
		if err != nil {
			return nil, err
		}
		ev := stepEvent(fc.method, fc.task, FamSFT, s+1, steps, lr, start)
		if finite(loss) {
			ev.SupportLoss = events.F(loss)
		} else {
			warn(r.env, fc.method, fc.task, fmt.Sprintf("sft step %d: non-finite loss, step rejected", s+1))
		}
		fc.publish(ev)
	}
	return tr.Adapter(), nil
}

// MixDeltaAdapters interpolates the weight updates of two adapters exactly:
// ΔW = (1−λ)·B_a·A_a + λ·B_b·A_b, written as one adapter of rank r_a + r_b
// (A = [A_a; A_b], B = [(1−λ)B_a, λB_b]) whose alpha keeps the LoRA scale of
// a, so the forward pass computes exactly the mixed update. λ = 0 and 1
// return exact copies of the endpoints.
func MixDeltaAdapters(a, b *models.Adapter, lambda float64) *models.Adapter {
	switch lambda {
	case 0:
		return a.Clone()
	case 1:
		out := b.Clone()
		out.Config = a.Config
		return out
	}
	ra, rb := a.Config.Rank, b.Config.Rank
	cfg := a.Config
	cfg.Targets = append([]string(nil), a.Config.Targets...)
	cfg.Rank = ra + rb
	// Scale() = alpha/r (or alpha/√r with rsLoRA) must not change.
	if cfg.RSLoRA {
		cfg.Alpha = a.Config.Alpha * math.Sqrt(float64(ra+rb)/float64(ra))
	} else {
		cfg.Alpha = a.Config.Alpha * float64(ra+rb) / float64(ra)
	}
	// b's own scale relative to a's folds into its B half.
	rel := b.Config.Scale() / a.Config.Scale()
	p := make(models.Params, len(a.Params))
	for name, ta := range a.Params {
		tb := b.Params[name]
		da, db := ta.Shape().Dimensions, tb.Shape().Dimensions
		fa, fb := tensors.MustCopyFlatData[float32](ta), tensors.MustCopyFlatData[float32](tb)
		if strings.HasSuffix(name, ".lora_A") { // [r, in]: stack rows
			p[name] = tensors.FromFlatDataAndDimensions(append(fa, fb...), da[0]+db[0], da[1])
			continue
		}
		// lora_B [out, r]: concatenate columns, weighted.
		out, ca, cb := da[0], da[1], db[1]
		m := make([]float32, out*(ca+cb))
		for i := range out {
			for j := range ca {
				m[i*(ca+cb)+j] = float32(1-lambda) * fa[i*ca+j]
			}
			for j := range cb {
				m[i*(ca+cb)+ca+j] = float32(lambda*rel) * fb[i*cb+j]
			}
		}
		p[name] = tensors.FromFlatDataAndDimensions(m, out, ca+cb)
	}
	return &models.Adapter{Config: cfg, Params: p}
}

// MixAdapters interpolates two adapters factor-wise: (1−λ)·a + λ·b for A
// and B separately (the "factors" variant: the product is not the
// interpolated update). λ = 0 and λ = 1 return exact copies of the endpoints
// (no float round-off), so a mixing hypothesis at the grid's ends is exactly
// a generated adapter.
func MixAdapters(a, b *models.Adapter, lambda float64) *models.Adapter {
	switch lambda {
	case 0:
		return a.Clone()
	case 1:
		out := b.Clone()
		out.Config = a.Config
		return out
	}
	return models.Mix(a, b, lambda)
}

// Vote rules of a TTS ensemble.
const (
	VoteMajority = "majority"
	VoteMaxConf  = "maxconf"
)

// CombineVotes merges the option probabilities of an ensemble (members[m][i]
// = member m's probabilities on item i) into one distribution per item.
// "majority": each member votes for its arg-max; the result is the vote share
// (ties broken by the summed probabilities, so the arg-max is well defined).
// "maxconf": the item takes the distribution of its most confident member.
func CombineVotes(members [][][]float64, vote string) [][]float64 {
	if len(members) == 0 {
		return nil
	}
	n := len(members[0])
	out := make([][]float64, n)
	for i := range n {
		k := len(members[0][i])
		switch vote {
		case VoteMaxConf:
			best, bestConf := 0, -1.0
			for m := range members {
				if c := maxOf(members[m][i]); c > bestConf {
					best, bestConf = m, c
				}
			}
			out[i] = append([]float64(nil), members[best][i]...)
		default:
			votes := make([]float64, k)
			sum := make([]float64, k)
			for m := range members {
				votes[argmaxF(members[m][i])]++
				for j, p := range members[m][i] {
					sum[j] += p
				}
			}
			// A tiny share of the summed probability breaks ties without
			// ever overturning a vote difference.
			var tot float64
			for j := range votes {
				votes[j] += 1e-6 * sum[j] / float64(len(members))
				tot += votes[j]
			}
			for j := range votes {
				votes[j] /= tot
			}
			out[i] = votes
		}
	}
	return out
}

func argmaxF(p []float64) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}

func maxOf(p []float64) float64 {
	m := math.Inf(-1)
	for _, v := range p {
		m = math.Max(m, v)
	}
	return m
}

// accuracyOf is the arg-max accuracy of probs against exs' answers.
func accuracyOf(probs [][]float64, exs []tasks.Example) float64 {
	if len(exs) == 0 {
		return 0
	}
	c := 0
	for i, e := range exs {
		if i < len(probs) && len(probs[i]) > 0 && argmaxF(probs[i]) == e.Answer {
			c++
		}
	}
	return float64(c) / float64(len(exs))
}

// confidenceStats returns the mean max-probability and the mean normalized
// entropy (entropy / log #options) of option distributions: label-free
// features of how sure an adapter is on a task.
func confidenceStats(probs [][]float64) (conf, ent float64) {
	n := 0
	for _, p := range probs {
		if len(p) < 2 {
			continue
		}
		conf += maxOf(p)
		var h float64
		for _, q := range p {
			if q > 0 {
				h -= q * math.Log(q)
			}
		}
		ent += h / math.Log(float64(len(p)))
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return conf / float64(n), ent / float64(n)
}

// shuffledCopy returns exs in a random order.
func shuffledCopy(rng *rand.Rand, exs []tasks.Example) []tasks.Example {
	out := append([]tasks.Example(nil), exs...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
