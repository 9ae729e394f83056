package degaml

import (
	"context"
	"maps"
	"math"
	"strings"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

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

// dgRuntime holds what DeGAML runs against one frozen base model and LoRA
// shape: core/train's LoRA and δ steps and loss, and the prompt encoder's
// exec. Execs cache one compiled graph per input shape, so batches are padded
// to length buckets (train.AdaptBucket) and fixed batch sizes.
type dgRuntime struct {
	env       *meta.Env
	cfg       models.Config
	lora      models.LoRAConfig
	baseNames []string
	base      []*tensors.Tensor
	adNames   []string

	loraStep, slotStep *train.Step
	loss               *train.Loss
	embedExec          *Exec
}

func newDGRuntime(env *meta.Env) (*dgRuntime, error) {
	if err := env.Check(); err != nil {
		return nil, err
	}
	r := &dgRuntime{env: env, cfg: env.Model.Config, lora: env.LoRA}
	r.baseNames = env.Model.Params.Names()
	r.base = env.Model.Params.Tensors()
	r.adNames = sortedShapeNames(models.AdapterShapes(r.cfg, r.lora))
	nb := len(r.baseNames)
	var err error
	// One step graph per trained thing; the weight decay is an input, so
	// collection (wd 0) and TTT (wd 0.01) share one graph.
	if r.loraStep, err = train.NewLoRAStep(env.Backend, r.cfg, r.lora, train.DefaultAdam()); err != nil {
		return nil, err
	}
	if r.slotStep, err = train.NewDeltaStep(env.Backend, r.cfg, r.lora, train.DefaultAdam()); err != nil {
		return nil, err
	}
	if r.loss, err = train.NewLoss(env.Backend, r.cfg, r.lora); err != nil {
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

// maxSeq is the longest token sequence the runtime feeds the model.
func (r *dgRuntime) maxSeq(limit int) int {
	if limit <= 0 || limit > r.cfg.MaxPositions {
		return r.cfg.MaxPositions
	}
	return limit
}

// lmBatchOf builds a whole-text LM batch of the examples' scored prefixes
// (train.Format without the answer), or an answer-only batch when answerOnly;
// each sequence keeps at most maxTokens tokens (0: the context).
func (r *dgRuntime) lmBatchOf(exs []tasks.Example, answerOnly bool, maxTokens int) *train.Batch {
	if !answerOnly {
		exs = kit.Unlabeled(exs)
	}
	return kit.MustBatch(train.EncodeExamples(r.env.Model.Tokenizer, r.cfg, exs, answerOnly, r.maxSeq(maxTokens), train.AdaptBucket))
}

// fitAdapter trains a copy of a with core/train's LoRA step and loop (its
// divergence policy included) and returns it; a keeps its LoRA config (a
// delta-mixed adapter has rank 2r and the same scale).
func (r *dgRuntime) fitAdapter(ctx context.Context, a *models.Adapter, loop train.LoopConfig) (*models.Adapter, error) {
	c := a.Clone()
	if _, err := train.Loop(ctx, r.loraStep, r.env.Model.Params, c.Params, train.NewAdamState(c.Params), loop); err != nil {
		return nil, err
	}
	return c, nil
}

// LMLoss is the mean LM loss of batch b under adapter a and SLOT δ (nil: 0).
func (r *dgRuntime) LMLoss(a *models.Adapter, delta []float32, b *train.Batch) (float64, error) {
	return r.loss.Of(r.env.Model.Params, a, delta, b)
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
	rng := kit.NewRNG(seed, 0x777)
	return r.fitAdapter(ctx, a, train.LoopConfig{Steps: steps, LR: lr, WeightDecay: wd,
		Method: fc.method, Task: fc.task, Phase: FamTTT, Publish: fc.publish,
		Batch: func(int) (*train.Batch, error) {
			return r.lmBatchOf(kit.SampleExamples(rng, prompts, batch), false, maxTokens), nil
		}})
}

// SLOT fits one vector δ, added to the final hidden state at every position,
// by the LM loss on up to maxPrompts unlabeled prompts (one full batch, as
// the paper's "Question: …\nAnswer:" batch): AdamW (weight decay wd) from δ = 0.
func (r *dgRuntime) SLOT(ctx context.Context, fc famCtx, a *models.Adapter, prompts []tasks.Example, steps int, lr, wd float64, maxPrompts, maxTokens int) ([]float32, error) {
	H := r.cfg.HiddenSize
	if len(prompts) > maxPrompts {
		prompts = prompts[:maxPrompts]
	}
	if len(prompts) == 0 || steps <= 0 {
		return make([]float32, H), nil
	}
	b := r.lmBatchOf(prompts, false, maxTokens)
	frozen := maps.Clone(r.env.Model.Params)
	maps.Copy(frozen, a.Params)
	delta := models.Params{train.DeltaName: tensors.FromFlatDataAndDimensions(make([]float32, H), H)}
	_, err := train.Loop(ctx, r.slotStep, frozen, delta, train.NewAdamState(delta), train.LoopConfig{
		Steps: steps, LR: lr, WeightDecay: wd, Method: fc.method, Task: fc.task, Phase: FamSLOT, Publish: fc.publish,
		Batch: func(int) (*train.Batch, error) { return b, nil }})
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](delta[train.DeltaName]), nil
}

// SFT fine-tunes a (typically generated) adapter on the labelled support set
// with the answer-only loss: Adam, steps × batch sampled with the seed. It is
// the supervised family every baseline's budget is compared with.
func (r *dgRuntime) SFT(ctx context.Context, fc famCtx, a *models.Adapter, support []tasks.Example, steps, batch int, lr float64, maxTokens int, seed int64) (*models.Adapter, error) {
	support = kit.Labelled(support)
	if len(support) == 0 || steps <= 0 {
		return a, nil
	}
	rng := kit.NewRNG(seed, 0x5f7)
	return r.fitAdapter(ctx, a, train.LoopConfig{Steps: steps, LR: lr,
		Method: fc.method, Task: fc.task, Phase: FamSFT, Publish: fc.publish,
		Batch: func(int) (*train.Batch, error) {
			return r.lmBatchOf(kit.SampleExamples(rng, support, batch), true, maxTokens), nil
		}})
}

// MixDeltaAdapters interpolates the weight updates of two adapters exactly:
// ΔW = (1−λ)·B_a·A_a + λ·B_b·A_b, written as one adapter of rank r_a + r_b
// (A = [A_a; A_b], B = [(1−λ)B_a, λB_b]) whose alpha keeps the LoRA scale of
// a, so the forward pass computes exactly the mixed update. λ = 0 and 1
// return exact copies of the endpoints.
func MixDeltaAdapters(a, b *models.Adapter, lambda float64) *models.Adapter {
	if out, ok := mixEndpoint(a, b, lambda); ok {
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

// mixEndpoint is an exact copy of a (λ = 0) or of b with a's config (λ = 1):
// no float round-off at the ends of a mixing grid.
func mixEndpoint(a, b *models.Adapter, lambda float64) (*models.Adapter, bool) {
	switch lambda {
	case 0:
		return a.Clone(), true
	case 1:
		out := b.Clone()
		out.Config = a.Config
		return out, true
	}
	return nil, false
}

// MixAdapters interpolates two adapters factor-wise: (1−λ)·a + λ·b for A
// and B separately (the "factors" variant: the product is not the
// interpolated update). λ = 0 and λ = 1 return exact copies of the endpoints
// (no float round-off), so a mixing hypothesis at the grid's ends is exactly
// a generated adapter.
func MixAdapters(a, b *models.Adapter, lambda float64) *models.Adapter {
	if out, ok := mixEndpoint(a, b, lambda); ok {
		return out
	}
	return models.Mix(a, b, lambda)
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
		conf += meta.MaxOf(p)
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
