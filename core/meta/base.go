package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// baseMethod is the frozen model: nothing to learn, nothing to adapt.
type baseMethod struct{}

func (baseMethod) Name() string { return Base }

func (baseMethod) MetaTrain(context.Context, *Env, []*tasks.Task) (Artifact, error) { return nil, nil }

func (baseMethod) LoadArtifact(string) (Artifact, error) { return nil, nil }

func (baseMethod) Adapt(ctx context.Context, env *Env, _ Artifact, task *tasks.Task, _ int64) (*Adapted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: Base, Task: task.Name, Message: "frozen base model, no adaptation"})
	return &Adapted{}, nil
}

// ---- helpers shared by the gradient-based methods (lora.go, maml.go, abmll.go) ----

// seqBucket is the padding granularity of token batches: execs are cached per
// input shape, so lengths are rounded up to a multiple of it.
const seqBucket = 16

// lmBatch is a right-padded token batch with its shifted targets and loss
// weights (1 where a target counts), built on the host so the loss graph
// needs no Slice (second-order gradients through Slice fail on the go backend).
type lmBatch struct {
	IDs, Targets *tensors.Tensor // int32 [B, L]
	Weights      *tensors.Tensor // float32 [B, L]
	Tokens       int             // counted targets
}

// newLMBatch pads seqs to a multiple of seqBucket (at least minLen). Target t
// is ids[t+1]; it counts when lossFrom[b] <= t+1 < len(seq). Padding ids are 0
// and never counted, which is exact with right padding and causal attention.
func newLMBatch(seqs [][]int32, lossFrom []int, minLen int) lmBatch {
	L := minLen
	for _, s := range seqs {
		L = max(L, len(s))
	}
	L = (L + seqBucket - 1) / seqBucket * seqBucket
	return newLMBatchExact(seqs, lossFrom, L)
}

// batchLen is the padded length of b.
func (b lmBatch) batchLen() int { return b.IDs.Shape().Dimensions[1] }

// tensors are b's exec inputs, in BatchNodes order.
func (b lmBatch) tensors() []*tensors.Tensor { return []*tensors.Tensor{b.IDs, b.Targets, b.Weights} }

// padTo right-pads b to length L >= its length (padding never counts), so the
// support and query batches of several tasks share one exec.
func (b lmBatch) padTo(L int) lmBatch {
	cur := b.batchLen()
	if cur == L {
		return b
	}
	B := b.IDs.Shape().Dimensions[0]
	grow := func(src *tensors.Tensor) *tensors.Tensor {
		if src.DType() == dtypes.Float32 {
			d := tensors.MustCopyFlatData[float32](src)
			out := make([]float32, B*L)
			for i := range B {
				copy(out[i*L:i*L+cur], d[i*cur:(i+1)*cur])
			}
			return tensors.FromFlatDataAndDimensions(out, B, L)
		}
		d := tensors.MustCopyFlatData[int32](src)
		out := make([]int32, B*L)
		for i := range B {
			copy(out[i*L:i*L+cur], d[i*cur:(i+1)*cur])
		}
		return tensors.FromFlatDataAndDimensions(out, B, L)
	}
	return lmBatch{IDs: grow(b.IDs), Targets: grow(b.Targets), Weights: grow(b.Weights), Tokens: b.Tokens}
}

// encodeBatch tokenizes labelled examples in the workbench format; answerOnly
// puts the loss on the answer tokens only ("X]"). Sequences longer than the
// context keep their end (the answer cue and answer).
func encodeBatch(env *Env, exs []tasks.Example, answerOnly bool) lmBatch {
	seqs, from := train.EncodeTrain(env.Model.Tokenizer, exs, answerOnly)
	n := env.Model.Config.MaxPositions
	for i, s := range seqs {
		if len(s) > n {
			cut := len(s) - n
			seqs[i] = s[cut:]
			from[i] = max(1, from[i]-cut)
		}
	}
	b := newLMBatch(seqs, from, 0)
	if b.batchLen() > n {
		b = newLMBatchExact(seqs, from, n)
	}
	return b
}

// BatchNodes are a token batch as graph nodes: ids and targets int32 [B,T], weights float32 [B,T].
type BatchNodes struct{ IDs, Targets, Weights *Node }

func bindBatch(in []*Node) BatchNodes { return BatchNodes{in[0], in[1], in[2]} }

// lmLoss is the mean causal-LM loss of the base model with an adapter (nil
// adapter: the base model alone).
func lmLoss(cfg models.Config, lora models.LoRAConfig, base, adapter models.Weights, b BatchNodes) *Node {
	opt := models.ForwardOptions{}
	if adapter != nil {
		l := lora
		opt.LoRA = &l
		opt.Adapter = adapter
	}
	logits := models.Forward(cfg, base, b.IDs, opt)
	return models.CausalLMLoss(logits, b.Targets, b.Weights)
}

// sampleExamples draws n examples from pool: a random permutation prefix when
// the pool is large enough, with replacement otherwise.
func sampleExamples(rng *rand.Rand, pool []tasks.Example, n int) []tasks.Example {
	out := make([]tasks.Example, n)
	if len(pool) >= n {
		perm := rng.Perm(len(pool))
		for i := range n {
			out[i] = pool[perm[i]]
		}
		return out
	}
	for i := range n {
		out[i] = pool[rng.IntN(len(pool))]
	}
	return out
}

// labelled keeps the examples with a known option answer (support/query
// batches need the answer for the answer-only loss).
func labelled(exs []tasks.Example) []tasks.Example {
	var out []tasks.Example
	for _, e := range exs {
		if e.Answer >= 0 && e.Answer < len(e.Options) {
			out = append(out, e)
		}
	}
	return out
}

// newRNG returns a deterministic generator for a (seed, stream) pair.
func newRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// stepEvent fills the fields every method reports on a Step.
func stepEvent(method, task, phase string, step, total int, lr float64, start time.Time) events.Event {
	return events.Event{Kind: events.Step, Method: method, Task: task, Phase: phase, Step: step, Total: total,
		LR: events.F(lr), MS: float64(time.Since(start).Microseconds()) / 1000}
}

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// scalarF reads a scalar tensor as float64 whatever its float dtype.
func scalarF(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("meta: scalar of unexpected type %T", t.Value()))
}

// warn publishes a Warning (e.g. a rejected non-finite step).
func warn(env *Env, method, task, msg string) {
	env.Publish(events.Event{Kind: events.Warning, Method: method, Task: task, Message: msg})
}

// checkEnv rejects an Env a method cannot run with.
func checkEnv(env *Env) error {
	if env == nil || env.Backend == nil || env.Model == nil {
		return fmt.Errorf("meta: env needs a backend and a model")
	}
	if env.Publish == nil {
		env.Publish = Discard
	}
	if env.LoRA.Rank <= 0 {
		return fmt.Errorf("meta: env.LoRA.Rank must be positive")
	}
	return nil
}
