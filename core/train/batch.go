package train

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

// DefaultBucket is the sequence-length bucket of pretraining, scoring and the plain LoRA baselines: batches are
// padded to a multiple of it so an Exec sees few distinct shapes (its cache holds 32).
const DefaultBucket = 32

// BucketLen rounds n up to a multiple of bucket (at least one bucket).
func BucketLen(n, bucket int) int {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	if n <= 0 {
		return bucket
	}
	return (n + bucket - 1) / bucket * bucket
}

// Batch is a right-padded training batch: IDs and Targets int32 [B,T], Weights float32 [B,T] (1 where a
// target counts). Tokens is the number of real (unpadded) tokens, for throughput reports.
type Batch struct {
	IDs, Targets, Weights *tensors.Tensor
	B, T, Tokens          int
}

// MakeBatch pads seqs on the right to BucketLen(longest, bucket) (or exactly maxLen when maxLen > 0 and larger),
// and sets targets/weights with models.ShiftTargets: the loss counts targets from lossFrom[i] on (nil lossFrom =
// every predictable position); padding never counts. Sequences longer than maxLen (> 0) are an error.
func MakeBatch(seqs [][]int32, lossFrom []int, bucket, maxLen int) (*Batch, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("train: empty batch")
	}
	if lossFrom == nil {
		lossFrom = make([]int, len(seqs))
		for i := range lossFrom {
			lossFrom[i] = 1
		}
	}
	if len(lossFrom) != len(seqs) {
		return nil, fmt.Errorf("train: %d lossFrom for %d sequences", len(lossFrom), len(seqs))
	}
	longest, tokens := 0, 0
	for i, s := range seqs {
		if len(s) == 0 {
			return nil, fmt.Errorf("train: sequence %d is empty", i)
		}
		if maxLen > 0 && len(s) > maxLen {
			return nil, fmt.Errorf("train: sequence %d has %d tokens, more than the context %d", i, len(s), maxLen)
		}
		longest = max(longest, len(s))
		tokens += len(s)
	}
	T := BucketLen(longest, bucket)
	if maxLen > 0 && T > maxLen {
		T = maxLen
	}
	// ShiftTargets sees the unpadded sequences, so padding can never be mistaken for a target.
	tg, wt := models.ShiftTargets(seqs, lossFrom)
	B := len(seqs)
	ids := make([]int32, B*T)
	targets := make([]int32, B*T)
	weights := make([]float32, B*T)
	for b, s := range seqs {
		copy(ids[b*T:], s)
		copy(targets[b*T:], tg[b])
		copy(weights[b*T:], wt[b])
	}
	return &Batch{
		IDs:     tensors.FromFlatDataAndDimensions(ids, B, T),
		Targets: tensors.FromFlatDataAndDimensions(targets, B, T),
		Weights: tensors.FromFlatDataAndDimensions(weights, B, T),
		B:       B, T: T, Tokens: tokens,
	}, nil
}

// AdaptBucket is the bucket of the adaptation and meta-learning batches (few, short examples): a finer bucket
// than DefaultBucket wastes less compute on padding. The bucket changes a loss at float32 round-off (the padded
// reductions group differently), so each exec family keeps the bucket its results were measured with.
const AdaptBucket = 16

// EncodeExamples tokenizes labelled examples in the workbench format (answerOnly: the loss counts the answer
// tokens only, else every predictable token) and batches them with MakeBatch. A sequence longer than keep
// tokens (keep <= 0 or above the context: the context) keeps its end, the answer cue and answer, and its loss
// start moves with it; lengths are padded to a multiple of bucket, capped at the context.
func EncodeExamples(tok tokenizer.Tokenizer, cfg models.Config, exs []tasks.Example, answerOnly bool, keep, bucket int) (*Batch, error) {
	if keep <= 0 || keep > cfg.MaxPositions {
		keep = cfg.MaxPositions
	}
	seqs, from := EncodeTrain(tok, exs, answerOnly)
	for i, s := range seqs {
		if len(s) > keep {
			cut := len(s) - keep
			seqs[i], from[i] = s[cut:], max(1, from[i]-cut)
		}
	}
	return MakeBatch(seqs, from, bucket, cfg.MaxPositions)
}

// Tensors are b's exec inputs in BatchNodes order: ids, targets, weights.
func (b *Batch) Tensors() []*tensors.Tensor { return []*tensors.Tensor{b.IDs, b.Targets, b.Weights} }

// PadTo right-pads b to length T >= b.T (padding never counts), so the batches of several tasks can share one
// exec input shape.
func (b *Batch) PadTo(T int) *Batch {
	if T == b.T {
		return b
	}
	grow := func(src *tensors.Tensor) *tensors.Tensor {
		if src.DType() == dtypes.Float32 {
			return tensors.FromFlatDataAndDimensions(padRows(tensors.MustCopyFlatData[float32](src), b.B, b.T, T), b.B, T)
		}
		return tensors.FromFlatDataAndDimensions(padRows(tensors.MustCopyFlatData[int32](src), b.B, b.T, T), b.B, T)
	}
	return &Batch{IDs: grow(b.IDs), Targets: grow(b.Targets), Weights: grow(b.Weights), B: b.B, T: T, Tokens: b.Tokens}
}

func padRows[E int32 | float32](d []E, rows, cur, T int) []E {
	out := make([]E, rows*T)
	for i := range rows {
		copy(out[i*T:i*T+cur], d[i*cur:(i+1)*cur])
	}
	return out
}

// BatchNodes are a Batch as graph nodes: ids and targets int32 [B,T], weights float32 [B,T].
type BatchNodes struct{ IDs, Targets, Weights *Node }

// BindBatch reads the three nodes of a batch from graph inputs in Tensors order.
func BindBatch(in []*Node) BatchNodes { return BatchNodes{in[0], in[1], in[2]} }

// LMLoss is the mean causal-LM loss of the base weights with an adapter (nil adapter: the base model alone)
// and an optional SLOT δ added to the final hidden state (nil: none).
func LMLoss(cfg models.Config, lora models.LoRAConfig, base, adapter models.Weights, delta *Node, b BatchNodes) *Node {
	opt := models.ForwardOptions{HiddenDelta: delta}
	if adapter != nil {
		l := lora
		opt.LoRA = &l
		opt.Adapter = adapter
	}
	return models.CausalLMLoss(models.Forward(cfg, base, b.IDs, opt), b.Targets, b.Weights)
}
